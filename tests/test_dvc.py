"""dvc.yaml is generated from the method registry and current; params.yaml is the config Snakemake would run with;
each stage tracks its own config keys, so editing one method's section makes only that stage stale in `dvc
status`; every stage depends on the code its scripts import. Nothing is trained: the lock is recorded over
stand-in outputs (`dvc commit`)."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, copy_workflow, write_stand_in_outputs
from workflow import dvcgen
from workflow.config import load_schema, merged_config, normalize_config
from workflow.methods.registry import LIFELONG_METHODS, METHODS

DVC = Path(sys.executable).with_name("dvc")


def test_committed_dvc_yaml_is_the_generated_one():
    assert (REPO / "dvc.yaml").read_text() == dvcgen.render(), "run `make dvc-yaml` (python -m workflow.dvcgen)"
    assert dvcgen.main(["--check"]) == 0


def test_stages_run_snakemake_on_params_yaml():
    stages = dvcgen.stages()
    assert list(stages) == ["data", *METHODS, "figures"]
    for name, stage in stages.items():
        cmd = stage["cmd"].split()
        assert cmd[:2] != ["snakemake", "--cores"] and cmd[0] == "snakemake", cmd  # targets first (see dvcgen)
        assert "--configfile params.yaml" in stage["cmd"]
        assert "config/config.yaml" not in stage["deps"], name  # the config reaches stages through params only
        (params,) = stage["params"]
        assert list(params) == ["params.yaml"], name
    for m in METHODS.values():
        stage = stages[m.name]
        assert stage["cmd"].endswith(f"--config 'methods=[{m.name}]'")
        assert stage["params"][0]["params.yaml"] == list(m.params)
        assert {m.rules, *m.code, *m.scripts, "resources/data"} <= set(stage["deps"])
        assert {METHODS[n].results for n in m.needs} <= set(stage["deps"])
        assert stage["outs"] == [{m.results: {"persist": True}}]


# --- params.yaml ------------------------------------------------------------------------------------------------

def test_params_yaml_is_the_config_snakemake_merges(tmp_path):
    """params.yaml = config/config.yaml + the --configfile files + --config values, as Snakemake merges them;
    reading it back (as every stage does, layered on config/config.yaml again) changes nothing."""
    from snakemake.utils import update_config

    expected = yaml.safe_load((REPO / "config/config.yaml").read_text())
    update_config(expected, yaml.safe_load((REPO / "config/fashion.yaml").read_text()))
    expected["seeds"] = [0, 1]
    normalize_config(expected, load_schema(REPO / "config/schema.yaml"))  # `methods: all`, registry defaults
    out = tmp_path / "params.yaml"
    args = ["--cores", "2", "--configfile", "config/fashion.yaml", "--config", "seeds=[0,1]"]
    written = dvcgen.write_params(args, out=out, root=REPO)
    assert written == expected
    assert yaml.safe_load(out.read_text()) == expected
    assert "--configfile config/fashion.yaml --config seeds=[0,1]" in out.read_text().split("\n", 2)[1]
    assert merged_config(["--configfile", str(out)], root=REPO) == expected  # a stage's view of it
    for name in ("test.yaml", "paper.yaml"):
        full = merged_config(["--configfile", f"config/{name}"], root=REPO)
        dvcgen.write_params(["--configfile", f"config/{name}"], out=out, root=REPO)
        assert merged_config(["--configfile", str(out)], root=REPO) == full
    overlay = merged_config(["--configfile", "config/paper.yaml", "config/device_check.yaml"], root=REPO)
    assert overlay["seeds"] == yaml.safe_load((REPO / "config/device_check.yaml").read_text())["seeds"]


# --- stale stages -----------------------------------------------------------------------------------------------

def run(wd: Path, *cmd: str) -> str:
    env = {**os.environ, "PATH": f"{DVC.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(list(cmd), cwd=wd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def locked(tmp_path_factory):
    """A copy of the workflow in git, stand-in outputs for every stage, params.yaml of the default config, and a
    dvc.lock recording them (`dvc commit`: DVC hashes deps, params and outputs without running anything)."""
    wd = copy_workflow(tmp_path_factory.mktemp("dvc") / "wf")
    write_stand_in_outputs(wd)
    dvcgen.write_params([], out=wd / "params.yaml", root=wd)
    run(wd, "git", "init", "-q")
    run(wd, str(DVC), "commit", "-f", "-q")
    run(wd, "git", "add", "-A")
    run(wd, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "locked")
    assert stale(wd) == set()
    return wd


def stale(wd: Path) -> set[str]:
    return set(json.loads(run(wd, str(DVC), "status", "--json") or "{}"))


def edit(wd: Path, key: str, value):
    text = (wd / "params.yaml").read_text()
    config = yaml.safe_load(text)
    node = config
    *parents, last = key.split(".")
    for part in parents:
        node = node[part]
    assert last in node, key
    node[last] = value
    (wd / "params.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return text


TRAINING = set(METHODS)


@pytest.mark.parametrize("key, value, expected", [
    ("cpg.allowed_loss", 0.123, {"cpg"}),
    ("packnet.prune.levels", [0.5], {"packnet"}),
    ("baseline.width", 0.5, {"baseline"}),
    ("sidetune.ewc.coef", 1.0, set(LIFELONG_METHODS)),
    ("prior.transfer.steps", 7, {"prior"}),
    ("subspace.beta", 0.5, {"subspace"}),
    ("dpnas.plot_window", 3, {"dpnas", "figures"}),
    ("compute.threads", 2, TRAINING),
    ("seeds", [0, 1], TRAINING - {"prior", "subspace"} | {"figures"}),
    ("suites.split_digits.tasks", 4, TRAINING - {"subspace", "dpnas"} | {"data"}),
    ("methods", ["baseline", "cpg"], {"data", "figures"}),
    ("data.options", {"digits": {}}, {"data"}),
])
def test_editing_a_key_makes_only_its_readers_stale(locked, key, value, expected):
    saved = edit(locked, key, value)
    try:
        assert stale(locked) == expected
    finally:
        (locked / "params.yaml").write_text(saved)


def test_params_diff_names_the_method_key(locked):
    saved = edit(locked, "cpg.allowed_loss", 0.321)
    try:
        diff = json.loads(run(locked, str(DVC), "params", "diff", "--json"))
        assert list(diff) == ["params.yaml"]
        assert set(diff["params.yaml"]) == {"cpg.allowed_loss"}
        assert diff["params.yaml"]["cpg.allowed_loss"]["new"] == 0.321
    finally:
        (locked / "params.yaml").write_text(saved)


# --- deps cover the code --------------------------------------------------------------------------------------

def module_file(name: str) -> Path | None:
    path = REPO / Path(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_files(path: Path) -> set[Path]:
    """Files of the `workflow` package that importing ``path`` runs: its imports (also those inside functions),
    their parent packages' __init__.py, and so on."""
    seen: set[Path] = set()
    todo = [path]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        names = []
        for node in ast.walk(ast.parse(current.read_text())):
            if isinstance(node, ast.Import):
                names += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    pkg = current.relative_to(REPO).with_suffix("").parts[:-node.level]  # __init__ too
                    base = ".".join([*pkg, base] if base else pkg)
                names += [base, *(f"{base}.{a.name}" for a in node.names)]  # `from pkg import submodule`
        for name in names:
            parts = name.split(".")
            if parts[0] != "workflow":
                continue
            for k in range(1, len(parts) + 1):
                found = module_file(".".join(parts[:k]))
                if found:
                    todo.append(found)
    return {p for p in seen if p != path}


