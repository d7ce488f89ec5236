# CPG (issue 3) and PackNet, its no-picking ablation: the same stages, one config section each (`cpg`, `packnet`).
# Per task k, each stage its own job, reading task k-1's chosen network:
#   finetune (a checkpoint: status.json says ok / grow / capped) -> [grow -> finetune again] -> prune -> choose
#   -> retrain (+ evaluation of every task so far)
# The grow loop: when an attempt's status is `grow`, the prune input function asks for a grow step and the next
# attempt; Snakemake re-plans after each checkpoint. Goals come from the baseline's baseline_acc.json.

CPG_METHODS = ["cpg", "packnet"]
CPG_RUN = "results/{method}/{suite}/seed{seed}"
CPG_TASK = CPG_RUN + "/task{task}"
CPG_ATTEMPT = CPG_TASK + "/attempt{attempt}"


def cpg_goals(wildcards):
    return f"results/baseline/{wildcards.suite}/seed{wildcards.seed}/baseline_acc.json"


def cpg_previous_model(wildcards):
    """Task k-1's final network (none for the first task)."""
    task = int(wildcards.task)
    if task == 0:
        return {}
    run = CPG_RUN.format(method=wildcards.method, suite=wildcards.suite, seed=wildcards.seed)
    return {"previous": f"{run}/task{task - 1}/model.pt"}


def cpg_finetune_start(wildcards):
    """Attempt 0 starts from the previous task's network, attempt a > 0 from its grow step."""
    if int(wildcards.attempt) > 0:
        return {"start": CPG_ATTEMPT.format(**dict(wildcards.items())) + "/start.pt"}
    previous = cpg_previous_model(wildcards)
    return {"start": previous["previous"]} if previous else {}


def cpg_grow_status(wildcards):
    """The status of the attempt before this grow step (it must say `grow`)."""
    previous = dict(wildcards.items(), attempt=int(wildcards.attempt) - 1)
    return CPG_ATTEMPT.format(**previous) + "/status.json"


def cpg_finetuned(wildcards):
    """The last finetune attempt of a task: follow the attempts while their status says `grow`."""
    attempt = 0
    while True:
        out = checkpoints.cpg_finetune.get(**dict(wildcards.items(), attempt=attempt)).output
        if json.loads(Path(out.status).read_text())["status"] != "grow":
            return {"model": out.model, "status": out.status}
        attempt += 1


def cpg_flag(name):
    """`--<name> <input.name>` when that input is present (optional, or decided by a checkpoint), else nothing."""
    return lambda wildcards, input: f"--{name} {input[name]}" if name in input.keys() else ""


def cpg_task_evals(wildcards):
    return expand(CPG_TASK + "/eval.json", method=wildcards.method, suite=wildcards.suite, seed=wildcards.seed,
                  task=range(num_tasks(wildcards.suite)))


def cpg_compared(wildcards, name):
    """`name` (accuracy.csv, capacity.csv) of CPG and, when enabled, PackNet, for every seed."""
    methods = ["cpg"] + (["packnet"] if "packnet" in config["methods"] else [])
    return expand("results/{m}/{suite}/seed{seed}/" + name, m=methods, suite=wildcards.suite, seed=config["seeds"])


checkpoint cpg_finetune:
    input:
        unpack(cpg_finetune_start),
        data=suite_manifest,
        goals=cpg_goals,
    output:
        model=CPG_ATTEMPT + "/finetune.pt",
        checksum=CPG_ATTEMPT + "/finetune.pt.sha256",
        status=CPG_ATTEMPT + "/status.json",
        history=CPG_ATTEMPT + "/history.csv",
    params:
        method=lambda wc: as_json(config[wc.method]),
        suite=lambda wc: as_json(suite_spec(wc.suite)),
        compute=as_json(config["compute"]),
        start=cpg_flag("start"),
    wildcard_constraints:
        method="|".join(CPG_METHODS),
        attempt=r"\d+",
    log:
        "logs/cpg_finetune/{method}/{suite}/seed{seed}/task{task}/attempt{attempt}.log",
    benchmark:
        "benchmarks/rules/cpg_finetune/{method}/{suite}/seed{seed}/task{task}/attempt{attempt}.tsv"
    threads: 1
    resources:
        **train_resources(),
    shell:
        "python scripts/cpg_finetune.py --method {wildcards.method} --data $(dirname {input.data}) "
        "--suite {params.suite} --params {params.method} --compute {params.compute} --goals {input.goals} "
        "--task {wildcards.task} --attempt {wildcards.attempt} --seed {wildcards.seed} {params.start} "
        "--out $(dirname {output.status}) --log {log}"


