"""The test config through Snakemake, twice (--cores 1 and --cores 2): every output exists, results are
byte-identical between the runs, and a rerun has nothing to do."""

import filecmp
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import copy_workflow, snakemake

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = {}
    for cores in ("1", "2"):
        wd = copy_workflow(tmp_path_factory.mktemp(f"cores{cores}"))
        snakemake(wd, "--cores", cores, "--configfile", "config/test.yaml")
        out[cores] = wd
    return out


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
    assert any(p.name == "accuracy.csv" for p in tables)
    for rel in tables:
        if "benchmark" in rel.parts:
            continue
        assert filecmp.cmp(runs["1"] / rel, runs["2"] / rel, shallow=False), f"{rel} differs"


def test_second_run_has_nothing_to_do(runs):
    proc = snakemake(runs["2"], "-n", "--cores", "2", "--configfile", "config/test.yaml")
    assert "Nothing to be done" in proc.stdout + proc.stderr
