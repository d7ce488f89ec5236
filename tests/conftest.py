"""Shared fixtures: tiny in-memory task suites and a throw-away copy of the workflow for Snakemake runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = ["Snakefile", "rules", "scripts", "workflow", "config", "report", "dvc.yaml", ".dvcignore", ".dvc",
                  ".gitignore",
                  "Makefile"]


def make_tasks(n_tasks: int = 2, classes_per_task: int = 2, per_class: int = 40, seed: int = 0,
               val_fraction: float = 0.2):
    """A suite of generated 8x8 tasks (the registry's `synthetic` dataset), built in memory."""
    from workflow.data import build_suite, fetch_dataset

    data = fetch_dataset("synthetic", "unused", {"classes": n_tasks * classes_per_task, "per_class": per_class,
                                                 "seed": seed})
    spec = {"dataset": "synthetic", "tasks": n_tasks, "classes_per_task": classes_per_task, "class_order_seed": 0,
            "val_fraction": val_fraction}
    return build_suite(spec, data)


@pytest.fixture
def tiny_tasks():
    return make_tasks()


def copy_workflow(dest: Path) -> Path:
    """Copy the workflow's source (not results, not .snakemake) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "tmp", "cache"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture
def workdir(tmp_path):
    return copy_workflow(tmp_path / "wf")


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = 1200) -> subprocess.CompletedProcess:
    """Run Snakemake (the one of this interpreter's environment) in ``workdir``; output captured as text."""
    cmd = [sys.executable, "-m", "snakemake", *args]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n"
                             f"{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="session")
def test_config_run(tmp_path_factory):
    """``test_config_run(cores)``: the whole test config run once per session with that many cores, shared by the
    end-to-end tests and the SLURM test (which compares its cluster run with the local one)."""
    made: dict[str, Path] = {}

    def get(cores: str = "2") -> Path:
        if cores not in made:
            wd = copy_workflow(tmp_path_factory.mktemp(f"cores{cores}"))
            snakemake(wd, "--cores", cores, "--configfile", "config/test.yaml")
            made[cores] = wd
        return made[cores]

    return get
