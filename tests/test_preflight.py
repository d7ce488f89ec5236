"""The checks before any job: suite sizes against the dataset's classes, compute.device against this machine,
--cores against compute.threads, the config files themselves; and a dry run that leaves the tree as it was.

Every mistake must stop with exit status 1, one line naming the key or file and the fix, and no traceback. The
runs that must stop are real runs (no -n) aimed at `config/config.yaml`, a file no rule makes: should a check
not fire, Snakemake stops on that target (MissingRuleException) before any job, and the test fails on the
message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.utils import update_config

from tests.conftest import REPO, snakemake
from workflow.config import (DATASET_CLASSES, DATASET_SUPERCLASSES, SKIP_DEVICE_CHECK, config_file_error,
                             configfiles_in, core_errors, dataset_classes, device_errors, reference_errors,
                             suite_size_errors)

NO_JOB_TARGET = ("--", "config/config.yaml")  # exists, no rule makes it: nothing can run whatever happens


def default_config() -> dict:
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


def layered(*overlays: str) -> dict:
    cfg = default_config()
    for name in overlays:
        update_config(cfg, yaml.safe_load((REPO / name).read_text()))
    return cfg


def the_line(out: str, *needles: str) -> str:
    """The one output line holding every needle (fails with the output otherwise)."""
    lines = [line for line in out.splitlines() if all(n in line for n in needles)]
    assert len(lines) == 1, f"expected one line with {needles}, got {lines}:\n{out}"
    return lines[0]


def assert_clean_stop(proc: subprocess.CompletedProcess, *needles: str, code: int = 1) -> str:
    out = proc.stdout + proc.stderr
    assert proc.returncode == code, out
    assert "Traceback" not in out and 'File "' not in out, out
    return the_line(out, *needles)


def tree(root: Path) -> set[str]:
    """Every file and folder under root, except Snakemake's own state folder .snakemake/ and Python's bytecode
    caches (__pycache__/, written on import unless PYTHONDONTWRITEBYTECODE is set; ignored by git)."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.relative_to(root).parts[0] != ".snakemake" and "__pycache__" not in p.relative_to(root).parts}


# --- suite sizes, known without loading data ---------------------------------------------------------------------

def test_class_table_covers_every_registered_dataset():
    from workflow.data.registry import DATASETS, FASHION_CLASSES, fetch_dataset

    assert set(DATASET_CLASSES) | {"synthetic"} == set(DATASETS), "add the new dataset to DATASET_CLASSES"
    assert DATASET_CLASSES["digits"] == len(fetch_dataset("digits", "unused").classes)
    assert DATASET_CLASSES["fashion_mnist"] == len(FASHION_CLASSES)
    assert dataset_classes("synthetic") == (len(fetch_dataset("synthetic", "unused").classes), 0)
    options = {"synthetic_x": {"classes": 12, "superclasses": 3}}
    data = fetch_dataset("synthetic_x", "unused", options["synthetic_x"])
    assert dataset_classes("synthetic_x", options) == (len(data.classes), len(data.coarse_classes))
    assert DATASET_SUPERCLASSES == {"cifar100": 20}


@pytest.mark.parametrize("overlays", [(), ("config/test.yaml",), ("config/fashion.yaml",), ("config/paper.yaml",),
                                      ("config/paper.yaml", "config/device_check.yaml")])
def test_shipped_configs_fit_their_datasets(overlays):
    assert suite_size_errors(layered(*overlays)) == []


SUITE = {"dataset": "digits", "grouping": "classes", "tasks": 5, "classes_per_task": 2}


@pytest.mark.parametrize("change, key, fix", [
    ({"tasks": 6}, "'suites.s': 6 tasks x 2 classes_per_task = 12 classes", "lower tasks or classes_per_task"),
    ({"classes_per_task": None}, "'suites.s.classes_per_task' is missing", "add classes_per_task"),
    ({"class_groups": [[0, 1], [2, 10]], "tasks": 2}, "'suites.s.class_groups': class ids [10]", "use ids 0..9"),
    ({"class_groups": [[0, 1], [1, 2]], "tasks": 2}, "'suites.s.class_groups': class ids [1]",
     "give every task different classes"),
    ({"grouping": "superclasses"}, "'suites.s.grouping': 'superclasses' but dataset 'digits' has none",
     "use grouping: classes"),
    ({"dataset": "cifar100", "grouping": "superclasses", "tasks": 21}, "'suites.s.tasks': 21 tasks",
     "at most 20"),
    ({"dataset": "synthetic_small", "tasks": 4}, "dataset 'synthetic_small' has 7", "tasks x classes_per_task <= 7"),
    ({"image_share": {"part": 2, "parts": 2}}, "'suites.s.image_share.part': 2 but parts is 2",
     "set part below parts"),
])
def test_suite_size_errors_name_the_key_and_the_fix(change, key, fix):
    spec = {k: v for k, v in {**SUITE, **change}.items() if v is not None}
    cfg = {"suites": {"s": spec}, "data": {"options": {"synthetic_small": {"classes": 7}}}}
    line = the_line("\n".join(suite_size_errors(cfg)), key)
    assert fix in line


