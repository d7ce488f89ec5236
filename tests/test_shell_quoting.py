"""No config value reaches a shell unquoted: a data.root that a shell would split or run (`$(...)`, `;`, quotes,
spaces) is refused by the config check before any job, with one clear line naming data.root."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.conftest import REPO, snakemake
from workflow.config import config_errors, format_errors, load_schema, normalize_config

# Through Snakemake (a few seconds each): the four of the issue; the config check alone: a few more.
UNSAFE = {"space": "my data", "quote": "it's", "semicolon": "data;touch marker", "subshell": "r$(touch marker)"}
MORE = {**UNSAFE, "backtick": "r`touch marker`", "leading-dash": "-data", "newline": "data\n", "empty": ""}


def run_with_root(workdir, root: str, *args: str):
    return snakemake(workdir, *args, "--cores", "1", "--config", f"data={json.dumps({'root': root})}", check=False)


@pytest.mark.parametrize("root", UNSAFE.values(), ids=UNSAFE.keys())
def test_unsafe_data_root_is_refused_before_any_job(workdir, root):
    proc = run_with_root(workdir, root, "-n")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "config key 'data.root'" in out and "nothing was run" in out, out
    assert "Traceback" not in out, out
    assert not (workdir / "marker").exists()
    assert not list(workdir.glob("r*marker*")), "a folder named after the value was made"


def test_a_real_run_of_the_download_rule_runs_no_injected_command(workdir):
    """Not a dry run: the `datasets` target (the download rule's shell command) with a `$(touch marker)` root."""
    proc = run_with_root(workdir, "r$(touch marker)", "datasets")
    assert proc.returncode == 1 and "config key 'data.root'" in proc.stderr, proc.stderr
    assert not (workdir / "marker").exists()


def test_a_safe_data_root_passes(workdir):
    proc = run_with_root(workdir, "data_dir/cl-lab+1.0", "-n", "datasets")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "data_dir/cl-lab+1.0/digits/manifest.json" in proc.stdout


@pytest.mark.parametrize("root", MORE.values(), ids=MORE.keys())
def test_the_message_is_one_line_with_the_fix(root):
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["data"]["root"] = root
    schema = load_schema(REPO / "config/schema.yaml")
    normalize_config(config, schema)  # `methods: all` -> the registry's list, as the workflow does first
    errors = config_errors(config, schema)
    assert len(errors) == 1 and "\n" not in errors[0], errors
    assert errors[0].startswith("config key 'data.root': ") and "letters, digits" in errors[0], errors[0]
    assert "ln -s" in errors[0]
    assert format_errors(errors, "test").count("data.root") == 1
