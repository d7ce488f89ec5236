# Pre-Train Your Loss: pretrain on a source task -> fit a SWAG prior -> Bayesian transfer to a target task
# (one job per seed x N per class) -> collect per seed -> figure. Settings: config section `prior`.
# Paths: results/prior/<source suite>/source/ (pretrained network, prior files),
#        results/prior/<target suite>/seed<S>/{n<N>/runs.csv, transfer.csv, summary.json}.

from workflow.methods.prior import paths as prior_paths

PRIOR = config.get("prior", {})
PRIOR_SOURCE = prior_paths.SOURCE
PRIOR_FILES = list(prior_paths.FILES)


rule prior_pretrain:
    input:
        data=lambda wc: prior_paths.data(config, "source_suite"),
    output:
        model=f"{PRIOR_SOURCE}/pretrained.pt",
        result=f"{PRIOR_SOURCE}/pretrain.json",
        history=f"{PRIOR_SOURCE}/pretrain_history.csv",
    params:
        suite=lambda wc: suite_spec(wc.suite),
        method=stage_params("prior", "source_task", "source_seed", "model", "width", "pretrain"),
        compute=config["compute"],
    log:
        "logs/prior_pretrain/{suite}.log",
    benchmark:
        "benchmarks/rules/prior_pretrain/{suite}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    script:
        "../scripts/prior_pretrain.py"


rule prior_fit:
    input:
        data=lambda wc: prior_paths.data(config, "source_suite"),
        model=f"{PRIOR_SOURCE}/pretrained.pt",
    output:
        files=expand(f"{PRIOR_SOURCE}/prior_{{part}}.pt", part=PRIOR_FILES, allow_missing=True),
        manifest=f"{PRIOR_SOURCE}/prior_manifest.json",
        history=f"{PRIOR_SOURCE}/swag_history.csv",
    params:
        suite=lambda wc: suite_spec(wc.suite),
        method=stage_params("prior", "source_task", "source_seed", "model", "width", "swag"),
        compute=config["compute"],
    log:
        "logs/prior_fit/{suite}.log",
    benchmark:
        "benchmarks/rules/prior_fit/{suite}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    script:
        "../scripts/prior_fit.py"


rule prior_transfer:
    input:
        data=lambda wc: prior_paths.data(config, "target_suite"),
        prior=lambda wc: prior_paths.prior_files(config),
        manifest=lambda wc: f"{prior_paths.source_dir(config)}/prior_manifest.json",
    output:
        runs="results/prior/{suite}/seed{seed}/n{n}/runs.csv",
    params:
        suite=lambda wc: suite_spec(wc.suite),
        method=stage_params("prior", "target_task", "model", "width", "transfer"),
        compute=config["compute"],
    log:
        "logs/prior_transfer/{suite}/seed{seed}/n{n}.log",
    benchmark:
        "benchmarks/rules/prior_transfer/{suite}/seed{seed}/n{n}.tsv"
    wildcard_constraints:
        n=r"\d+",
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    script:
        "../scripts/prior_transfer.py"


rule prior_collect:
    input:
        lambda wc: prior_paths.transfer_runs(config, wc.suite, wc.seed),
    output:
        table="results/prior/{suite}/seed{seed}/transfer.csv",
        summary="results/prior/{suite}/seed{seed}/summary.json",
    params:
        method=PRIOR,  # recorded as the summary's provenance (config hash)
    log:
        "logs/prior_collect/{suite}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/prior_collect/{suite}/seed{seed}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/prior_collect.py"


rule prior_figure:
    input:
        lambda wc: prior_paths.transfer_tables(config, wc.suite),
    output:
        png=report(
            "results/figures/prior/{suite}_accuracy_vs_n.png",
            caption="../report/prior_accuracy_vs_n.rst",
            category="Prior",
        ),
        pdf="results/figures/prior/{suite}_accuracy_vs_n.pdf",
    params:
        title=lambda wc: f"Bayesian transfer, {wc.suite}",
    log:
        "logs/prior_figure/{suite}.log",
    benchmark:
        "benchmarks/rules/prior_figure/{suite}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/prior_figure.py"


METHOD_TARGETS["prior"] = lambda: expand(
    [
        "results/prior/{suite}/seed{seed}/transfer.csv",
        "results/prior/{suite}/seed{seed}/summary.json",
        "results/figures/prior/{suite}_accuracy_vs_n.png",
    ],
    suite=PRIOR["target_suite"],
    seed=PRIOR["seeds"],
)
