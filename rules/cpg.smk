# CPG (issue 3) and PackNet, its no-picking ablation: the same stages, one config section each (`cpg`, `packnet`).
# Per task k, each stage its own job, reading task k-1's chosen network:
#   finetune (a checkpoint: status.json says ok / grow / capped) -> [grow -> finetune again] -> prune -> choose
#   -> retrain (+ evaluation of every task so far)
# The grow loop: when an attempt's status is `grow`, the prune input function asks for a grow step and the next
# attempt; Snakemake re-plans after each checkpoint. Goals come from the baseline's baseline_acc.json.

from workflow.methods.cpg import paths as cpg_paths

CPG_METHODS = ["cpg", "packnet"]
CPG_RUN, CPG_TASK, CPG_ATTEMPT = cpg_paths.RUN, cpg_paths.TASK, cpg_paths.ATTEMPT


# The per-task chain is the DAG's longest sequential path: its jobs run before others that are ready.
CPG_PRIORITY = 10


def cpg_section(wildcards):
    """The config section of the method a job runs: `cpg` or `packnet`."""
    return wildcards.method


# Input functions: Snakemake's wildcards to workflow.methods.cpg.paths (pure, unit-tested), and the checkpoint.
def cpg_goals(wc):
    return cpg_paths.goals(wc.suite, wc.seed)


def cpg_previous_model(wc):
    return cpg_paths.previous_model(wc.method, wc.suite, wc.seed, wc.task)


def cpg_finetune_start(wc):
    return cpg_paths.finetune_start(wc.method, wc.suite, wc.seed, wc.task, wc.attempt)


def cpg_grow_status(wc):
    return cpg_paths.grow_status(wc.method, wc.suite, wc.seed, wc.task, wc.attempt)


def cpg_finetuned(wildcards):
    """The last finetune attempt of a task: follow the attempts while their status says `grow` (each attempt is
    a checkpoint: Snakemake re-plans once its status exists)."""
    attempt = 0
    while True:
        out = checkpoints.cpg_finetune.get(**dict(wildcards.items(), attempt=attempt)).output
        if json.loads(Path(out.status).read_text())["status"] != "grow":
            return {"model": out.model, "status": out.status}
        attempt += 1


checkpoint cpg_finetune:
    input:
        unpack(cpg_finetune_start),
        data=suite_manifest,
        goals=cpg_goals,
    output:
        model=f"{CPG_ATTEMPT}/finetune.pt",
        checksum=f"{CPG_ATTEMPT}/finetune.pt.sha256",
        status=f"{CPG_ATTEMPT}/status.json",
        history=f"{CPG_ATTEMPT}/history.csv",
    params:
        method=stage_params(cpg_section, "model", "width", "picking", "finetune", "growth", "train_gate",
                            "collapse_gate", "recompute_bn"),
        suite=lambda wc: suite_spec(wc.suite),
        compute=config["compute"],
    wildcard_constraints:
        method="|".join(CPG_METHODS),
        attempt=r"\d+",
    log:
        "logs/cpg_finetune/{method}/{suite}/seed{seed}/task{task}/attempt{attempt}.log",
    benchmark:
        "benchmarks/rules/cpg_finetune/{method}/{suite}/seed{seed}/task{task}/attempt{attempt}.tsv"
    priority: CPG_PRIORITY
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    script:
        "../scripts/cpg_finetune.py"


rule cpg_grow:
    input:
        unpack(cpg_previous_model),
        data=suite_manifest,
        status=cpg_grow_status,
    output:
        start=f"{CPG_ATTEMPT}/start.pt",
        checksum=f"{CPG_ATTEMPT}/start.pt.sha256",
    params:
        method=stage_params(cpg_section, "model", "width", "growth"),
        suite=lambda wc: suite_spec(wc.suite),
    wildcard_constraints:
        method="|".join(CPG_METHODS),
        attempt=r"[1-9]\d*",
    log:
        "logs/cpg_grow/{method}/{suite}/seed{seed}/task{task}/attempt{attempt}.log",
    benchmark:
        "benchmarks/rules/cpg_grow/{method}/{suite}/seed{seed}/task{task}/attempt{attempt}.tsv"
    priority: CPG_PRIORITY
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/cpg_grow.py"


rule cpg_prune:
    input:
        unpack(cpg_finetuned),
        data=suite_manifest,
        goals=cpg_goals,
    output:
        record=f"{CPG_TASK}/prune/record.json",
        history=f"{CPG_TASK}/prune/history.csv",
        levels=temp(f"{CPG_TASK}/prune/levels.pt"),
        checksum=temp(f"{CPG_TASK}/prune/levels.pt.sha256"),
    params:
        method=stage_params(cpg_section, "prune", "picking", "train_gate", "collapse_gate", "recompute_bn",
                            "reserve_when_capped", "choose_by", "allowed_loss"),
        suite=lambda wc: suite_spec(wc.suite),
        compute=config["compute"],
    wildcard_constraints:
        method="|".join(CPG_METHODS),
    log:
        "logs/cpg_prune/{method}/{suite}/seed{seed}/task{task}.log",
    benchmark:
        "benchmarks/rules/cpg_prune/{method}/{suite}/seed{seed}/task{task}.tsv"
    priority: CPG_PRIORITY
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    script:
        "../scripts/cpg_prune.py"