# The registry names methods; editing it changes dvc.yaml (regenerated), never a result.
NOT_A_DEP = {"workflow/methods/registry.py"}


@pytest.mark.parametrize("stage", ["data", *METHODS, "figures"])
def test_stage_deps_cover_the_code_its_scripts_import(stage):
    deps = dvcgen.stages()[stage]["deps"]
    scripts = [d for d in deps if d.startswith("scripts/") and d.endswith(".py")]
    assert scripts, stage
    for script in scripts:
        for path in imported_files(REPO / script):
            rel = path.relative_to(REPO).as_posix()
            covered = any(rel == d or rel.startswith(d.rstrip("/") + "/") for d in deps)
            assert covered or rel in NOT_A_DEP, f"stage {stage}: {script} imports {rel}, not in its deps"


# --- make ---------------------------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")
def test_make_push_and_pull_find_snakemake_without_an_active_environment():
    args = "--configfile config/fashion.yaml"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MAKEFLAGS")}
    push = subprocess.run(["make", "--no-print-directory", "-n", "push", f"SMK_ARGS={args}"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60).stdout
    lines = push.splitlines()
    params = lines.index(f".venv/bin/python -m workflow.dvcgen params {args}")
    dvc_lines = [k for k, line in enumerate(lines) if re.search(r"\.venv/bin/dvc (commit .*made\)|repro|push)$", line)]
    assert len(dvc_lines) == 3 and params < dvc_lines[0], push
    for k in dvc_lines:  # DVC's stages call `snakemake`: the environment's bin folder comes first on PATH
        assert lines[k].startswith(f'PATH="{REPO}/.venv/bin:$PATH" '), lines[k]
    pull = subprocess.run(["make", "--no-print-directory", "-n", "pull"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60).stdout
    # the config check before anything is fetched, the cache check before anything is checked out, then Snakemake
    steps = [".venv/bin/python -m workflow.sharing check --configfile params.yaml",
             f'PATH="{REPO}/.venv/bin:$PATH" .venv/bin/dvc fetch',
             ".venv/bin/python -m workflow.sharing verify",
             f'PATH="{REPO}/.venv/bin:$PATH" .venv/bin/dvc checkout',
             ".venv/bin/snakemake --touch --cores all --configfile params.yaml",
             ".venv/bin/snakemake -n --cores all --configfile params.yaml"]
    assert [line.strip() for line in pull.splitlines() if line.strip() in steps] == steps, pull


def test_make_push_commits_the_stages_snakemake_made_and_leaves_the_others_to_repro(tmp_path):
    """`make push` records with `dvc commit` only the stages its Snakemake run made (data, the config's methods,
    figures when all run); every other stage stays stale, for `dvc repro` to run."""
    every = list(dvcgen.stages())
    assert dvcgen.made_stages({"methods": list(METHODS)}) == every
    assert dvcgen.made_stages({"methods": ["cpg", "baseline"]}) == ["data", "baseline", "cpg"]

    wd = copy_workflow(tmp_path / "wf")
    write_stand_in_outputs(wd)
    run(wd, "git", "init", "-q")

    def made(*args: str) -> str:
        dvcgen.write_params(list(args), out=wd / "params.yaml", root=wd)
        return run(wd, sys.executable, "-m", "workflow.dvcgen", "made").strip()

    assert made() == ""  # no name: every stage (one `dvc commit` target costs 0.5 s)
    assert made("--config", "methods=[cpg]") == "data cpg"
    run(wd, str(DVC), "commit", "-f", "-q", "data", "cpg")
    assert stale(wd) == set(every) - {"data", "cpg"}