def test_fitting_suites_and_subspace_pass_and_an_oversized_subspace_does_not():
    cfg = {"suites": {"a": SUITE, "b": {**SUITE, "tasks": 2, "class_groups": [[9], [0, 8]]},
                      "c": {"dataset": "cifar100", "grouping": "superclasses", "tasks": 20},
                      "d": {"dataset": "synthetic_big", "tasks": 3, "classes_per_task": 10}},
           "data": {"options": {"synthetic_big": {"classes": 30}}},
           "subspace": {"dataset": "digits", "num_classes": 10}}
    assert suite_size_errors(cfg) == []
    cfg["subspace"]["num_classes"] = 11
    assert "at most 10" in the_line("\n".join(suite_size_errors(cfg)), "'subspace.num_classes': 11")


def test_suite_sizes_are_part_of_the_config_check():
    cfg = default_config()
    cfg["suites"]["split_digits"]["tasks"] = 6
    assert any("'suites.split_digits'" in e for e in reference_errors(cfg))


def test_oversized_suite_stops_the_plan(workdir):
    (workdir / "big.yaml").write_text("suites:\n  split_digits: {tasks: 6}\n")
    proc = snakemake(workdir, "-n", "--cores", "1", "--configfile", "big.yaml", check=False)
    line = assert_clean_stop(proc, "'suites.split_digits'", "12 classes")
    assert "dataset 'digits' has 10" in line and "lower tasks or classes_per_task" in line
    assert not (workdir / "results").exists()


# --- the device -----------------------------------------------------------------------------------------------

def test_device_errors():
    assert device_errors("cuda", True) == device_errors("auto", False) == device_errors("cpu", False) == []
    (line,) = device_errors("cuda", False, "12.8")
    assert "'compute.device'" in line and "auto or cpu" in line and SKIP_DEVICE_CHECK in line
    assert "CPU-only build" in device_errors("cuda", False, None)[0]


