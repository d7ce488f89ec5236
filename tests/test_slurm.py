"""The test config's DAG through `snakemake --executor slurm` on a real single-node cluster equals a local run.

Run it alone: `make test-slurm`. Needs root and Debian's slurmctld, slurmd, slurm-client and munge; elsewhere it
is skipped with the reason."""

import filecmp
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import copy_workflow, snakemake
from tests.slurm_cluster import SNAKEMAKE_FLAGS, SingleNodeSlurm, missing_requirements

pytestmark = [pytest.mark.slurm, pytest.mark.e2e]


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


def test_slurm_run_equals_local_run(cluster, test_config_run, tmp_path):
    local = test_config_run("2")  # the end-to-end tests' local run when they ran first
    remote = copy_workflow(tmp_path / "slurm")
    proc = snakemake(remote, *SNAKEMAKE_FLAGS, "--configfile", "config/test.yaml", timeout=1500)
    assert "slurm" in (proc.stdout + proc.stderr).lower()
    tables = sorted(p.relative_to(local) for p in (local / "results").rglob("*") if p.suffix in (".csv", ".json"))
    assert tables
    for rel in tables:
        assert filecmp.cmp(local / rel, remote / rel, shallow=False), f"{rel} differs between SLURM and local runs"
    # every rule's jobs really went through SLURM
    submitted = "\n".join(p.read_text() for p in (remote / ".snakemake" / "log").glob("*.log"))
    rules = {p.name for p in (local / "benchmarks" / "rules").iterdir()}
    assert rules
    for rule in rules:
        assert f"slurm_logs/rule_{rule}/" in submitted, f"rule {rule} was not submitted to SLURM"
