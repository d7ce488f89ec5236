"""Shared fixtures: tiny in-memory task suites and a throw-away copy of the workflow for Snakemake runs."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
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
    return start_snakemake(workdir, *args, timeout=timeout).wait(check=check)


def start_snakemake(workdir: Path, *args: str, timeout: int = 1200) -> "SnakemakeProcess":
    """Snakemake started in ``workdir`` in the background; ``.wait()`` returns what ``snakemake()`` returns."""
    return SnakemakeProcess(workdir, *args, timeout=timeout)


class SnakemakeProcess:
    """A Snakemake process whose output goes to temporary files (so several can run at once, no pipe fills up);
    ``wait()`` gives it what is left of ``timeout`` and raises what ``snakemake()`` raises."""

    def __init__(self, workdir: Path, *args: str, timeout: int = 1200):
        self.args, self.timeout = args, timeout
        self.out, self.err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
        cmd = [sys.executable, "-m", "snakemake", *args]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=workdir, stdout=self.out, stderr=self.err, text=True, env=env)

    def stop(self) -> None:
        """Kill it if it still runs (a test that gives up on it)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def wait(self, check: bool = True) -> subprocess.CompletedProcess:
        try:
            self.proc.wait(timeout=max(1.0, self.timeout - (time.monotonic() - self.started)))
        except BaseException:  # timeout, or the test session interrupted
            self.stop()
            raise
        finally:
            self.out.seek(0)
            self.err.seek(0)
            stdout, stderr = self.out.read(), self.err.read()
            self.out.close()
            self.err.close()
        proc = subprocess.CompletedProcess(self.proc.args, self.proc.returncode, stdout, stderr)
        if check and proc.returncode != 0:
            raise AssertionError(f"snakemake {' '.join(self.args)} failed ({proc.returncode}):\n{stdout[-4000:]}\n"
                                 f"{stderr[-6000:]}")
        return proc


def copy_run(run: Path, dest: Path) -> Path:
    """A private copy of a finished run (workflow, results, .snakemake records), timestamps kept: Snakemake finds
    it as up to date as the original. For tests that change a shared run (git, DVC, a report, deleted figures)."""
    shutil.copytree(run, dest, symlinks=True)
    return dest


