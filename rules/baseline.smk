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
        suite=lambda wc: as_json(suite_spec(wc.suite)),
        method=as_json(config["baseline"]),
        compute=as_json(config["compute"]),
    log:
        "logs/baseline_train/{suite}/seed{seed}/task{task}.log",
    benchmark:
        "benchmarks/rules/baseline_train/{suite}/seed{seed}/task{task}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    shell:
        "python scripts/baseline_train.py --data $(dirname {input.data}) --suite {params.suite} "
        "--params {params.method} --compute {params.compute} --task {wildcards.task} --seed {wildcards.seed} "
        "--out $(dirname {output.result}) --log {log}"


rule baseline_collect:
    input:
        lambda wc: baseline_paths.task_results(config, wc.suite, wc.seed),
    output:
        accuracy="results/baseline/{suite}/seed{seed}/accuracy.csv",
        summary="results/baseline/{suite}/seed{seed}/summary.json",
        goals="results/baseline/{suite}/seed{seed}/baseline_acc.json",
    params:
        method=as_json(config["baseline"]),  # recorded as the summary's provenance (config hash)
    log:
        "logs/baseline_collect/{suite}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/baseline_collect/{suite}/seed{seed}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python scripts/baseline_collect.py --results {input} --params {params.method} "
        "--out $(dirname {output.summary}) --log {log}"


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
    log:
        "logs/baseline_figure/{suite}.log",
    benchmark:
        "benchmarks/rules/baseline_figure/{suite}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python scripts/plot_per_task_accuracy.py --tables {input} --labels baseline "
        "--title 'independent baseline, {wildcards.suite}' --out {output.png} --log {log}"


METHOD_TARGETS["baseline"] = lambda: expand(
    [
        "results/baseline/{suite}/seed{seed}/summary.json",
        "results/baseline/{suite}/seed{seed}/baseline_acc.json",
        "results/figures/baseline/{suite}_per_task_accuracy.png",
    ],
    suite=config["suite"],
    seed=config["seeds"],
)