rule cpg_grow:
    input:
        unpack(cpg_previous_model),
        data=suite_manifest,
        status=cpg_grow_status,
    output:
        start=CPG_ATTEMPT + "/start.pt",
        checksum=CPG_ATTEMPT + "/start.pt.sha256",
    params:
        method=lambda wc: as_json(config[wc.method]),
        suite=lambda wc: as_json(suite_spec(wc.suite)),
        previous=cpg_flag("previous"),
    wildcard_constraints:
        method="|".join(CPG_METHODS),
        attempt=r"[1-9]\d*",
    log:
        "logs/cpg_grow/{method}/{suite}/seed{seed}/task{task}/attempt{attempt}.log",
    benchmark:
        "benchmarks/rules/cpg_grow/{method}/{suite}/seed{seed}/task{task}/attempt{attempt}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "python scripts/cpg_grow.py --method {wildcards.method} --data $(dirname {input.data}) "
        "--suite {params.suite} --params {params.method} --task {wildcards.task} --seed {wildcards.seed} "
        "--status {input.status} {params.previous} --out {output.start} --log {log}"


rule cpg_prune:
    input:
        unpack(cpg_finetuned),
        data=suite_manifest,
        goals=cpg_goals,
    output:
        record=CPG_TASK + "/prune/record.json",
        history=CPG_TASK + "/prune/history.csv",
        levels=temp(CPG_TASK + "/prune/levels.pt"),
        checksum=temp(CPG_TASK + "/prune/levels.pt.sha256"),
    params:
        method=lambda wc: as_json(config[wc.method]),
        suite=lambda wc: as_json(suite_spec(wc.suite)),
        compute=as_json(config["compute"]),
        finetuned=lambda wc, input: cpg_flag("model")(wc, input) + " " + cpg_flag("status")(wc, input),
    wildcard_constraints:
        method="|".join(CPG_METHODS),
    log:
        "logs/cpg_prune/{method}/{suite}/seed{seed}/task{task}.log",
    benchmark:
        "benchmarks/rules/cpg_prune/{method}/{suite}/seed{seed}/task{task}.tsv"
    threads: 1
    resources:
        **train_resources(),
    shell:
        "python scripts/cpg_prune.py --method {wildcards.method} --data $(dirname {input.data}) "
        "--suite {params.suite} --params {params.method} --compute {params.compute} --goals {input.goals} "
        "--task {wildcards.task} --seed {wildcards.seed} {params.finetuned} "
        "--record {output.record} --levels {output.levels} --history {output.history} --log {log}"


rule cpg_choose:
    input:
        record=CPG_TASK + "/prune/record.json",
        levels=CPG_TASK + "/prune/levels.pt",
        checksum=CPG_TASK + "/prune/levels.pt.sha256",
    output:
        model=CPG_TASK + "/chosen.pt",
        checksum=CPG_TASK + "/chosen.pt.sha256",
        choice=CPG_TASK + "/choice.json",
    params:
        method=lambda wc: as_json(config[wc.method]),
    wildcard_constraints:
        method="|".join(CPG_METHODS),
    log:
        "logs/cpg_choose/{method}/{suite}/seed{seed}/task{task}.log",
    benchmark:
        "benchmarks/rules/cpg_choose/{method}/{suite}/seed{seed}/task{task}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "python scripts/cpg_choose.py --method {wildcards.method} --params {params.method} "
        "--record {input.record} --levels {input.levels} --model {output.model} --out {output.choice} --log {log}"


