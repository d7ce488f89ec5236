"""A config mistake stops the run before any job starts, with a message naming the key; no traceback."""

import pytest
import yaml
from snakemake.utils import update_config

from tests.conftest import REPO, snakemake
from workflow.config import (coerce_command_line_values, config_errors, load_schema, normalize_config,
                             reference_errors)

SCHEMA = load_schema(REPO / "config" / "schema.yaml")


def default_config():
    """config/config.yaml as the workflow sees it (`methods: all` expanded, registry sections' defaults)."""
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    normalize_config(cfg, SCHEMA)
    return cfg


@pytest.mark.parametrize("name", ["config.yaml", "test.yaml", "paper.yaml", "fashion.yaml"])
def test_shipped_configs_are_valid(name):
    cfg = default_config()
    update_config(cfg, yaml.safe_load((REPO / "config" / name).read_text()))  # Snakemake's own recursive merge
    normalize_config(cfg, SCHEMA)
    assert config_errors(cfg, SCHEMA) == []


def mutate(path, value):
    cfg = default_config()
    node = cfg
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return cfg


@pytest.mark.parametrize("path,value,expected", [
    (["baseline", "train", "epochz"], 3, "'baseline.train.epochz' is not known (did you mean 'epochs'?)"),
    (["baseline", "train", "epochs"], -1, "'baseline.train.epochs': -1 is out of range"),
    (["baseline", "train", "lr"], "fast", "'baseline.train.lr': 'fast' should be of type number"),
    (["suites", "split_digits", "dataset"], "mnits", "'suites.split_digits.dataset': 'mnits' is not allowed"),
    (["methods"], ["baseline", "cgp"], "'methods.1': 'cgp' is not allowed (did you mean 'cpg'?)"),
    (["baseline", "model"], "resnet18", "'baseline.model': 'resnet18' is not allowed"),
])
def test_each_kind_of_mistake_names_the_key(path, value, expected):
    errors = config_errors(mutate(path, value), SCHEMA)
    assert any(expected in e for e in errors), errors


def test_command_line_strings_become_numbers_where_the_schema_wants_them():
    cfg = mutate(["seeds"], ["0", "1", "2"])  # what `--config 'seeds=[0,1,2]'` hands the Snakefile
    cfg["baseline"]["train"]["lr"] = "fast"
    coerce_command_line_values(cfg, SCHEMA)
    assert cfg["seeds"] == [0, 1, 2]
    assert cfg["baseline"]["train"]["lr"] == "fast"  # not a number: left for the error message
    assert config_errors(cfg, SCHEMA) == ["config key 'baseline.train.lr': 'fast' should be of type number"]


def test_names_that_must_exist_elsewhere_in_the_config():
    cfg = mutate(["sidetune", "source_suite"], "nope")
    cfg["prior"]["target_task"] = 7
    errors = reference_errors(cfg)
    assert any("'sidetune.source_suite': 'nope' is not a key of 'suites'" in e for e in errors), errors
    assert any("'prior.target_task': 7 but suite 'digits_prior_target' has 1 tasks" in e for e in errors), errors
    assert reference_errors(default_config()) == []


@pytest.mark.parametrize("change, leaks", [
    ({}, False),                                                          # disjoint image shares
    ({"target": {"image_share": {"part": 0, "parts": 2, "seed": 0}}}, True),   # the same share
    ({"target": {"image_share": {"part": 1, "parts": 2, "seed": 5}}}, True),   # shares of another draw
    ({"target": {"image_share": None}}, True),                            # the target on every image
    ({"target": {"image_share": None, "class_groups": [[0]]}, "source": {"image_share": None,
                                                                         "class_groups": [[1, 2]]}}, False),
])
def test_the_prior_source_never_trains_on_the_target_images(change, leaks):
    cfg = default_config()
    for role in ("source", "target"):
        spec = cfg["suites"][cfg["prior"][f"{role}_suite"]]
        for key, value in change.get(role, {}).items():
            spec.pop(key) if value is None else spec.__setitem__(key, value)
    errors = reference_errors(cfg)
    assert bool(errors) == leaks, errors
    if leaks:
        assert "'prior.source_suite'" in errors[0] and "image_share" in errors[0]


def test_snakemake_stops_before_any_job_with_a_clean_message(workdir):
    (workdir / "bad.yaml").write_text("baseline:\n  train: {epochs: -2}\nsuite: nope\n")
    proc = snakemake(workdir, "-n", "--cores", "1", "--configfile", "bad.yaml", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1
    assert "'baseline.train.epochs': -2 is out of range" in out
    assert "Traceback" not in out and 'File "' not in out
    assert not (workdir / "results").exists() and not (workdir / "resources").exists()


def test_unknown_suite_name(workdir):
    proc = snakemake(workdir, "-n", "--cores", "1", "--config", "suite=nope", check=False)
    assert proc.returncode == 1 and "'suite': 'nope' is not a key of 'suites'" in proc.stderr


def test_paper_config_plans_without_data(workdir):
    proc = snakemake(workdir, "-n", "--cores", "1", "--configfile", "config/paper.yaml")
    assert "download" in proc.stdout and "baseline_train" in proc.stdout


def test_device_check_overlay_plans_the_paper_models_on_generated_data(workdir):
    # benchmarks/device_check.sh runs this on a GPU machine; here: it validates and plans every method
    proc = snakemake(workdir, "-n", "--cores", "1", "--configfile", "config/paper.yaml", "config/device_check.yaml")
    for rule in ("cpg_finetune", "sidetune_train", "prior_transfer", "subspace_train", "dpnas_search", "claims"):
        assert rule in proc.stdout, rule
    assert "resources/data/synthetic_cifar100" in proc.stdout


def test_schedules_that_would_stop_short_are_refused():
    cfg = default_config()
    cfg["cpg"]["prune"]["ramp_epochs"] = cfg["cpg"]["prune"]["train"]["epochs"] + 1
    cfg["subspace"]["train"]["warmup_epochs"] = cfg["subspace"]["train"]["epochs"]
    errors = reference_errors(cfg)
    assert any("'cpg.prune.ramp_epochs'" in e and "at most epochs" in e for e in errors), errors
    assert any("'subspace.train.warmup_epochs'" in e for e in errors), errors

