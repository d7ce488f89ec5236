"""CPG's slice of the test config's DAG through `snakemake --executor slurm` on a real single-node cluster equals the
same slice run locally, file for file.

The slice: CPG and the methods its jobs read (the registry's `needs`: the baseline, whose accuracies are CPG's
goals), their tables and metrics, and the claims table results/claims.csv with the claims about them (one compares
CPG with the baseline). An overlay (GROW) shortens the suite to 2 tasks and gives CPG a finetune that cannot reach
its goal, so task 0's first attempt says `grow`: after CPG's checkpoint (cpg_finetune) Snakemake adds a cpg_grow job
and a second attempt, at the maximum width (`capped`), and task 1 starts from the grown network. The same slice runs
locally at the same time (the cluster's jobs mostly wait), and every table and summary of the two runs is compared.

A SLURM job runs a Snakemake of its own and is seen finished only at the executor's next status check, so each job
costs seconds of CPU and up to half a minute of waiting: the slice keeps to the jobs that matter here.

Run it alone: `make test-slurm`. Needs root and Debian's slurmctld, slurmd, slurm-client and munge; elsewhere it
is skipped with the reason."""

import filecmp
import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import copy_workflow, start_snakemake
from tests.slurm_cluster import SNAKEMAKE_FLAGS, SingleNodeSlurm, missing_requirements
from workflow.claims import NO_RESULTS, all_claims
from workflow.methods.registry import METHODS

pytestmark = [pytest.mark.slurm, pytest.mark.e2e]

GROW = {
    "suites": {"split_digits_tiny": {"tasks": 2}},
    "cpg": {"finetune": {"train": {"lr": 1.0e-5}}},  # chance accuracy, below the baseline's: attempt 0 grows
}
TARGETS = ["results", "results/claims.csv"]  # the tables, metrics and claims (the figures run in the e2e tests)


def slice_methods() -> list[str]:
    """CPG and, through the registry's `needs`, every method whose results its jobs read (registry order)."""
    methods = {"cpg"}
    while more := {n for m in methods for n in METHODS[m].needs} - methods:
        methods |= more
    return [m for m in METHODS if m in methods]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = missing_requirements()
    if reason:
        pytest.skip(f"single-node SLURM unavailable: {reason}")
    # outside pytest's private (mode 700) tmp tree: munged checks the socket path
    state = Path(tempfile.mkdtemp(prefix="cllab-slurm-"))
    slurm = SingleNodeSlurm(state)
    try:
        slurm.start()
        yield slurm
    finally:
        slurm.stop()
        shutil.rmtree(state, ignore_errors=True)
    assert all(p.poll() is not None for p in slurm.procs.values())


def tables(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for folder in ("results", "metrics") for p in (root / folder).rglob("*")
                  if p.suffix in (".csv", ".json"))


def test_slurm_run_equals_local_run(cluster, tmp_path):
    methods = slice_methods()
    assert len(methods) > 1, methods  # the claims table compares methods
    args = ["--configfile", "config/test.yaml", "grow.yaml", "--config", f"methods=[{','.join(methods)}]", "--",
            *TARGETS]
    local, remote = copy_workflow(tmp_path / "local"), copy_workflow(tmp_path / "slurm")
    for wd in (local, remote):
        (wd / "grow.yaml").write_text(yaml.safe_dump(GROW))
    on_slurm = start_snakemake(remote, *SNAKEMAKE_FLAGS, *args, timeout=1500)
    try:
        start_snakemake(local, "--cores", "1", *args).wait()
    finally:
        proc = on_slurm.wait(check=False)
    assert proc.returncode == 0, f"snakemake on SLURM failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    assert "slurm" in (proc.stdout + proc.stderr).lower()

    # every table and summary of the slice, the claims included, equals the local run's
    files = tables(local)
    assert tables(remote) == files
    assert {"results/claims.csv", *(f"metrics/{m}.json" for m in methods)} <= {str(p) for p in files}
    for rel in files:
        assert filecmp.cmp(local / rel, remote / rel, shallow=False), f"{rel} differs between SLURM and local runs"

    # the checkpoint grew the network: attempt 0 said `grow`, a grow step and attempt 1 at a larger width followed
    grown = sorted(remote.glob("results/cpg/*/seed*/task0/attempt1"))
    assert grown, "no growth step in CPG's results"
    for attempt1 in grown:
        first = json.loads((attempt1.parent / "attempt0/status.json").read_text())
        second = json.loads((attempt1 / "status.json").read_text())
        assert first["status"] == "grow" and second["multiplier"] > first["multiplier"], (first, second)
        assert (attempt1 / "start.pt").exists()

    # the claims about the slice, a cross-method one among them, each with a verdict
    needs = {(c.method, c.claim): set(c.needs) for c in all_claims()}
    claims = pd.read_csv(remote / "results/claims.csv")
    rows = list(zip(claims["method"], claims["claim"]))
    assert sorted(rows) == sorted(k for k, n in needs.items() if n <= set(methods)), rows
    assert any(len(needs[k]) > 1 for k in rows) and NO_RESULTS not in set(claims["verdict"]), claims

    # every rule of the slice ran as a SLURM job, the growth step included
    submitted = "\n".join(p.read_text() for p in (remote / ".snakemake" / "log").glob("*.log"))
    rules = {p.name for p in (remote / "benchmarks" / "rules").iterdir()}
    assert {"cpg_finetune", "cpg_grow", "cpg_prune", "cpg_choose", "cpg_retrain", "claims"} <= rules, rules
    for rule in rules:
        assert f"slurm_logs/rule_{rule}/" in submitted, f"rule {rule} was not submitted to SLURM"
