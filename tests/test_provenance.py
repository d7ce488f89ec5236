"""Provenance in every summary.json: the config section's sha256, the code version (git commit and dirty flag in a
checkout, else the cl-lab package version), the torch version and the device."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
import torch

from tests.conftest import REPO, copy_workflow
from workflow import provenance
from workflow.methods.common import write_continual_results
from workflow.provenance import code_version, config_sha256, write_summary
from workflow.stage import Job, Named, files

SECTION = {"model": "small_cnn", "width": 0.5, "train": {"epochs": 3, "lr": 0.05, "schedule": "cosine"}}
FIELDS = {"config_sha256", "code_version", "code_dirty", "torch_version", "device"}


def test_summary_written_by_the_helper_has_every_field(tmp_path):
    summary = write_summary(tmp_path / "summary.json", {"average_accuracy": 0.5}, params=SECTION, device="cpu")
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk == summary and on_disk["average_accuracy"] == 0.5
    prov = on_disk["provenance"]
    assert set(prov) == FIELDS
    canonical = json.dumps(SECTION, sort_keys=True, separators=(",", ":"))
    assert prov["config_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert prov["torch_version"] == torch.__version__
    assert prov["device"] == "cpu"
    assert prov["code_version"] == code_version()["code_version"]


def test_config_hash_is_of_the_canonical_json():
    reordered = {"train": {"schedule": "cosine", "lr": 0.05, "epochs": 3}, "width": 0.5, "model": "small_cnn"}
    assert config_sha256(reordered) == config_sha256(SECTION)
    assert config_sha256(json.loads(json.dumps(SECTION, indent=4))) == config_sha256(SECTION)
    assert config_sha256({**SECTION, "width": 0.25}) != config_sha256(SECTION)
    assert config_sha256(None) is None


@pytest.mark.skipif(not (REPO / ".git").exists() or shutil.which("git") is None, reason="not a git checkout")
def test_code_version_of_this_checkout_is_its_commit():
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode:
        pytest.skip(f"git cannot read this checkout: {head.stderr.strip()}")
    version = code_version(REPO)
    assert version["code_version"] == f"git:{head.stdout.strip()}"
    assert isinstance(version["code_dirty"], bool)


def test_a_copy_that_is_no_checkout_gives_the_package_version(tmp_path):
    copy = copy_workflow(tmp_path / "wf")
    assert code_version(copy) == {"code_version": f"cl-lab {importlib.metadata.version('cl-lab')}", "code_dirty": None}


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_dirty_flag_follows_code_changes_only(tmp_path):
    repo = tmp_path / "repo"
    (repo / "workflow").mkdir(parents=True)
    (repo / "metrics").mkdir()
    (repo / "workflow/x.py").write_text("x = 1\n")
    (repo / "metrics/m.json").write_text("{}\n")

    def git(*args):
        subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args], check=True,
                       capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "init")
    provenance.code_version.cache_clear()
    clean = code_version(repo)
    assert re.fullmatch(r"git:[0-9a-f]{40}", clean["code_version"]) and clean["code_dirty"] is False
    (repo / "metrics/m.json").write_text('{"a": 1}\n')  # DVC rewrites metrics while it runs: not code
    provenance.code_version.cache_clear()
    assert code_version(repo)["code_dirty"] is False
    (repo / "workflow/x.py").write_text("x = 2\n")
    provenance.code_version.cache_clear()
    assert code_version(repo) == {**clean, "code_dirty": True}
    provenance.code_version.cache_clear()


def test_continual_results_carry_provenance(tmp_path):
    r = np.array([[0.9, np.nan], [0.8, 0.7]])
    write_continual_results(tmp_path, r, extra_summary={"method": "x"}, params=SECTION, device="cpu")
    prov = json.loads((tmp_path / "summary.json").read_text())["provenance"]
    assert prov["config_sha256"] == config_sha256(SECTION) and prov["device"] == "cpu"


def test_a_real_collect_script_records_its_params(tmp_path):
    """scripts/baseline_collect.py's summary.json (in-process, on two hand-written per-task results)."""
    results = []
    for t, acc in enumerate((0.9, 0.8)):
        path = tmp_path / f"task{t}/result.json"
        path.parent.mkdir()
        path.write_text(json.dumps({"task": t, "name": f"t{t}", "classes": [2 * t, 2 * t + 1], "seed": 0,
                                    "val": {"accuracy": acc}, "test": {"accuracy": acc}}))
        results.append(path)
    spec = importlib.util.spec_from_file_location("_prov_baseline_collect", REPO / "scripts/baseline_collect.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(Job(input=files(results=results), output=files(accuracy=tmp_path / "accuracy.csv",
                                                               summary=tmp_path / "summary.json",
                                                               goals=tmp_path / "baseline_acc.json"),
                    params=Named({"method": SECTION})))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["method"] == "baseline"
    assert set(summary["provenance"]) == FIELDS
    assert summary["provenance"]["config_sha256"] == config_sha256(SECTION)
    assert summary["provenance"]["device"] is None  # a collect step runs no model


def test_torch_version_without_importing_torch_is_the_same():
    """A collect job that never imports torch records the same version string as a training job."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import sys; from workflow.provenance import torch_version; "
                          "print(torch_version()); print('torch' in sys.modules)"], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == [torch.__version__, "False"]
