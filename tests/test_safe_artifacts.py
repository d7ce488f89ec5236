"""Artifacts are data: every file the DAG writes with torch_save is tensors and plain containers, read back with
``weights_only=True``; a crafted pickle (even with a matching sha256 side-car, as a shared DVC remote could serve
it) is refused with a UserError that names the file and the fix, and its code never runs.

The artifacts are made by the real scripts (their ``main``, in-process, on the job its rule describes) on a tiny
generated dataset, with the resume checkpoints kept (the run context's removal is not called) so that they are
loaded too.
"""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import REPO
from workflow.config import merged_config
from workflow.data import fetch_dataset, save_arrays
from workflow.errors import UserError
from workflow.io import check_plain, sha256_file, torch_load, torch_save
from workflow.methods.prior import files
from workflow.methods.prior.networks import build_network as build_prior_network
from workflow.stage import Job, Named, start_stage
from workflow.stage import files as job_files
from workflow.training import rng_state, set_rng_state

COMPUTE = {"device": "cpu", "threads": 1}
SUITE = {"dataset": "synthetic", "grouping": "classes", "tasks": 2, "class_groups": [[0, 1], [2, 3]],
         "class_order_seed": 0, "val_fraction": 0.2}
SOURCE = {"dataset": "synthetic", "grouping": "classes", "tasks": 1, "class_groups": [[4, 5, 6, 7]],
          "class_order_seed": 0, "val_fraction": 0.2}
ONE_EPOCH = {"epochs": 1, "batch_size": 16}


class Payload:
    """Unpickling this creates ``marker``: what a crafted artifact would do (with any other callable)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def plant(path: Path, marker: Path, content=None) -> Path:
    """Write a torch file holding a Payload (inside ``content``'s structure) and a matching sha256 side-car."""
    obj = Payload(marker) if content is None else content(Payload(marker))
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path)
    path.with_name(path.name + ".sha256").write_text(sha256_file(path) + "\n")
    return path


