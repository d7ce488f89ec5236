"""The README's sharing steps on the session's shared test-config run: the producer pushes, a consumer clones and
pulls, and has nothing to recompute. Apart from test_e2e.py so that another pytest-xdist worker runs it beside the
other end-to-end tests once the shared run exists."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import copy_run, snakemake
from workflow.config import merged_config

pytestmark = pytest.mark.e2e


def git(wd, *args):
    subprocess.run(["git", *args], cwd=wd, check=True, capture_output=True)


def dvc(wd, *args):
    exe = Path(sys.executable).with_name("dvc")
    proc = subprocess.run([str(exe), *args], cwd=wd, capture_output=True, text=True)
    assert proc.returncode == 0, f"dvc {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def file_hashes(root: Path, folders) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for f in folders for p in sorted((root / f).rglob("*")) if p.is_file()}


def make(wd, *args) -> str:
    """`make` in ``wd`` as from a fresh clone with no environment activated: this interpreter's environment is
    not on PATH (DVC's stages must find `snakemake` through the Makefile). The copy has no .venv of its own:
    BIN names this environment's and `-o venv` keeps make from building one."""
    bin_dir = Path(sys.executable).parent
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p) != bin_dir)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL")}
    env.update(PATH=path, PYTHONHASHSEED="0")
    proc = subprocess.run(["make", "--no-print-directory", "-o", "venv", f"BIN={bin_dir}", *args], cwd=wd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800)
    assert proc.returncode == 0, f"make {' '.join(args)}:\n{proc.stdout[-12000:]}"
    return proc.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")
def test_dvc_push_clone_pull_touch_plans_nothing(test_config_run, tmp_path):
    """The README's steps: the producer runs `make push` and commits dvc.lock, params.yaml and metrics/; the
    consumer clones and runs `make pull` (no SMK_ARGS: the committed params.yaml is the config) and gets the
    same files, with nothing left for Snakemake to do."""
    producer = copy_run(test_config_run("2"), tmp_path / "producer")
    methods = merged_config(["--configfile", "config/test.yaml"], root=producer)["methods"]  # `all`: the registry
    git(producer, "init", "-q")
    dvc(producer, "remote", "add", "-d", "-f", "local", str(tmp_path / "remote"))
    git(producer, "add", "-A", "--", ".", ":!metrics")
    git(producer, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "source")
    make(producer, "push", "CORES=2", "SMK_ARGS=--configfile config/test.yaml")
    lock = yaml.safe_load((producer / "dvc.lock").read_text())["stages"]
    assert set(lock) == {"data", *methods, "figures"}
    assert lock["cpg"]["params"]["params.yaml"]["cpg"] == yaml.safe_load((producer / "params.yaml").read_text())["cpg"]
    git(producer, "add", "dvc.lock", "params.yaml", "metrics")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=producer,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    assert status and all(line[:2] in ("A ", "M ") for line in status), status  # the README's list is complete
    git(producer, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "results")

    consumer = tmp_path / "consumer"
    git(tmp_path, "clone", "-q", str(producer), str(consumer))
    assert not (consumer / "results").exists()
    out = make(consumer, "pull", "CORES=1")
    assert "Nothing to be done" in out.split("snakemake -n", 1)[-1]
    folders = ["resources/data", *[f"results/{m}" for m in methods], "results/figures", "metrics"]
    assert file_hashes(consumer, folders) == file_hashes(producer, folders)
    proc = snakemake(consumer, "-n", "--cores", "1", "--configfile", "config/test.yaml")
    assert "Nothing to be done" in proc.stdout + proc.stderr
