"""The Makefile: `make` alone lists every target, the Snakemake targets pass CORES and SMK_ARGS, and `make test`
says what it installs before apt-get runs. Only `make -n` and `make help` run here: nothing is built."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")

ARGS = "--configfile config/fashion.yaml"


def make(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(["make", "--no-print-directory", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def targets() -> list[str]:
    """Every explicit target of the Makefile (not variables' rules such as $(STAMP), not .PHONY)."""
    text = (REPO / "Makefile").read_text()
    return sorted(set(re.findall(r"^([a-z][a-z0-9_-]*):(?!=)", text, re.M)))


def snakemake_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if "bin/snakemake " in line]


def test_help_lists_every_target_and_is_the_default():
    listed = make("help").stdout
    assert make().stdout == listed  # a bare `make` prints the help
    names = [line.split()[0] for line in listed.splitlines() if line.startswith("  ")]
    assert sorted(names) == targets()
    for line in listed.splitlines()[1:]:
        assert len(line.split()) > 2, f"no description: {line!r}"


def test_dry_run_passes_the_arguments():
    out = make("-n", "dry-run", f"SMK_ARGS={ARGS}").stdout
    (line,) = snakemake_lines(out)
    assert line.endswith(f"snakemake -n --cores all {ARGS}"), line
    assert f"-m workflow.config {ARGS}" in out  # the config files are checked first


@pytest.mark.parametrize("target", ["dry-run", "report", "figures", "push", "pull", "reproduce"])
def test_every_snakemake_target_takes_cores_and_smk_args(target):
    out = make("-n", target, "CORES=3", f"SMK_ARGS={ARGS}").stdout
    lines = snakemake_lines(out)
    assert lines, out
    for line in lines:
        assert "--cores 3" in line and ARGS in line, line
    check = out.index(f"-m workflow.config {ARGS}")  # the config files are checked before anything runs
    assert all(check < out.index(line) for line in lines)
    assert "bin/dvc " not in out or check < out.index("bin/dvc ")


def test_test_says_what_it_installs_before_apt_runs():
    out = make("-n", "test-deps").stdout
    assert "installing system packages now, as root, with apt-get: slurmctld slurmd slurm-client munge" in out
    assert out.index("installing system packages now") < out.index("apt-get update")
    assert "SYSTEM_DEPS=0 skips this" in out
    test = make("-n", "test").stdout
    assert test.index("installing system packages now") < test.index("apt-get update") < test.index("pytest")
