"""The test config through Snakemake, with --cores 2 (the whole DAG) and --cores 1 (a slice: the baseline, CPG's
per-task chain, BSP): every output exists, the slice's results are byte-identical to the whole run's, and a rerun
has nothing to do.

The two runs are conftest's session-wide ``test_config_run`` (made at once, shared with test_cpg.py, also across
pytest-xdist workers); a test that changes a run (git and DVC, a report, deleted figures) works on its own copy
(``copy_run``)."""

import filecmp
import re
import shutil

import pandas as pd
import pytest
import yaml

from tests.conftest import copy_run, snakemake

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