def script(name: str):
    """scripts/<name>.py as a module."""
    spec = importlib.util.spec_from_file_location(f"_safe_artifacts_{name}", REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def call(name: str, *, input: dict, output: dict, params: dict, wildcards: dict | None = None) -> None:
    """scripts/<name>.py's main on the job its rule describes, after its run context (workflow.stage.start_stage
    when it passes compute) but without the removal of its resume files, so that the test loads them too."""
    job = Job(input=job_files(**input), output=job_files(**output), params=Named(params),
              wildcards=Named({k: str(v) for k, v in (wildcards or {}).items()}))
    if "compute" in params:
        start_stage(job)
    script(name).main(job)


def config_section(name: str) -> dict:
    """config/config.yaml's section overlaid with config/test.yaml's, as Snakemake merges them."""
    return merged_config(["--configfile", "config/test.yaml"], root=REPO)[name]


def sections() -> dict:
    baseline = config_section("baseline")
    baseline["train"].update(ONE_EPOCH)
    cpg = config_section("cpg")
    cpg["width"] = 0.5
    cpg["finetune"]["train"].update(ONE_EPOCH, lr_milestones=[1])
    cpg["finetune"]["mask_milestones"] = [[1, 0.2]]
    cpg["prune"].update(levels=[0.5], ramp_epochs=1, stop_margin=None)
    cpg["prune"]["train"].update(ONE_EPOCH)
    cpg["retrain"]["train"].update(ONE_EPOCH)
    prior = config_section("prior")
    prior.update(width=0.25, source_task=0)
    prior["pretrain"]["train"].update(ONE_EPOCH)
    prior["swag"].update(rank=2)
    prior["swag"]["train"].update(epochs=2, batch_size=16)
    side = config_section("sidetune")
    side["base"]["train"].update(ONE_EPOCH)
    side["side"]["distil"].update(ONE_EPOCH)
    side["train"].update(ONE_EPOCH)
    sub = config_section("subspace")
    sub["train"].update(ONE_EPOCH, warmup_epochs=0)
    return {"baseline": baseline, "cpg": cpg, "prior": prior, "sidetune": side, "subspace": sub}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Run one job of every rule that writes a torch file; returns (root folder, data folder, sections)."""
    root = tmp_path_factory.mktemp("artifacts")
    data = root / "data/synthetic/manifest.json"
    save_arrays(data.parent, fetch_dataset("synthetic", root / "raw", {"classes": 8, "per_class": 16, "seed": 0}))
    p = sections()
    seed0 = {"seed": 0}

    # baseline (per-task model + Trainer checkpoint), then its goals for CPG
    for t in range(2):
        call("baseline_train", **baseline_job(root / f"baseline/task{t}", data, p["baseline"], t))
    call("baseline_collect", input={"results": [root / f"baseline/task{t}/result.json" for t in range(2)]},
         output={"accuracy": root / "baseline/accuracy.csv", "summary": root / "baseline/summary.json",
                 "goals": root / "baseline/baseline_acc.json"}, params={"method": p["baseline"]})
    # CPG: finetune -> grow -> prune (sweep progress) -> choose -> retrain (patience hook state, test logits)
    task0 = root / "cpg/task0"
    call("cpg_finetune", **cpg_finetune_job(task0 / "attempt0", data, root / "baseline/baseline_acc.json", p["cpg"], 0))
    grow_status = root / "cpg/grow_status.json"
    grow_status.write_text('{"status": "grow", "multiplier": 1.0}')
    cpg = {"method": p["cpg"], "suite": SUITE}
    wildcards = {"method": "cpg", "suite": "s", "seed": 0, "task": 0}
    call("cpg_grow", input={"data": data, "status": grow_status},
         output={"start": task0 / "grown.pt", "checksum": task0 / "grown.pt.sha256"}, params=cpg,
         wildcards={**wildcards, "attempt": 1})
    call("cpg_prune", input={"data": data, "goals": root / "baseline/baseline_acc.json",
                             "model": task0 / "attempt0/finetune.pt", "status": task0 / "attempt0/status.json"},
         output={"record": task0 / "prune/record.json", "history": task0 / "prune/history.csv",
                 "levels": task0 / "prune/levels.pt", "checksum": task0 / "prune/levels.pt.sha256"},
         params={**cpg, "compute": COMPUTE}, wildcards=wildcards)
    call("cpg_choose", input={"record": task0 / "prune/record.json", "levels": task0 / "prune/levels.pt"},
         output={"model": task0 / "chosen.pt", "checksum": task0 / "chosen.pt.sha256", "choice": task0 / "choice.json"},
         params={"method": p["cpg"]}, wildcards=wildcards)
    call("cpg_retrain", input={"data": data, "chosen": task0 / "chosen.pt"},
         output={"model": task0 / "model.pt", "checksum": task0 / "model.pt.sha256", "eval": task0 / "eval.json",
                 "logits": task0 / "test_logits.pt", "history": task0 / "retrain_history.csv"},
         params={**cpg, "compute": COMPUTE}, wildcards=wildcards)
    # prior: pretrained network, SWAG (its checkpoint holds the collector), the four prior files
    prior = {"suite": SOURCE, "method": p["prior"], "compute": COMPUTE}
    call("prior_pretrain", input={"data": data},
         output={"model": root / "prior/pretrained.pt", "result": root / "prior/pretrain.json",
                 "history": root / "prior/pretrain_history.csv"}, params=prior)
    call("prior_fit", input={"data": data, "model": root / "prior/pretrained.pt"},
         output={"files": [root / f"prior/prior_{part}.pt" for part in files.SUFFIXES],
                 "manifest": root / "prior/prior_manifest.json", "history": root / "prior/swag_history.csv"},
         params=prior)
    # side-tuning: base, side, cached features, then three lifelong methods (model files and resume states)
    side = root / "sidetune"
    call("sidetune_pretrain", input={"source": data, "tasks": data},
         output={"base": side / "base/base.pt", "info": side / "base/base.json",
                 "history": side / "base/base_history.csv"},
         params={"source": SOURCE, "suite": SUITE, "method": p["sidetune"], "compute": COMPUTE}, wildcards=seed0)
    call("sidetune_distil", input={"source": data, "base": side / "base/base.pt"},
         output={"side": side / "side/side.pt", "info": side / "side/side.json",
                 "history": side / "side/side_history.csv"},
         params={"source": SOURCE, "method": p["sidetune"], "compute": COMPUTE}, wildcards=seed0)
    call("sidetune_cache", input={"data": data, "base": side / "base/base.pt"},
         output={"features": side / "features.pt"}, params={"suite": SUITE, "compute": COMPUTE}, wildcards=seed0)
    inputs = {"sidetune": {"side": side / "side/side.pt", "features": side / "features.pt"}, "ewc": {},
              "independent": {}}
    for method, extra in inputs.items():
        out = side / method
        call("sidetune_train", input={"data": data, "base": side / "base/base.pt", **extra},
             output={"accuracy": out / "accuracy.csv", "summary": out / "summary.json", "model": out / "model.pt",
                     "history": out / "history.csv", "alphas": out / "alphas.csv"},
             params={"suite": SUITE, "lmethod": method, "method": p["sidetune"], "compute": COMPUTE},
             wildcards=seed0)
    # subspaces: a line (its checkpoint holds the sampling generator) and a standard network
    task1 = {**SOURCE, "class_groups": [[0, 1, 2, 3]]}
    for model in ("line", "standard1"):
        call("subspace_train", input={"data": data},
             output={"model": root / f"subspace/{model}.pt", "history": root / f"subspace/{model}.csv"},
             params={"suite": task1, "method": p["subspace"], "compute": COMPUTE},
             wildcards={"dataset": "synthetic", "seed": 0, "model": model})
    return root, data.parent, p


def baseline_job(out: Path, data: Path, params: dict, task: int) -> dict:
    return dict(input={"data": data}, output={"model": out / "model.pt", "result": out / "result.json",
                                              "history": out / "history.csv"},
                params={"suite": SUITE, "method": params, "compute": COMPUTE},
                wildcards={"suite": "s", "seed": 0, "task": task})


def cpg_finetune_job(out: Path, data: Path, goals: Path, params: dict, task: int, start: Path | None = None) -> dict:
    return dict(input={"data": data, "goals": goals, **({"start": start} if start else {})},
                output={"model": out / "finetune.pt", "checksum": out / "finetune.pt.sha256",
                        "status": out / "status.json", "history": out / "history.csv"},
                params={"method": params, "suite": SUITE, "compute": COMPUTE},
                wildcards={"method": "cpg", "suite": "s", "seed": 0, "task": task, "attempt": 0})


def test_every_artifact_is_plain_data_and_loads_weights_only(made):
    root, _, _ = made
    written = sorted(root.rglob("*.pt"))
    names = {p.relative_to(root).as_posix() for p in written}
    expected = {"baseline/task0/model.pt", "baseline/task0/.resume.pt", "cpg/task0/attempt0/finetune.pt",
                "cpg/task0/attempt0/.resume.pt", "cpg/task0/grown.pt", "cpg/task0/prune/levels.pt",
                "cpg/task0/prune/.resume.pt",
                "cpg/task0/chosen.pt", "cpg/task0/model.pt", "cpg/task0/test_logits.pt", "prior/pretrained.pt",
                "prior/.pretrain.resume.pt", "prior/.fit.resume.pt", "prior/prior_model.pt", "prior/prior_mean.pt",
                "prior/prior_variance.pt", "prior/prior_covmat.pt", "sidetune/base/base.pt", "sidetune/side/side.pt",
                "sidetune/features.pt", "sidetune/sidetune/model.pt", "sidetune/sidetune/.resume.pt",
                "sidetune/ewc/model.pt", "sidetune/ewc/.resume.pt", "sidetune/independent/model.pt",
                "subspace/line.pt", "subspace/.line.resume.pt", "subspace/standard1.pt"}
    assert expected <= names, sorted(expected - names)
    for path in written:
        state = torch_load(path)  # weights_only=True: refused if anything but tensors and plain data
        check_plain(state, str(path))


def test_artifacts_still_rebuild_their_models(made):
    """The loaders the next rules use: CPG network, prior files, side-tuning base/side/features, subspaces."""
    root, data, p = made
    from workflow.data import build_suite, load_arrays
    from workflow.methods.cpg.network import CPGNet
    from workflow.methods.sidetune.artifacts import load_base, load_features, load_side

    net = CPGNet.from_state(torch_load(root / "cpg/task0/model.pt")["network"])
    assert net.num_tasks == 1 and net.tasks[0]["bn"]
    grown = CPGNet.from_state(torch_load(root / "cpg/task0/grown.pt")["network"])
    assert grown.spec.multiplier > 1.0
    saved = torch_load(root / "prior/pretrained.pt")
    prior_net = build_prior_network(saved["network"], saved["network"]["in_shape"], 4)
    stats = files.load_prior(root / "prior/prior", prior_net.backbone)
    assert stats["factor"].shape[1] == p["prior"]["swag"]["rank"]
    backbone, state = load_base(root / "sidetune/base/base.pt")
    load_side(root / "sidetune/side/side.pt")
    assert len(load_features(root / "sidetune/features.pt", state["sha256"])) == 2
    task = build_suite({**SOURCE, "class_groups": [[0, 1, 2, 3]]}, load_arrays(data))[0]
    subspace_eval = script("subspace_eval")
    for model in ("line", "standard1"):
        spec, _ = subspace_eval.load(root / f"subspace/{model}.pt", task, "cpu")
        assert spec.kind == ("line" if model == "line" else "standard")


def test_rng_state_round_trips_through_a_checkpoint(tmp_path):
    state = rng_state()
    expected = (np.random.rand(3), torch.rand(3))
    torch_save(tmp_path / "rng.pt", {"rng": state})
    np.random.rand(5), torch.rand(5)
    set_rng_state(torch_load(tmp_path / "rng.pt")["rng"])
    assert np.array_equal(np.random.rand(3), expected[0]) and torch.equal(torch.rand(3), expected[1])


@pytest.mark.parametrize("bad", [np.float64(1.0), np.zeros(2), np.int64(3), Path("x"), {("a", 1): 1}])
def test_torch_save_refuses_what_weights_only_cannot_read(tmp_path, bad):
    with pytest.raises(TypeError, match="artifact.pt"):
        torch_save(tmp_path / "artifact.pt", {"value": [bad]})
    assert not (tmp_path / "artifact.pt").exists()


def refused(exc_info, path: Path, marker: Path):
    message = str(exc_info.value)
    assert str(path) in message and "delete it" in message and "untrusted" in message, message
    assert not marker.exists(), "the crafted file's code ran"


def test_the_payload_is_live(tmp_path):
    """Control: the crafted file does run code when unpickled without weights_only (so the tests below test)."""
    marker = tmp_path / "pwned"
    path = plant(tmp_path / "evil.pt", marker)
    torch.load(path, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("wrap", [None, lambda x: {"network": x}, lambda x: {"model": {"w": x}, "epoch": 1}],
                         ids=["bare", "in-dict", "nested"])
def test_torch_load_refuses_a_crafted_file_with_a_valid_side_car(tmp_path, wrap):
    marker = tmp_path / "pwned"
    path = plant(tmp_path / "evil.pt", marker, wrap)
    with pytest.raises(UserError) as exc_info:
        torch_load(path)
    refused(exc_info, path, marker)


def test_a_plain_pickle_is_refused_too(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(Payload(marker), protocol=2))
    path.with_name(path.name + ".sha256").write_text(sha256_file(path) + "\n")
    with pytest.raises(UserError) as exc_info:
        torch_load(path)
    refused(exc_info, path, marker)


def test_crafted_resume_checkpoint_is_refused(made, tmp_path):
    """A job resumes from .resume.pt: the training loop's load_checkpoint must refuse a crafted one."""
    root, data, p = made
    marker = tmp_path / "pwned"
    out = tmp_path / "baseline/task0"
    resume = plant(out / ".resume.pt", marker, lambda x: {"epoch": 0, "model": x})
    with pytest.raises(UserError) as exc_info:
        call("baseline_train", **baseline_job(out, data / "manifest.json", p["baseline"], 0))
    refused(exc_info, resume, marker)
    assert not (out / "model.pt").exists()


def test_crafted_cpg_task_model_is_refused(made, tmp_path):
    """cpg_finetune starts a task from the previous task's model.pt (or a grown one): a crafted one is refused."""
    root, data, p = made
    marker = tmp_path / "pwned"
    start = plant(tmp_path / "task0/model.pt", marker, lambda x: {"network": x})
    with pytest.raises(UserError) as exc_info:
        call("cpg_finetune", **cpg_finetune_job(tmp_path / "task1/attempt0", data / "manifest.json",
                                                root / "baseline/baseline_acc.json", p["cpg"], 1, start=start))
    refused(exc_info, start, marker)


@pytest.mark.parametrize("part", files.SUFFIXES)
def test_crafted_prior_file_is_refused(made, tmp_path, part):
    """Each of the prior's four files, with its manifest intact and a matching side-car."""
    root, _, _ = made
    prefix = tmp_path / "prior"
    for name in ("manifest.json", *(f"{s}.pt" for s in files.SUFFIXES), *(f"{s}.pt.sha256" for s in files.SUFFIXES)):
        (tmp_path / f"prior_{name}").write_bytes((root / f"prior/prior_{name}").read_bytes())
    marker = tmp_path / "pwned"
    evil = plant(files.prior_paths(prefix)[part], marker, None if part != "model" else lambda x: {"state_dict": x})
    saved = torch_load(root / "prior/pretrained.pt")
    backbone = build_prior_network(saved["network"], saved["network"]["in_shape"], 4).backbone
    with pytest.raises(UserError) as exc_info:
        files.load_prior(prefix, backbone)
    refused(exc_info, evil, marker)
