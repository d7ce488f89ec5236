"""CPG (Compacting, Picking and Growing; Hung et al., NeurIPS 2019) and PackNet, its no-picking ablation.

Modules: ``layers`` (sharable conv/linear with ownership and picking masks), ``network`` (the multi-task network,
per-task private state, growth, per-task inference views), ``pruning`` (cubic schedule, per-layer magnitude
pruning), ``hooks`` (what plugs into the shared Trainer), ``choose`` (status and level decisions), ``stages``
(grow, finetune, prune, retrain, evaluate), ``params`` (the config section and the goals), ``tables``
(torch-free: R from the eval.json files, for the collect job).
"""
