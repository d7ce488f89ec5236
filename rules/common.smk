# Config validation and helpers shared by every rules/*.smk file. No method logic lives here.
import functools
import json
import os
import shlex
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

from workflow.methods.registry import LIFELONG_METHODS, METHODS, RULE_FILES, defined_in
from workflow.preflight import check_config, check_machine, check_output_folders

PYTHON = shlex.quote(sys.executable)  # kept for older rules; prefer plain `python` in shell commands
# Jobs run `python` from the environment that runs Snakemake (the project's .venv), also inside cluster jobs.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
# ... and import this copy's `workflow` package (not the one an editable install points at): a job runs the code
# of the workflow folder it belongs to, so editing one checkout never changes another's running jobs.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [workflow.basedir, os.environ.get("PYTHONPATH")]))
SCHEMA = Path(workflow.basedir) / "config" / "schema.yaml"


check_config(config, SCHEMA)
check_output_folders(config)
check_machine(config, workflow)

# Methods register their final targets here: METHOD_TARGETS[name] = function returning a list of paths.
METHOD_TARGETS = {}


wildcard_constraints:
    seed=r"\d+",
    task=r"\d+",
    suite=r"[A-Za-z0-9_]+",
    dataset=r"[A-Za-z0-9_]+",


def as_json(obj):
    """A config section as one shell-quoted JSON argument for a script's --params."""
    return shlex.quote(json.dumps(obj, sort_keys=True))


def data_manifest(dataset):
    return f"{config['data']['root']}/{dataset}/manifest.json"


def suite_spec(suite):
    return config["suites"][suite]


def suite_manifest(wildcards):
    return data_manifest(suite_spec(wildcards.suite)["dataset"])


def num_tasks(suite):
    return suite_spec(suite)["tasks"]


# A training job runs compute.threads torch threads: the scheduler counts them against --cores.
TRAIN_THREADS = config["compute"]["threads"]


def train_resources(mem_mb=2000, runtime=60):
    """Resources of a training job: GPU count comes from config (0 on CPU, 1 on a GPU cluster)."""
    return {"mem_mb": mem_mb, "runtime": runtime, "gpu": config["compute"]["gpu"]}


# --- baseline ---------------------------------------------------------------------------------------------

def baseline_task_results(wildcards):
    return expand(
        "results/baseline/{suite}/seed{seed}/task{task}/result.json",
        suite=wildcards.suite,
        seed=wildcards.seed,
        task=range(num_tasks(wildcards.suite)),
    )


def baseline_accuracy_tables(wildcards):
    return expand("results/baseline/{suite}/seed{seed}/accuracy.csv", suite=wildcards.suite, seed=config["seeds"])


# --- targets ----------------------------------------------------------------------------------------------

FIGURES = "results/figures/"


def method_targets(method):
    if method not in METHOD_TARGETS:
        raise WorkflowError(f"method '{method}' has no rules in this workflow")
    return METHOD_TARGETS[method]()


def all_targets(wildcards):
    """Everything the methods in config `methods` produce, one metrics file per method, the claims table."""
    return result_targets(wildcards) + figure_targets(wildcards) + ["results/claims.csv"]


def result_targets(wildcards):
    tables = [p for m in config["methods"] for p in method_targets(m) if not p.startswith(FIGURES)]
    return tables + [f"metrics/{m}.json" for m in config["methods"]]


def figure_targets(wildcards):
    return [p for m in config["methods"] for p in method_targets(m) if p.startswith(FIGURES)]


