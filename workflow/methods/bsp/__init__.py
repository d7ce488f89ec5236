"""Binary Superposition (BSP; Cheung et al. 2019, "Superposition of many models into one"), the lifelong baseline
of side-tuning's iCIFAR experiments that the other lifelong methods lacked.

One set of trunk weights W serves every task. Task k sees each conv / linear layer through a fixed random context
c_k in {-1, +1}, one entry per input unit (in_channels x kh x kw for a conv, in_features for a linear), so the
layer computes W (c_k * x), i.e. (W * c_k) x. The contexts are drawn from ``bsp.context_seed`` and never train;
the trunk trains on every task in turn (as plain fine-tuning does) and each task has its own head. Because the
contexts of two tasks are nearly orthogonal, the update made for task t moves what task k < t sees in a random
direction rather than along it: BSP should forget less than fine-tuning. BatchNorm keeps no running statistics
(as the original), so a network of one weight set serves every task's inputs in evaluation too.

Modules:

- :mod:`.network` the context layers and the network (a side-tuning ``TaskHeadsNet``: the shared trunk and
                  task t's head train on task t, in ``workflow.methods.sidetune.lifelong.run_sequence``).
- :mod:`.paths`   the files of its job and the config keys it reads, pure functions of the config (torch-free).
- :mod:`.claims`  its claim for the claims table (torch-free).

Importing this package imports no torch: the Snakefile imports ``.paths`` and the claims job ``.claims``.
"""