@contextlib.contextmanager
def file_lock(path: Path):
    """An exclusive lock across processes (pytest-xdist workers) for the ``with`` block."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# The shared runs below: the whole test config with --cores 2, and with --cores 1 a slice of it that the end-to-end
# tests compare with the whole run (byte-identical tables): the baseline, CPG's checkpointed per-task chain and
# BSP (side-tuning's base and a lifelong method). Both start at once, whichever is asked first.
SHARED_CORES = ("1", "2")
SHARED_SLICES = {"1": ["results/baseline/split_digits_tiny/seed0/summary.json",
                       "results/cpg/split_digits_tiny/seed0/summary.json",
                       "results/bsp/split_digits_side_tiny/seed0/summary.json"]}


@pytest.fixture(scope="session")
def test_config_run(tmp_path_factory):
    """``test_config_run("1", "2")``: the test config run with each of these core counts (the whole DAG, or the
    slice SHARED_SLICES names), its folder (one count) or folders (several). Each run is made once per test session,
    those of SHARED_CORES together (at once, whichever is asked first), and shared by the end-to-end tests and the
    methods' DAG tests.

    Under pytest-xdist every worker has this session fixture: the runs live in the folder the workers share (the
    parent of each worker's temporary folder) and a file lock lets the first worker that asks make them while the
    others wait (test_cpg.py's worker), then read them. A run that failed fails every test that asks for it, with
    its error. Tests must not change a shared run: copy_run() gives a private copy."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "test_config_runs"
    root.mkdir(exist_ok=True)

    def folder(cores: str) -> Path:
        return root / f"cores{cores}"

    def record(cores: str) -> Path:
        return root / f"cores{cores}.json"

    def get(*cores: str) -> Path | tuple[Path, ...]:
        cores = tuple(str(c) for c in cores) or ("2",)
        if not all(record(c).exists() for c in cores):
            with file_lock(root / "lock"):
                todo = [c for c in dict.fromkeys((*cores, *SHARED_CORES)) if not record(c).exists()]
                started = {}
                try:
                    for c in todo:
                        shutil.rmtree(folder(c), ignore_errors=True)  # what an interrupted worker left
                        started[c] = start_snakemake(copy_workflow(folder(c)), *SHARED_SLICES.get(c, []), "--cores",
                                                     c, "--configfile", "config/test.yaml")
                    for c, run in started.items():
                        try:
                            run.wait()
                            error = None
                        except (AssertionError, subprocess.TimeoutExpired) as exc:
                            error = str(exc) or repr(exc)
                        record(c).write_text(json.dumps({"cores": c, "error": error}))
                finally:  # interrupted: no run keeps going without its test
                    for run in started.values():
                        run.stop()
        for c in cores:
            error = json.loads(record(c).read_text())["error"]
            if error:
                raise AssertionError(f"the shared run of config/test.yaml with --cores {c} failed:\n{error}")
        return folder(cores[0]) if len(cores) == 1 else tuple(folder(c) for c in cores)

    return get


# `make test` runs the suite in pytest-xdist workers with `--dist loadfile`: a test file's tests run in one worker,
# so test_e2e.py's module fixture (the runs above) is set up once. The SLURM test (mostly waiting for its cluster)
# and the other end-to-end files start first, so the longest chains begin at once and the short tests fill the cores
# around them; the DVC round trip (test_dvc_roundtrip.py) waits for the shared run in a worker of its own and then
# runs beside test_e2e.py's tests. (xdist's `loadgroup` would group by mark, but with pytest 9.2 it silently does
# not: xdist #1386.)
def _first(item) -> int:
    return 0 if item.get_closest_marker("slurm") else 1 if item.get_closest_marker("e2e") else 2


def pytest_addoption(parser):
    parser.addoption("--machine-speed", action="store_true",
                     help="after the tests, measure and print the machine-speed reference (benchmarks.common."
                          "machine_speed), so the suite's time compares with runs on other machines")


def pytest_terminal_summary(terminalreporter, config):
    """`make test`'s last line: this machine's speed beside the budget's reference machine (benchmarks/budget.csv),
    measured once the tests are done (the cores are idle). A suite time is comparable only with it."""
    if not config.getoption("machine_speed") or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    from benchmarks.common import machine_speed

    speed = machine_speed()
    line = f"machine-speed reference: {speed:.2f} s on this machine"
    budget = REPO / "benchmarks/budget.csv"
    if budget.exists():
        import pandas as pd

        reference = float(pd.read_csv(budget)["speed_ref_s"].iloc[0])
        line += (f"; {reference:.2f} s on the default budget's machine (benchmarks/budget.csv): this one is "
                 f"{reference / speed:.2f}x as fast")
    terminalreporter.write_line(line)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    items.sort(key=_first)  # stable: the order within each file stays as collected


def write_stand_in_outputs(wd: Path) -> None:
    """A stand-in file for every output and metric of every dvc.yaml stage (DVC hashes them without running)."""
    from workflow import dvcgen

    for stage in dvcgen.stages().values():
        for out in [*stage.get("outs", []), *stage.get("metrics", [])]:
            (path,) = out
            target = wd / path / "stand-in.txt" if not Path(path).suffix else wd / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f"{path}\n")


# A script's job as its rule would describe it (workflow.stage.Job), run by workflow.stage.run_job in a fresh
# interpreter (logging to the job's log, the run context, the user-error exit).
_JOB = """import json, runpy, sys
from workflow.stage import Job, Named, StageParams, files, run_job
spec = json.loads({spec!r})
params = {{k: StageParams(v) if k in spec["stage_params"] else v for k, v in spec["params"].items()}}
job = Job(input=files(**spec["input"]), output=files(**spec["output"]), params=Named(params),
          wildcards=Named(spec["wildcards"]), log=spec["log"] and __import__("pathlib").Path(spec["log"]))
status = run_job(runpy.run_path({script!r}, run_name="job")["main"], job)
print("TORCH_LOADED", "torch" in sys.modules)
sys.exit(status)
"""


def run_script_job(name: str, *, cwd, input: dict, output: dict, params: dict | None = None,
                   wildcards: dict | None = None, stage_params: tuple = (), log=None) -> str:
    """scripts/<name>.py's main on named ``input`` and ``output`` paths (a path or a list), ``params`` (those named
    in ``stage_params`` as StageParams) and ``wildcards`` (strings), in a fresh interpreter; returns its stdout."""
    def as_str(value):
        return [str(p) for p in value] if isinstance(value, (list, tuple)) else str(value)

    spec = {"input": {k: as_str(v) for k, v in input.items()}, "output": {k: as_str(v) for k, v in output.items()},
            "params": params or {}, "wildcards": wildcards or {}, "stage_params": list(stage_params),
            "log": log and str(log)}
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "PYTHONHASHSEED": "0"}
    code = _JOB.format(spec=json.dumps(spec), script=str(REPO / "scripts" / f"{name}.py"))
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, f"exit {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout
