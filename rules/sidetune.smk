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


def sidetune_input_flags(wildcards, input):
    return " ".join(f"--{key} {input[key]}" for key in ("base", "side", "features") if key in input.keys())


def sidetune_compared(wildcards):
    return sidetune_paths.compared_tables(config, LIFELONG_METHODS, wildcards.suite)


def sidetune_labels(wildcards, input):
    return " ".join(Path(p).parts[1] for p in input)



rule sidetune_pretrain:
    input:
        source=sidetune_source_manifest,
        tasks=suite_manifest,
    output:
        base=f"{SIDETUNE_SHARED}/base.pt",
        info=f"{SIDETUNE_SHARED}/base.json",
        history=f"{SIDETUNE_SHARED}/base_history.csv",
    params:
        source=lambda wc: as_json(suite_spec(sidetune_config()["source_suite"])),
        suite=lambda wc: as_json(suite_spec(wc.suite)),
        method=stage_params("sidetune", "base"),
        compute=as_json(config["compute"]),
    log:
        "logs/sidetune_pretrain/{suite}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/sidetune_pretrain/{suite}/seed{seed}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    shell:
        "python scripts/sidetune_pretrain.py --data $(dirname {input.source}) --source-suite {params.source} "
        "--suite {params.suite} --params {params.method} --compute {params.compute} --seed {wildcards.seed} "
        "--out $(dirname {output.base}) --log {log}"


rule sidetune_distil:
    input:
        source=sidetune_source_manifest,
        base=f"{SIDETUNE_SHARED}/base.pt",
    output:
        side=f"{SIDETUNE_SHARED}/side.pt",
        info=f"{SIDETUNE_SHARED}/side.json",
        history=f"{SIDETUNE_SHARED}/side_history.csv",
    params:
        source=lambda wc: as_json(suite_spec(sidetune_config()["source_suite"])),
        method=stage_params("sidetune", "side"),
        compute=as_json(config["compute"]),
    log:
        "logs/sidetune_distil/{suite}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/sidetune_distil/{suite}/seed{seed}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    shell:
        "python scripts/sidetune_distil.py --data $(dirname {input.source}) --source-suite {params.source} "
        "--base {input.base} --params {params.method} --compute {params.compute} --seed {wildcards.seed} "
        "--out $(dirname {output.side}) --log {log}"


rule sidetune_cache:
    input:
        data=suite_manifest,
        base=f"{SIDETUNE_SHARED}/base.pt",
    output:
        f"{SIDETUNE_SHARED}/base_features.pt",
    params:
        suite=lambda wc: as_json(suite_spec(wc.suite)),
        compute=as_json(config["compute"]),
    log:
        "logs/sidetune_cache/{suite}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/sidetune_cache/{suite}/seed{seed}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    shell:
        "python scripts/sidetune_cache.py --data $(dirname {input.data}) --suite {params.suite} "
        "--base {input.base} --compute {params.compute} --out {output} --log {log}"


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
        suite=lambda wc: as_json(suite_spec(wc.suite)),
        method=stage_params("sidetune", *sidetune_paths.method_keys("sidetune")),
        compute=as_json(config["compute"]),
        inputs=sidetune_input_flags,
    log:
        "logs/sidetune_train/{suite}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/sidetune_train/{suite}/seed{seed}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    shell:
        "python scripts/sidetune_train.py --method sidetune --data $(dirname {input.data}) "
        "--suite {params.suite} {params.inputs} --params {params.method} --compute {params.compute} "
        "--seed {wildcards.seed} --out $(dirname {output.summary}) --log {log}"


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
        suite=lambda wc: as_json(suite_spec(wc.suite)),
        method=lambda wc: stage_params("sidetune", *sidetune_paths.method_keys(wc.lmethod))(wc),
        compute=as_json(config["compute"]),
        inputs=sidetune_input_flags,
    log:
        "logs/sidetune_baseline_train/{lmethod}/{suite}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/sidetune_baseline_train/{lmethod}/{suite}/seed{seed}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    shell:
        "python scripts/sidetune_train.py --method {wildcards.lmethod} --data $(dirname {input.data}) "
        "--suite {params.suite} {params.inputs} --params {params.method} --compute {params.compute} "
        "--seed {wildcards.seed} --out $(dirname {output.summary}) --log {log}"


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
        labels=sidetune_labels,
    log:
        "logs/sidetune_figure_final/{suite}.log",
    benchmark:
        "benchmarks/rules/sidetune_figure_final/{suite}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python scripts/sidetune_plot.py --kind final --tables {input} --labels {params.labels} "
        "--title 'lifelong methods, {wildcards.suite}' --out {output.png} --log {log}"


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
        labels=sidetune_labels,
    log:
        "logs/sidetune_figure_matrix/{suite}.log",
    benchmark:
        "benchmarks/rules/sidetune_figure_matrix/{suite}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python scripts/sidetune_plot.py --kind matrix --tables {input} --labels {params.labels} "
        "--title 'R[i, j] (%), {wildcards.suite}' --out {output.png} --log {log}"


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
        labels=sidetune_labels,
    log:
        "logs/sidetune_figure_forgetting/{suite}.log",
    benchmark:
        "benchmarks/rules/sidetune_figure_forgetting/{suite}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python scripts/sidetune_plot.py --kind forgetting --tables {input} --labels {params.labels} "
        "--title 'forgetting, {wildcards.suite}' --out {output.png} --log {log}"


for _method in SIDETUNE_RULE_METHODS:
    METHOD_TARGETS[_method] = functools.partial(sidetune_paths.targets, config, _method)
