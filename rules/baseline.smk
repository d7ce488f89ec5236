# Per-task baselines: one independent network per task (the goals CPG must reach).

from workflow.methods import baseline_paths


rule baseline_train:
    input:
        data=suite_manifest,
    output:
        model="results/baseline/{suite}/seed{seed}/task{task}/model.pt",
        result="results/baseline/{suite}/seed{seed}/task{task}/result.json",
        history="results/baseline/{suite}/seed{seed}/task{task}/history.csv",
    params:
        suite=lambda wc: suite_spec(wc.suite),
        method=StageParams(config["baseline"]),
        compute=config["compute"],
    log:
        "logs/baseline_train/{suite}/seed{seed}/task{task}.log",
    benchmark:
        "benchmarks/rules/baseline_train/{suite}/seed{seed}/task{task}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    script:
        "../scripts/baseline_train.py"


rule baseline_collect:
    input:
        lambda wc: baseline_paths.task_results(config, wc.suite, wc.seed),
    output:
        accuracy="results/baseline/{suite}/seed{seed}/accuracy.csv",
        summary="results/baseline/{suite}/seed{seed}/summary.json",
        goals="results/baseline/{suite}/seed{seed}/baseline_acc.json",
    params:
        method=config["baseline"],  # recorded as the summary's provenance (config hash)
    log:
        "logs/baseline_collect/{suite}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/baseline_collect/{suite}/seed{seed}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/baseline_collect.py"


rule baseline_figure:
    input:
        lambda wc: baseline_paths.accuracy_tables(config, wc.suite),
    output:
        png=report(
            "results/figures/baseline/{suite}_per_task_accuracy.png",
            caption="../report/baseline_per_task.rst",
            category="Baseline",
        ),
        pdf="results/figures/baseline/{suite}_per_task_accuracy.pdf",
    params:
        title=lambda wc: f"independent baseline, {wc.suite}",
    log:
        "logs/baseline_figure/{suite}.log",
    benchmark:
        "benchmarks/rules/baseline_figure/{suite}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/plot_per_task_accuracy.py"


METHOD_TARGETS["baseline"] = lambda: expand(
    [
        "results/baseline/{suite}/seed{seed}/summary.json",
        "results/baseline/{suite}/seed{seed}/baseline_acc.json",
        "results/figures/baseline/{suite}_per_task_accuracy.png",
    ],
    suite=config["suite"],
    seed=config["seeds"],
)
