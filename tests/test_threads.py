"""Every stage honours ``compute.threads``: a stage that seeds itself keeps the job's thread count (the cores its rule
reserves) instead of falling back to 1, during training and after it.

The Trainer each stage uses is replaced by one that records ``torch.get_num_threads()`` when it starts fitting;
torch is put at 1 thread before each stage, so a stage that ignores ``threads`` shows up as 1.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import runpy

import pytest
import torch

from tests.conftest import REPO, make_tasks
from workflow.data import fetch_dataset, save_arrays
from workflow.methods.cpg import stages as cpg_stages
from workflow.methods.prior import files as prior_files
from workflow.methods.prior import stages as prior_stages
from workflow.methods.prior import transfer
from workflow.stage import Job, Named, StageParams, execute, files, start_stage
from workflow.training import Trainer, seed_everything, set_threads

THREADS = 2


@pytest.fixture(autouse=True)
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture
def seen(monkeypatch):
    """Thread counts at the start of every Trainer.fit in the CPG and prior stages."""
    counts: list[int] = []

    class RecordingTrainer(Trainer):
        def fit(self, *args, **kwargs):
            counts.append(torch.get_num_threads())
            return super().fit(*args, **kwargs)

    for module in (cpg_stages, prior_stages, transfer):
        monkeypatch.setattr(module, "Trainer", RecordingTrainer)
    return counts


def cpg_params() -> dict:
    from tests.test_cpg import tiny_params

    params = tiny_params("cpg")
    params["prune"]["levels"] = [0.5]
    params["train_gate"] = 0.0
    return params


def test_seed_everything_threads():
    seed_everything(0, threads=THREADS)
    assert torch.get_num_threads() == THREADS
    seed_everything(0, threads=None)  # None keeps the caller's setting
    assert torch.get_num_threads() == THREADS
    set_threads(1)
    assert torch.get_num_threads() == 1


def test_cpg_stages_keep_compute_threads(seen):
    tasks = make_tasks(n_tasks=2, per_class=20)
    params = cpg_params()
    torch.set_num_threads(1)
    net, status, _ = cpg_stages.finetune(None, tasks[0], params=params, goal=0.0, seed=0, threads=THREADS)
    assert seen == [THREADS] and torch.get_num_threads() == THREADS
    torch.set_num_threads(1)
    _, levels, _ = cpg_stages.prune_sweep(copy.deepcopy(net.to_state()), tasks[0], params=params, status=status,
                                          num_tasks=2, goal=0.0, seed=0, threads=THREADS)
    assert seen == [THREADS] * 2 and torch.get_num_threads() == THREADS
    torch.set_num_threads(1)
    net0, _, _ = cpg_stages.retrain(levels[0.5], tasks[0], params=params, seed=0, threads=THREADS)  # skipped (k=1)
    assert torch.get_num_threads() == THREADS
    torch.set_num_threads(1)
    cpg_stages.grow(net0.to_state(), multiplier=1.5, params=params, in_shape=tasks[1].train.x.shape[1:], seed=0,
                    task_index=1, threads=THREADS)
    assert torch.get_num_threads() == THREADS
    torch.set_num_threads(1)
    net1, status1, _ = cpg_stages.finetune(net0.to_state(), tasks[1], params=params, goal=0.0, seed=0,
                                           threads=THREADS)
    torch.set_num_threads(1)
    cpg_stages.retrain(net1.to_state(), tasks[1], params=params, seed=0, threads=THREADS)  # trains (k=2)
    assert seen == [THREADS] * 4 and torch.get_num_threads() == THREADS


def test_prior_stages_keep_compute_threads(seen, tmp_path):
    from tests.test_prior import PARAMS

    source, target = make_tasks(n_tasks=2, classes_per_task=2, per_class=20)
    torch.set_num_threads(1)
    net, _, _ = prior_stages.pretrain(source, PARAMS, seed=0, device="cpu", threads=THREADS)
    assert seen == [THREADS] and torch.get_num_threads() == THREADS
    state = copy.deepcopy(net.backbone.state_dict())
    torch.set_num_threads(1)
    stats, _ = prior_stages.fit_prior(net, source, PARAMS["swag"], seed=0, device="cpu", threads=THREADS)
    assert seen == [THREADS] * 2 and torch.get_num_threads() == THREADS
    prefix = tmp_path / "prior"
    prior_files.save_prior(prefix, backbone=net.backbone, model_state=state,
                     network=prior_stages.network_spec(PARAMS, source.train.x.shape[1:]), stats=stats)
    params = copy.deepcopy(PARAMS)
    params["transfer"].update(arms=["sgd", "learned"], steps=4)
    torch.set_num_threads(1)
    transfer.run_transfer(prefix, target, params, seed=0, n_per_class=5, device="cpu", threads=THREADS)
    assert len(seen) == 4 and set(seen) == {THREADS} and torch.get_num_threads() == THREADS


# --- the scripts pass compute.threads on -----------------------------------------------------------------------

def run_stage(name: str, job: Job) -> None:
    """What workflow.stage.run does for a stage: its run context (threads, seed, device), then its main."""
    execute(runpy.run_path(str(REPO / "scripts" / f"{name}.py"), run_name="not_main")["main"], job)


@pytest.fixture
def synthetic_data(tmp_path):
    folder = save_arrays(tmp_path / "data", fetch_dataset("synthetic", tmp_path / "raw",
                                                          {"classes": 4, "per_class": 20, "seed": 0}))
    suite = {"dataset": "synthetic", "grouping": "classes", "tasks": 2, "classes_per_task": 2,
             "class_order_seed": 0, "val_fraction": 0.2}
    return folder / "manifest.json", suite


COMPUTE = {"device": "cpu", "threads": THREADS}


def test_cpg_finetune_script_passes_compute_threads(seen, synthetic_data, tmp_path):
    data, suite = synthetic_data
    goals = tmp_path / "baseline_acc.json"
    goals.write_text(json.dumps({"goal_metric": "val_accuracy", "tasks": [{"task": 0, "val_accuracy": 0.0}]}))
    out = tmp_path / "attempt0"
    job = Job(input=files(data=data, goals=goals),
              output=files(model=out / "finetune.pt", checksum=out / "finetune.pt.sha256", status=out / "status.json",
                           history=out / "history.csv"),
              params=Named({"method": cpg_params(), "suite": suite, "compute": COMPUTE}),
              wildcards=Named({"method": "cpg", "suite": "s", "seed": "0", "task": "0", "attempt": "0"}))
    torch.set_num_threads(1)
    run_stage("cpg_finetune", job)
    assert seen == [THREADS] and torch.get_num_threads() == THREADS
    assert json.loads((out / "status.json").read_text())["status"] in ("ok", "grow", "capped")


def test_prior_pretrain_script_passes_compute_threads(seen, synthetic_data, tmp_path):
    from tests.test_prior import PARAMS

    data, suite = synthetic_data
    out = tmp_path / "source"
    job = Job(input=files(data=data),
              output=files(model=out / "pretrained.pt", result=out / "pretrain.json",
                           history=out / "pretrain_history.csv"),
              params=Named({"method": StageParams({**PARAMS, "source_seed": 0}), "suite": suite, "compute": COMPUTE}))
    torch.set_num_threads(1)
    run_stage("prior_pretrain", job)
    assert seen == [THREADS] and torch.get_num_threads() == THREADS


def compute_scripts() -> set[str]:
    """The scripts of the rules that run models: those whose params pass `compute`."""
    from tests.test_stage import rules

    return {name for _, body in rules().values() if re.search(r"^        compute=", body, re.M)
            for name in re.findall(r"\.\./scripts/(\w+\.py)", body)}


def test_every_script_with_compute_runs_in_the_run_context():
    """A rule that passes ``compute`` (all training jobs: they reserve ``compute.threads`` cores) runs a script that
    ends in workflow.stage.run, whose run context (start_stage) sets the threads, seeds and device before its main;
    the script resolves no device and sets no thread count of its own."""
    checked = compute_scripts()
    for name in checked:
        text = (REPO / "scripts" / name).read_text()
        calls = [ast.unparse(node.func) for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Call)]
        assert "run" in calls, f"{name} passes compute but does not end in workflow.stage.run"
        assert not {"resolve_device", "torch.set_num_threads", "set_threads"} & set(calls), \
            f"{name} sets its device or threads itself: use job.device / job.threads"
    assert {"cpg_finetune.py", "cpg_prune.py", "cpg_retrain.py", "prior_pretrain.py", "prior_fit.py",
            "prior_transfer.py", "sidetune_train.py", "subspace_train.py", "dpnas_search.py", "baseline_train.py",
            "bsp_train.py"} <= checked


def test_run_context_sets_threads_seed_and_device():
    def job():
        return Job(params=Named({"compute": COMPUTE}), wildcards=Named({"seed": "3"}))

    torch.set_num_threads(1)
    first = job()
    start_stage(first)
    draw = torch.rand(3)
    assert torch.get_num_threads() == THREADS and str(first.device) == "cpu"
    start_stage(job())
    assert torch.equal(draw, torch.rand(3))  # seeded


def test_grow_script_runs_on_the_one_core_its_rule_reserves():
    text = (REPO / "scripts" / "cpg_grow.py").read_text()
    calls = [node for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Call)
             and ast.unparse(node.func) == "stages.grow"]
    assert calls and any(kw.arg == "threads" and ast.unparse(kw.value) == "1" for kw in calls[0].keywords)
    assert "threads: 1" in (REPO / "rules" / "cpg.smk").read_text().split("rule cpg_grow:")[1].split("rule ")[0]
