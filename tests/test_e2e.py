"""The test config through Snakemake, with --cores 2 (the whole DAG) and --cores 1 (a slice: the baseline, CPG's
per-task chain, BSP): every output exists, the slice's results are byte-identical to the whole run's, and a rerun
has nothing to do.

The two runs are conftest's session-wide ``test_config_run`` (made at once, shared with test_cpg.py, also across
pytest-xdist workers); a test that changes a run (git and DVC, a report, deleted figures) works on its own copy
(``copy_run``)."""

import filecmp
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import copy_run, snakemake
from workflow.config import merged_config

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def runs(test_config_run):
    cores = ("1", "2")
    return dict(zip(cores, test_config_run(*cores)))


def test_baseline_contract(runs):
    wd = runs["2"]
    base = wd / "results/baseline/split_digits_tiny/seed0"
    frame = pd.read_csv(base / "accuracy.csv")
    assert list(frame.columns) == ["after_task", "task", "accuracy"]
    assert len(frame) == 6  # 3 tasks: 1 + 2 + 3 evaluations
    assert frame["accuracy"].between(0, 1).all()
    goals = yaml.safe_load((base / "baseline_acc.json").read_text())
    assert len(goals["tasks"]) == 3
    assert (wd / "results/figures/baseline/split_digits_tiny_per_task_accuracy.png").stat().st_size > 1000
    for rule in ("download", "baseline_train", "baseline_collect"):
        assert any((wd / "logs" / rule).rglob("*.log")), rule
        assert any((wd / "benchmarks/rules" / rule).rglob("*.tsv")), rule


def test_results_do_not_depend_on_cores(runs):
    tables = sorted(p.relative_to(runs["1"]) for p in (runs["1"] / "results").rglob("*.csv"))
    assert {p.parts[1] for p in tables if p.name == "accuracy.csv"} == {"baseline", "cpg", "bsp"}, tables
    assert len([p for p in tables if p.name == "retrain_history.csv"]) == 3  # CPG's chain: every task
    for rel in tables:
        if "benchmark" in rel.parts:
            continue
        assert filecmp.cmp(runs["1"] / rel, runs["2"] / rel, shallow=False), f"{rel} differs"


def test_second_run_has_nothing_to_do(runs):
    proc = snakemake(runs["2"], "-n", "--cores", "2", "--configfile", "config/test.yaml")
    assert "Nothing to be done" in proc.stdout + proc.stderr


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


def test_report_is_one_html_file_with_every_figure(runs, tmp_path):
    wd = copy_run(runs["2"], tmp_path / "wf")
    snakemake(wd, "--cores", "1", "--configfile", "config/test.yaml", "--report", "results/report.html")
    html = (wd / "results/report.html").read_text(errors="replace")
    figures = sorted(p.name for p in (wd / "results/figures").rglob("*.png"))
    assert figures
    for name in figures:
        assert name in html, f"{name} missing from the report"
    assert "<script" in html and len(html) > 10_000


def test_figures_regenerate_from_tables_alone(runs, tmp_path):
    wd = copy_run(runs["2"], tmp_path / "wf")
    shutil.rmtree(wd / "results/figures")
    plan = snakemake(wd, "figures", "-n", "--cores", "1", "--configfile", "config/test.yaml").stdout
    outputs = [o.strip() for line in re.findall(r"^\s+output: (.+)$", plan, re.M) for o in line.split(",")]
    assert outputs, plan
    assert all(o.startswith("results/figures/") for o in outputs), outputs
    snakemake(wd, "figures", "--cores", "2", "--configfile", "config/test.yaml")
    proc = snakemake(wd, "-n", "--cores", "1", "--configfile", "config/test.yaml")
    assert "Nothing to be done" in proc.stdout + proc.stderr