def datasets_used(wildcards=None):
    """Manifests of every dataset the enabled methods read: the main suite's, and any suite or dataset named
    in an enabled method's config section (keys `dataset`, `suite` or ending in `_suite`)."""
    names = {suite_spec(config["suite"])["dataset"]}

    def scan(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "dataset" and isinstance(value, str):
                    names.add(value)
                elif (key == "suite" or key.endswith("_suite")) and value in config["suites"]:
                    names.add(suite_spec(value)["dataset"])
                else:
                    scan(value)

    for method in config["methods"]:
        scan(config.get(method, {}))
    return [data_manifest(n) for n in sorted(names)]


def method_summaries(wildcards):
    """The summary.json files of one method (one per seed and suite or dataset)."""
    return [p for p in method_targets(wildcards.method) if p.endswith("summary.json")]


# --- dpnas (rules/dpnas.smk) ------------------------------------------------------------------------------------------


def dpnas_data(wildcards):
    return data_manifest(wildcards.dataset)


# --- prior (rules/prior.smk) ------------------------------------------------------------------------------------------


def prior_source_dir():
    return PRIOR_SOURCE.format(suite=PRIOR["source_suite"])


def prior_data(key):
    return lambda wc: data_manifest(suite_spec(PRIOR[key])["dataset"])


def prior_transfer_runs(wildcards):
    return expand("results/prior/{suite}/seed{seed}/n{n}/runs.csv", suite=wildcards.suite, seed=wildcards.seed,
                  n=PRIOR["transfer"]["n_per_class"])


# --- cpg (rules/cpg.smk) ----------------------------------------------------------------------------------------------


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
        return {"start": f"{CPG_ATTEMPT.format(**dict(wildcards.items()))}/start.pt"}
    previous = cpg_previous_model(wildcards)
    return {"start": previous["previous"]} if previous else {}


def cpg_grow_status(wildcards):
    """The status of the attempt before this grow step (it must say `grow`)."""
    previous = dict(wildcards.items(), attempt=int(wildcards.attempt) - 1)
    return f"{CPG_ATTEMPT.format(**previous)}/status.json"


def cpg_finetuned(wildcards):
    """The last finetune attempt of a task: follow the attempts while their status says `grow`."""
    attempt = 0
    while True:
        out = checkpoints.cpg_finetune.get(**dict(wildcards.items(), attempt=attempt)).output
        if json.loads(Path(out.status).read_text())["status"] != "grow":
            return {"model": out.model, "status": out.status}
        attempt += 1


def cpg_flags(*names):
    """`--<name> <input.name>` for each of ``names`` present among the inputs."""
    return lambda wildcards, input: " ".join(cpg_flag(n)(wildcards, input) for n in names)


def cpg_flag(name):
    """`--<name> <input.name>` when that input is present (optional, or decided by a checkpoint), else nothing."""
    return lambda wildcards, input: f"--{name} {input[name]}" if name in input.keys() else ""


def cpg_task_evals(wildcards):
    return expand(f"{CPG_TASK}/eval.json", method=wildcards.method, suite=wildcards.suite, seed=wildcards.seed,
                  task=range(num_tasks(wildcards.suite)))


def cpg_compared(wildcards, name):
    """`name` (accuracy.csv, capacity.csv) of CPG and, when enabled, PackNet, for every seed."""
    methods = ["cpg"] + (["packnet"] if "packnet" in config["methods"] else [])
    return expand(f"results/{{m}}/{{suite}}/seed{{seed}}/{name}", m=methods, suite=wildcards.suite, seed=config["seeds"])


def cpg_results(method):
    return expand([f"{CPG_RUN}/summary.json", f"{CPG_RUN}/capacity.csv"], method=method, suite=config["suite"],
                  seed=config["seeds"])


# --- subspace (rules/subspace.smk) ------------------------------------------------------------------------------------


def subspace_suite():
    """The one-task suite (all `num_classes` classes, a validation split) the subspace experiments run on."""
    s = config["subspace"]
    return {"dataset": s["dataset"], "grouping": "classes", "tasks": 1, "classes_per_task": s["num_classes"],
            "class_order_seed": None, "val_fraction": s["val_fraction"], "train_per_class": s["train_per_class"]}


def subspace_models():
    s = config["subspace"]
    members = [f"standard{k}" for k in range(s["standard_members"])]
    simplexes = [f"simplex{n}{suffix}" for n in s["simplex_vertices"]
                 for suffix in ([""] + (["_layerwise"] if s["simplex_layerwise"] else []))]
    return members + list(s["lines"]) + simplexes


def subspace_model_files(wildcards):
    return expand("results/subspace/{dataset}/seed{seed}/models/{model}.pt", dataset=wildcards.dataset,
                  seed=wildcards.seed, model=subspace_models())


def subspace_tables(name):
    return lambda wc: expand("results/subspace/{dataset}/seed{seed}/{name}", dataset=wc.dataset,
                             seed=config["subspace"]["seeds"], name=name)
