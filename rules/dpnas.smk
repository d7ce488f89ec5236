# DP-NAS: search of random-weight encoders (deep priors) -> select 6 low / 6 middle / 6 top nets ->
# resample weights (hypothesis 2) and full training (hypothesis 3) -> hypotheses table -> export -> figures.
# Outputs under results/dpnas/<dataset>/seed<S>/; the dataset is config key dpnas.dataset.

DPNAS = "results/dpnas/{dataset}/seed{seed}"


rule dpnas_search:
    input:
        data=lambda wc: data_manifest(wc.dataset),
    output:
        buffer=f"{DPNAS}/replay_buffer.csv",
        qvalues=f"{DPNAS}/q_values.csv",
    params:
        method=stage_params("dpnas", "dataset", "val_fraction", "train_per_class", "space", "classifier", "search"),
        compute=config["compute"],
    log:
        "logs/dpnas_search/{dataset}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/dpnas_search/{dataset}/seed{seed}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(runtime=240),
    script:
        "../scripts/dpnas_search.py"


rule dpnas_select:
    input:
        buffer=f"{DPNAS}/replay_buffer.csv",
    output:
        f"{DPNAS}/chosen.csv",
    params:
        method=stage_params("dpnas", "hypotheses"),
    log:
        "logs/dpnas_select/{dataset}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/dpnas_select/{dataset}/seed{seed}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/dpnas_select.py"


rule dpnas_resample:
    input:
        data=lambda wc: data_manifest(wc.dataset),
        chosen=f"{DPNAS}/chosen.csv",
    output:
        f"{DPNAS}/resampled.csv",
    params:
        method=stage_params("dpnas", "dataset", "val_fraction", "train_per_class", "space", "classifier", "hypotheses"),
        kind="resampled",
        compute=config["compute"],
    log:
        "logs/dpnas_resample/{dataset}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/dpnas_resample/{dataset}/seed{seed}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(runtime=120),
    script:
        "../scripts/dpnas_hypothesis.py"


rule dpnas_full_train:
    input:
        data=lambda wc: data_manifest(wc.dataset),
        chosen=f"{DPNAS}/chosen.csv",
    output:
        f"{DPNAS}/full_trained.csv",
    params:
        method=stage_params("dpnas", "dataset", "val_fraction", "train_per_class", "space", "classifier", "hypotheses"),
        kind="full",
        compute=config["compute"],
    log:
        "logs/dpnas_full_train/{dataset}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/dpnas_full_train/{dataset}/seed{seed}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(runtime=240),
    script:
        "../scripts/dpnas_hypothesis.py"


rule dpnas_hypotheses:
    input:
        tables=[f"{DPNAS}/resampled.csv", f"{DPNAS}/full_trained.csv"],
        buffer=f"{DPNAS}/replay_buffer.csv",
    output:
        table=f"{DPNAS}/hypotheses.csv",
        summary=f"{DPNAS}/summary.json",
    params:
        method=config.get("dpnas", {}),  # recorded as the summary's provenance (config hash)
    log:
        "logs/dpnas_hypotheses/{dataset}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/dpnas_hypotheses/{dataset}/seed{seed}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/dpnas_collect.py"


rule dpnas_export:
    input:
        data=lambda wc: data_manifest(wc.dataset),
        chosen=f"{DPNAS}/chosen.csv",
    output:
        directory(f"{DPNAS}/export"),
    params:
        method=stage_params("dpnas", "dataset", "val_fraction", "train_per_class", "space", "classifier"),
        compute=config["compute"],
    log:
        "logs/dpnas_export/{dataset}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/dpnas_export/{dataset}/seed{seed}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(runtime=60),
    script:
        "../scripts/dpnas_export.py"


rule dpnas_reward_figure:
    input:
        f"{DPNAS}/replay_buffer.csv",
    output:
        png=report(
            "results/figures/dpnas/{dataset}_seed{seed}_rolling_reward.png",
            caption="../report/dpnas_rolling_reward.rst",
            category="DP-NAS",
        ),
        pdf="results/figures/dpnas/{dataset}_seed{seed}_rolling_reward.pdf",
    params:
        figure="reward",
        window=config.get("dpnas", {}).get("plot_window", 20),
        title=lambda wc: f"DP-NAS on {wc.dataset}, seed {wc.seed}",
    log:
        "logs/dpnas_reward_figure/{dataset}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/dpnas_reward_figure/{dataset}/seed{seed}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/dpnas_plot.py"


rule dpnas_hypotheses_figure:
    input:
        f"{DPNAS}/hypotheses.csv",
    output:
        png=report(
            "results/figures/dpnas/{dataset}_seed{seed}_hypotheses.png",
            caption="../report/dpnas_hypotheses.rst",
            category="DP-NAS",
        ),
        pdf="results/figures/dpnas/{dataset}_seed{seed}_hypotheses.pdf",
    params:
        figure="hypotheses",
        title=lambda wc: f"DP-NAS hypotheses 2 and 3, {wc.dataset}, seed {wc.seed}",
    log:
        "logs/dpnas_hypotheses_figure/{dataset}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/dpnas_hypotheses_figure/{dataset}/seed{seed}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/dpnas_plot.py"


METHOD_TARGETS["dpnas"] = lambda: expand(
    [
        f"{DPNAS}/summary.json",
        f"{DPNAS}/hypotheses.csv",
        f"{DPNAS}/q_values.csv",
        f"{DPNAS}/export",
        "results/figures/dpnas/{dataset}_seed{seed}_rolling_reward.png",
        "results/figures/dpnas/{dataset}_seed{seed}_hypotheses.png",
    ],
    dataset=config["dpnas"]["dataset"],
    seed=config["seeds"],
)