rule cpg_choose:
    input:
        record=f"{CPG_TASK}/prune/record.json",
        levels=f"{CPG_TASK}/prune/levels.pt",
        checksum=f"{CPG_TASK}/prune/levels.pt.sha256",
    output:
        model=f"{CPG_TASK}/chosen.pt",
        checksum=f"{CPG_TASK}/chosen.pt.sha256",
        choice=f"{CPG_TASK}/choice.json",
    params:
        method=stage_params(cpg_section, "reserve_when_capped", "allowed_loss", "choose_by"),
    wildcard_constraints:
        method="|".join(CPG_METHODS),
    log:
        "logs/cpg_choose/{method}/{suite}/seed{seed}/task{task}.log",
    benchmark:
        "benchmarks/rules/cpg_choose/{method}/{suite}/seed{seed}/task{task}.tsv"
    priority: CPG_PRIORITY
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/cpg_choose.py"


rule cpg_retrain:
    input:
        data=suite_manifest,
        chosen=f"{CPG_TASK}/chosen.pt",
    output:
        model=f"{CPG_TASK}/model.pt",
        checksum=f"{CPG_TASK}/model.pt.sha256",
        eval=f"{CPG_TASK}/eval.json",
        logits=f"{CPG_TASK}/test_logits.pt",
        history=f"{CPG_TASK}/retrain_history.csv",
    params:
        method=stage_params(cpg_section, "retrain", "picking", "recompute_bn"),
        suite=lambda wc: suite_spec(wc.suite),
        compute=config["compute"],
    wildcard_constraints:
        method="|".join(CPG_METHODS),
    log:
        "logs/cpg_retrain/{method}/{suite}/seed{seed}/task{task}.log",
    benchmark:
        "benchmarks/rules/cpg_retrain/{method}/{suite}/seed{seed}/task{task}.tsv"
    priority: CPG_PRIORITY
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    script:
        "../scripts/cpg_retrain.py"


rule cpg_collect:
    input:
        evals=lambda wc: cpg_paths.task_evals(config, wc.method, wc.suite, wc.seed),
        goals=cpg_goals,
    output:
        accuracy=f"{CPG_RUN}/accuracy.csv",
        summary=f"{CPG_RUN}/summary.json",
        capacity=f"{CPG_RUN}/capacity.csv",
    wildcard_constraints:
        method="|".join(CPG_METHODS),
    params:
        method=lambda wc: config[wc.method],  # recorded as the summary's provenance (config hash)
    log:
        "logs/cpg_collect/{method}/{suite}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/cpg_collect/{method}/{suite}/seed{seed}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/cpg_collect.py"


rule cpg_accuracy_figure:
    input:
        methods=lambda wc: cpg_paths.compared(config, wc.suite, "accuracy.csv"),
        baseline=lambda wc: baseline_paths.accuracy_tables(config, wc.suite),
    output:
        png=report(
            f"{FIGURES}cpg/{{suite}}_per_task_accuracy.png",
            caption="../report/cpg_per_task_accuracy.rst",
            category="CPG",
        ),
        pdf=f"{FIGURES}cpg/{{suite}}_per_task_accuracy.pdf",
    params:
        figure="accuracy",
        title=lambda wc: f"CPG vs PackNet vs independent, {wc.suite}",
    log:
        "logs/cpg_accuracy_figure/{suite}.log",
    benchmark:
        "benchmarks/rules/cpg_accuracy_figure/{suite}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/cpg_plot.py"


rule cpg_capacity_figure:
    input:
        lambda wc: cpg_paths.compared(config, wc.suite, "capacity.csv"),
    output:
        png=report(
            f"{FIGURES}cpg/{{suite}}_capacity.png",
            caption="../report/cpg_capacity.rst",
            category="CPG",
        ),
        pdf=f"{FIGURES}cpg/{{suite}}_capacity.pdf",
    params:
        figure="capacity",
        title=lambda wc: f"capacity per task, {wc.suite}",
    log:
        "logs/cpg_capacity_figure/{suite}.log",
    benchmark:
        "benchmarks/rules/cpg_capacity_figure/{suite}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/cpg_plot.py"


# The figures compare CPG with PackNet (when enabled) and the baseline; they belong to CPG's targets.
METHOD_TARGETS["cpg"] = lambda: cpg_paths.results(config, "cpg") + expand(
    [f"{FIGURES}cpg/{{suite}}_per_task_accuracy.png", f"{FIGURES}cpg/{{suite}}_capacity.png"], suite=config["suite"])
METHOD_TARGETS["packnet"] = lambda: cpg_paths.results(config, "packnet")