@pytest.fixture
def no_cuda(monkeypatch):
    """This machine as one without CUDA, whatever it has (torch sees no device)."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.delenv(SKIP_DEVICE_CHECK, raising=False)


def test_cuda_without_a_device_stops_a_run_before_any_job(workdir, no_cuda):
    (workdir / "cuda.yaml").write_text("compute: {device: cuda}\n")
    proc = snakemake(workdir, "--cores", "1", "--configfile", "cuda.yaml", *NO_JOB_TARGET, check=False)
    line = assert_clean_stop(proc, "'compute.device'")
    assert "no CUDA device" in line and "compute.device: auto or cpu" in line
    assert "Cannot start, nothing was run" in proc.stderr
    assert not (workdir / "results").exists() and not (workdir / "logs").exists()


def test_cuda_without_a_device_is_a_note_in_a_dry_run_and_can_be_skipped(workdir, no_cuda, monkeypatch):
    # a dry run is a plan, possibly for another machine (tests/test_config.py plans device_check.yaml on a CPU)
    (workdir / "cuda.yaml").write_text("compute: {device: cuda}\n")
    proc = snakemake(workdir, "-n", "--cores", "1", "--configfile", "cuda.yaml", check=False)
    assert proc.returncode == 0, proc.stderr
    assert "would stop before any job" in proc.stderr and "compute.device: auto or cpu" in proc.stderr
    monkeypatch.setenv(SKIP_DEVICE_CHECK, "1")
    proc = snakemake(workdir, "--cores", "1", "--configfile", "cuda.yaml", *NO_JOB_TARGET, check=False)
    assert "compute.device" not in proc.stderr and "No rule to produce config/config.yaml" in proc.stderr


# --- the cores ------------------------------------------------------------------------------------------------

def test_core_errors():
    assert core_errors(1, 1) == core_errors(8, 4) == []
    assert "--cores all" in core_errors(0, 1)[0] and "fewer than 1 core" in core_errors(0, 1)[0]
    assert "compute.threads (4)" in core_errors(2, 4)[0] and "--cores 4 or more" in core_errors(2, 4)[0]


def test_zero_cores_stop_even_a_dry_run(workdir):
    proc = snakemake(workdir, "-n", "--cores", "0", check=False)
    line = assert_clean_stop(proc, "--cores 0")
    assert "no job can run" in line and "--cores all" in line
    assert "Job stats" not in proc.stdout + proc.stderr


def test_fewer_cores_than_threads_stop_a_run(workdir):
    (workdir / "threads.yaml").write_text("compute: {threads: 2}\n")
    proc = snakemake(workdir, "--cores", "1", "--configfile", "threads.yaml", *NO_JOB_TARGET, check=False)
    line = assert_clean_stop(proc, "--cores 1 is below compute.threads (2)")
    assert "--cores 2 or more" in line and "compute.threads to 1" in line
    plan = snakemake(workdir, "-n", "--cores", "1", "--configfile", "threads.yaml")  # a plan: a note only
    assert "would stop before any job" in plan.stderr and "compute.threads (2)" in plan.stderr


# --- the config files -----------------------------------------------------------------------------------------

BAD_FILES = {
    "missing": (None, ["config file 'config/nope.yaml' (--configfile) does not exist", "fix the path",
                       "fashion.yaml"]),
    "empty": ("# nothing but a comment\n", ["config file 'config/bad.yaml' (--configfile) is empty",
                                            "add the keys it should set"]),
    "syntax": ("seeds: [0, 1\nmethods: [baseline]\n", ["config file 'config/bad.yaml' (--configfile), line 2",
                                                       "opened on line 1", "fix the YAML there"]),
    "tab": ("compute:\n\tdevice: cpu\n", ["config file 'config/bad.yaml' (--configfile), line 2, column 1",
                                           "spaces, not tabs"]),
    "list": ("- seeds: [0]\n", ["config file 'config/bad.yaml' (--configfile) holds a list",
                                "one 'key: value' per line"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_config_files_are_named_with_the_line_and_the_fix(workdir, case):
    text, needles = BAD_FILES[case]
    name = "config/nope.yaml" if text is None else "config/bad.yaml"
    if text is not None:
        (workdir / name).write_text(text)
    proc = subprocess.run([sys.executable, "-m", "workflow.config", "-n", "--configfile", name, "--cores", "1"],
                          cwd=workdir, capture_output=True, text=True)
    line = assert_clean_stop(proc, *needles)
    assert line.startswith("Cannot start, nothing was run: ") and proc.stderr.count("\n") == 1


def test_good_config_files_pass_silently():
    for name in ("config/config.yaml", "config/test.yaml", "config/fashion.yaml", "config/paper.yaml"):
        assert config_file_error(REPO / name) is None, name
    proc = subprocess.run([sys.executable, "-m", "workflow.config", "--configfile", "config/test.yaml"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout + proc.stderr == ""


def test_configfiles_are_read_as_snakemake_reads_them():
    assert configfiles_in(["-n", "--configfile", "a.yaml", "b.yaml", "--cores", "1", "target"]) == ["a.yaml", "b.yaml"]
    assert configfiles_in(["--configfile=a.yaml", "target", "--configfiles", "c.yaml"]) == ["a.yaml", "c.yaml"]
    assert configfiles_in(["target", "--", "--configfile", "x"]) == []


def test_make_checks_the_config_files_before_snakemake(workdir):
    # this interpreter's environment stands in for .venv; -o keeps make from building one
    proc = subprocess.run(["make", "-o", ".venv/.pins-test", "PINS=test", f"BIN={Path(sys.executable).parent}",
                           "dry-run", "SMK_ARGS=--configfile config/nope.yaml"], cwd=workdir, capture_output=True,
                          text=True)
    line = assert_clean_stop(proc, "config file 'config/nope.yaml'", code=2)  # make's status for a failed recipe
    assert "fix the path" in line
    assert "Building DAG" not in proc.stdout + proc.stderr and not (workdir / ".snakemake").exists()


def test_a_broken_default_config_is_named_with_its_line(workdir):
    config = workdir / "config/config.yaml"
    config.write_text(config.read_text() + "extra: [1, 2\n")
    proc = snakemake(workdir, "-n", "--cores", "1", check=False)
    line = assert_clean_stop(proc, "config file 'config/config.yaml' (the workflow's default config), line")
    assert "fix the YAML there" in line


# --- a dry run writes nothing ---------------------------------------------------------------------------------

def test_dry_run_leaves_the_tree_unchanged(workdir):
    """Only Snakemake's own state folder .snakemake/ may appear (Snakemake creates it on every start, dry run or
    not) and Python's bytecode cache; results/, logs/, benchmarks/ and the data folder are created by the jobs
    that write into them."""
    before = tree(workdir)
    proc = snakemake(workdir, "-n", "--cores", "1")
    assert "Job stats" in proc.stdout + proc.stderr
    assert tree(workdir) == before, sorted(tree(workdir) ^ before)


def test_the_folder_check_still_refuses_a_file_in_the_way(workdir):
    (workdir / "logs").write_text("not a folder")
    proc = snakemake(workdir, "-n", "--cores", "1", check=False)
    line = assert_clean_stop(proc, "cannot write to 'logs/'")
    assert "make it a writable folder" in line