rule cpg_retrain:
    input:
        data=suite_manifest,
        chosen=CPG_TASK + "/chosen.pt",
    output:
        model=CPG_TASK + "/model.pt",
        checksum=CPG_TASK + "/model.pt.sha256",
        eval=CPG_TASK + "/eval.json",
        logits=CPG_TASK + "/test_logits.pt",
        history=CPG_TASK + "/retrain_history.csv",
    params:
        method=lambda wc: as_json(config[wc.method]),
        suite=lambda wc: as_json(suite_spec(wc.suite)),
        compute=as_json(config["compute"]),
    wildcard_constraints:
        method="|".join(CPG_METHODS),
    log:
        "logs/cpg_retrain/{method}/{suite}/seed{seed}/task{task}.log",
    benchmark:
        "benchmarks/rules/cpg_retrain/{method}/{suite}/seed{seed}/task{task}.tsv"
    threads: 1
    resources:
        **train_resources(),
    shell:
        "python scripts/cpg_retrain.py --method {wildcards.method} --data $(dirname {input.data}) "
        "--suite {params.suite} --params {params.method} --compute {params.compute} --task {wildcards.task} "
        "--seed {wildcards.seed} --chosen {input.chosen} --out $(dirname {output.eval}) --log {log}"


rule cpg_collect:
    input:
        evals=cpg_task_evals,
        goals=cpg_goals,
    output:
        accuracy=CPG_RUN + "/accuracy.csv",
        summary=CPG_RUN + "/summary.json",
        capacity=CPG_RUN + "/capacity.csv",
    wildcard_constraints:
        method="|".join(CPG_METHODS),
    log:
        "logs/cpg_collect/{method}/{suite}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/cpg_collect/{method}/{suite}/seed{seed}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python scripts/cpg_collect.py --method {wildcards.method} --seed {wildcards.seed} --evals {input.evals} "
        "--goals {input.goals} --out $(dirname {output.summary}) --log {log}"


rule cpg_accuracy_figure:
    input:
        methods=lambda wc: cpg_compared(wc, "accuracy.csv"),
        baseline=baseline_accuracy_tables,
    output:
        png=report(
            FIGURES + "cpg/{suite}_per_task_accuracy.png",
            caption="../report/cpg_per_task_accuracy.rst",
            category="CPG",
        ),
        pdf=FIGURES + "cpg/{suite}_per_task_accuracy.pdf",
    log:
        "logs/cpg_accuracy_figure/{suite}.log",
    benchmark:
        "benchmarks/rules/cpg_accuracy_figure/{suite}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python scripts/cpg_plot.py accuracy --tables {input.methods} {input.baseline} "
        "--title 'CPG vs PackNet vs independent, {wildcards.suite}' --out {output.png} --log {log}"


rule cpg_capacity_figure:
    input:
        lambda wc: cpg_compared(wc, "capacity.csv"),
    output:
        png=report(
            FIGURES + "cpg/{suite}_capacity.png",
            caption="../report/cpg_capacity.rst",
            category="CPG",
        ),
        pdf=FIGURES + "cpg/{suite}_capacity.pdf",
    log:
        "logs/cpg_capacity_figure/{suite}.log",
    benchmark:
        "benchmarks/rules/cpg_capacity_figure/{suite}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python scripts/cpg_plot.py capacity --tables {input} --title 'capacity per task, {wildcards.suite}' "
        "--out {output.png} --log {log}"


def cpg_results(method):
    return expand([CPG_RUN + "/summary.json", CPG_RUN + "/capacity.csv"], method=method, suite=config["suite"],
                  seed=config["seeds"])


# The figures compare CPG with PackNet (when enabled) and the baseline; they belong to CPG's targets.
METHOD_TARGETS["cpg"] = lambda: cpg_results("cpg") + expand(
    [FIGURES + "cpg/{suite}_per_task_accuracy.png", FIGURES + "cpg/{suite}_capacity.png"], suite=config["suite"])
METHOD_TARGETS["packnet"] = lambda: cpg_results("packnet")
