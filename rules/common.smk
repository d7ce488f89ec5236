# Config validation and helpers shared by every rules/*.smk file. No method logic lives here.
import functools
import json
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

from workflow.methods.registry import LIFELONG_METHODS, METHODS, RULE_FILES, defined_in
from workflow import paths
from workflow.preflight import check_config, check_machine, check_output_folders
from workflow.stage import StageParams

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


def stage_params(section, *keys):
    """The keys of config[section] that a stage reads, as one of its params (workflow.stage.StageParams). A rule
    declares them once here: Snakemake reruns a job when its params change, so a job reruns for those keys and no
    others; the stage stops, naming the key, if it reads one not declared. ``section`` may be a function of the
    wildcards (CPG and PackNet share their rules)."""
    def params(wildcards):
        name = section(wildcards) if callable(section) else section
        return StageParams({key: config[name][key] for key in keys if key in config[name]})
    return params


def data_manifest(dataset):
    return paths.data_manifest(config, dataset)


def suite_spec(suite):
    return config["suites"][suite]


def suite_manifest(wildcards):
    return data_manifest(suite_spec(wildcards.suite)["dataset"])


def num_tasks(suite):
    return paths.num_tasks(config, suite)


# A training job runs compute.threads torch threads: the scheduler counts them against --cores.
TRAIN_THREADS = config["compute"]["threads"]


def train_resources(mem_mb=2000, runtime=60):
    """Resources of a training job: GPU count comes from config (0 on CPU, 1 on a GPU cluster)."""
    return {"mem_mb": mem_mb, "runtime": runtime, "gpu": config["compute"]["gpu"]}


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
    """Manifests of every dataset the enabled methods read: the main suite's, and the suites and datasets each
    enabled method's registry record names (`suite_keys`: a dotted key holding a suite or a dataset)."""
    names = {suite_spec(config["suite"])["dataset"]}
    for method in config["methods"]:
        for key in METHODS[method].suite_keys:
            value = config
            for part in key.split("."):
                value = value[part]
            names.add(suite_spec(value)["dataset"] if value in config["suites"] else value)
    return [data_manifest(n) for n in sorted(names)]


def method_summaries(wildcards):
    """The summary.json files of one method (one per seed and suite or dataset)."""
    return [p for p in method_targets(wildcards.method) if p.endswith("summary.json")]
