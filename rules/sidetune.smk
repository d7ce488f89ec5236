# Side-tuning for lifelong learning (issue 4) and the baselines it is compared with: independent, finetune,
# features, ewc, pnn. All six run on the suite `sidetune.suite` with the one schedule `sidetune.train`; the base
# is pretrained on `sidetune.source_suite`, a pool kept apart from the tasks.
#   base (pretrain) -> side (distil) -> cached base features -> one job per method -> figures

# The methods these rules train (sidetune, independent, finetune, features, ewc, pnn); the figures compare every
# lifelong method in the registry (LIFELONG_METHODS), also those with rules of their own.
SIDETUNE_RULE_METHODS = defined_in("rules/sidetune.smk")

from workflow.methods.sidetune import paths as sidetune_paths

SIDETUNE_SHARED = sidetune_paths.SHARED


def sidetune_config():
    return config["sidetune"]


def sidetune_source_manifest(wildcards):
    return sidetune_paths.source_manifest(config)


def sidetune_method_inputs(wildcards):
    return sidetune_paths.method_inputs(config, getattr(wildcards, "lmethod", "sidetune"), wildcards.suite,
                                        wildcards.seed)


def sidetune_compared(wildcards):
    return sidetune_paths.compared_tables(config, LIFELONG_METHODS, wildcards.suite)



rule sidetune_pretrain:
    input:
        source=sidetune_source_manifest,
        tasks=suite_manifest,
    output:
        base=f"{SIDETUNE_SHARED}/base.pt",
        info=f"{SIDETUNE_SHARED}/base.json",
        history=f"{SIDETUNE_SHARED}/base_history.csv",
    params:
        source=lambda wc: suite_spec(sidetune_config()["source_suite"]),
        suite=lambda wc: suite_spec(wc.suite),
        method=stage_params("sidetune", "base"),
        compute=config["compute"],
    log:
        "logs/sidetune_pretrain/{suite}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/sidetune_pretrain/{suite}/seed{seed}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    script:
        "../scripts/sidetune_pretrain.py"


rule sidetune_distil:
    input:
        source=sidetune_source_manifest,
        base=f"{SIDETUNE_SHARED}/base.pt",
    output:
        side=f"{SIDETUNE_SHARED}/side.pt",
        info=f"{SIDETUNE_SHARED}/side.json",
        history=f"{SIDETUNE_SHARED}/side_history.csv",
    params:
        source=lambda wc: suite_spec(sidetune_config()["source_suite"]),
        method=stage_params("sidetune", "side"),
        compute=config["compute"],
    log:
        "logs/sidetune_distil/{suite}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/sidetune_distil/{suite}/seed{seed}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    script:
        "../scripts/sidetune_distil.py"


rule sidetune_cache:
    input:
        data=suite_manifest,
        base=f"{SIDETUNE_SHARED}/base.pt",
    output:
        f"{SIDETUNE_SHARED}/base_features.pt",
    params:
        suite=lambda wc: suite_spec(wc.suite),
        compute=config["compute"],
    log:
        "logs/sidetune_cache/{suite}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/sidetune_cache/{suite}/seed{seed}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    script:
        "../scripts/sidetune_cache.py"


# Side-tuning itself (it also writes the learned alphas).
rule sidetune_train:
    input:
        unpack(sidetune_method_inputs),
    output:
        accuracy="results/sidetune/{suite}/seed{seed}/accuracy.csv",
        summary="results/sidetune/{suite}/seed{seed}/summary.json",
        model="results/sidetune/{suite}/seed{seed}/model.pt",
        history="results/sidetune/{suite}/seed{seed}/history.csv",
        alphas="results/sidetune/{suite}/seed{seed}/alphas.csv",
    params:
        suite=lambda wc: suite_spec(wc.suite),
        lmethod="sidetune",  # the lifelong method the stage runs (workflow.methods.sidetune.SIDETUNE_METHODS)
        method=stage_params("sidetune", *sidetune_paths.method_keys("sidetune")),
        compute=config["compute"],
    log:
        "logs/sidetune_train/{suite}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/sidetune_train/{suite}/seed{seed}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    script:
        "../scripts/sidetune_train.py"


# The baselines, on the same suite, schedule, base and side.
rule sidetune_baseline_train:
    input:
        unpack(sidetune_method_inputs),
    output:
        accuracy="results/{lmethod}/{suite}/seed{seed}/accuracy.csv",
        summary="results/{lmethod}/{suite}/seed{seed}/summary.json",
        model="results/{lmethod}/{suite}/seed{seed}/model.pt",
        history="results/{lmethod}/{suite}/seed{seed}/history.csv",
    wildcard_constraints:
        lmethod="|".join(m for m in SIDETUNE_RULE_METHODS if m != "sidetune"),
    params:
        suite=lambda wc: suite_spec(wc.suite),
        lmethod=lambda wc: wc.lmethod,
        method=lambda wc: stage_params("sidetune", *sidetune_paths.method_keys(wc.lmethod))(wc),
        compute=config["compute"],
    log:
        "logs/sidetune_baseline_train/{lmethod}/{suite}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/sidetune_baseline_train/{lmethod}/{suite}/seed{seed}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    script:
        "../scripts/sidetune_train.py"


rule sidetune_figure_final:
    input:
        sidetune_compared,
    output:
        png=report(
            "results/figures/sidetune/{suite}_final_accuracy.png",
            caption="../report/sidetune_final_accuracy.rst",
            category="Side-tuning",
        ),
        pdf="results/figures/sidetune/{suite}_final_accuracy.pdf",
    params:
        kind="final",
        title=lambda wc: f"lifelong methods, {wc.suite}",
    log:
        "logs/sidetune_figure_final/{suite}.log",
    benchmark:
        "benchmarks/rules/sidetune_figure_final/{suite}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/sidetune_plot.py"


rule sidetune_figure_matrix:
    input:
        sidetune_compared,
    output:
        png=report(
            "results/figures/sidetune/{suite}_accuracy_matrix.png",
            caption="../report/sidetune_accuracy_matrix.rst",
            category="Side-tuning",
        ),
        pdf="results/figures/sidetune/{suite}_accuracy_matrix.pdf",
    params:
        kind="matrix",
        title=lambda wc: f"R[i, j] (%), {wc.suite}",
    log:
        "logs/sidetune_figure_matrix/{suite}.log",
    benchmark:
        "benchmarks/rules/sidetune_figure_matrix/{suite}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/sidetune_plot.py"


rule sidetune_figure_forgetting:
    input:
        sidetune_compared,
    output:
        png=report(
            "results/figures/sidetune/{suite}_forgetting.png",
            caption="../report/sidetune_forgetting.rst",
            category="Side-tuning",
        ),
        pdf="results/figures/sidetune/{suite}_forgetting.pdf",
    params:
        kind="forgetting",
        title=lambda wc: f"forgetting, {wc.suite}",
    log:
        "logs/sidetune_figure_forgetting/{suite}.log",
    benchmark:
        "benchmarks/rules/sidetune_figure_forgetting/{suite}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/sidetune_plot.py"


for _method in SIDETUNE_RULE_METHODS:
    METHOD_TARGETS[_method] = functools.partial(sidetune_paths.targets, config, _method)
