# Learning Neural Network Subspaces (issue 6): one job per trained model (standard members, line, layerwise line,
# curve, simplexes), then one evaluation per seed and two figures over seeds.

from workflow.methods.subspace import paths as subspace_paths


rule subspace_train:
    input:
        data=lambda wc: data_manifest(wc.dataset),
    output:
        model="results/subspace/{dataset}/seed{seed}/models/{model}.pt",
        history="results/subspace/{dataset}/seed{seed}/models/{model}_history.csv",
    params:
        suite=subspace_paths.suite(config),
        method=stage_params("subspace", "model", "width", "beta", "label_noise", "noise_seed", "train"),
        compute=config["compute"],
    log:
        "logs/subspace_train/{dataset}/seed{seed}/{model}.log",
    benchmark:
        "benchmarks/rules/subspace_train/{dataset}/seed{seed}/{model}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    script:
        "../scripts/subspace_train.py"


rule subspace_eval:
    input:
        data=lambda wc: data_manifest(wc.dataset),
        models=lambda wc: subspace_paths.model_files(config, wc.dataset, wc.seed),
    output:
        curve="results/subspace/{dataset}/seed{seed}/alpha_curve.csv",
        simplex="results/subspace/{dataset}/seed{seed}/simplex.csv",
        summary="results/subspace/{dataset}/seed{seed}/summary.json",
    params:
        suite=subspace_paths.suite(config),
        method=stage_params("subspace", "model", "width", "alpha_points"),
        compute=config["compute"],
    log:
        "logs/subspace_eval/{dataset}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/subspace_eval/{dataset}/seed{seed}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),  # a BatchNorm pass over the training set per evaluated point: the GPU on paper.yaml
    script:
        "../scripts/subspace_eval.py"


rule subspace_alpha_figure:
    input:
        curves=lambda wc: subspace_paths.tables(config, wc.dataset, "alpha_curve.csv"),
    output:
        png=report(
            "results/figures/subspace/{dataset}_alpha.png",
            caption="../report/subspace_alpha.rst",
            category="Subspaces",
        ),
        pdf="results/figures/subspace/{dataset}_alpha.pdf",
    params:
        figure="alpha",
        title=lambda wc: f"subspaces, {wc.dataset}",
    log:
        "logs/subspace_alpha_figure/{dataset}.log",
    benchmark:
        "benchmarks/rules/subspace_alpha_figure/{dataset}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/subspace_plot.py"


rule subspace_simplex_figure:
    input:
        curves=lambda wc: subspace_paths.tables(config, wc.dataset, "alpha_curve.csv"),
        simplex=lambda wc: subspace_paths.tables(config, wc.dataset, "simplex.csv"),
    output:
        png=report(
            "results/figures/subspace/{dataset}_simplex.png",
            caption="../report/subspace_simplex.rst",
            category="Subspaces",
        ),
        pdf="results/figures/subspace/{dataset}_simplex.pdf",
    params:
        figure="simplex",
        title=lambda wc: f"simplex midpoints, {wc.dataset}",
    log:
        "logs/subspace_simplex_figure/{dataset}.log",
    benchmark:
        "benchmarks/rules/subspace_simplex_figure/{dataset}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/subspace_plot.py"


METHOD_TARGETS["subspace"] = lambda: expand(
    "results/subspace/{dataset}/seed{seed}/{table}", dataset=config["subspace"]["dataset"],
    seed=config["subspace"]["seeds"], table=["summary.json", "alpha_curve.csv", "simplex.csv"]) + expand(
    ["results/figures/subspace/{dataset}_alpha.png", "results/figures/subspace/{dataset}_simplex.png"],
    dataset=config["subspace"]["dataset"])
