"""`make pull`'s two checks (workflow/sharing.py): results made with other config values than the consumer's are
never marked up to date (the pull stops before anything is fetched, naming each stage and key), and a damaged
object from the remote never reaches the workspace (the pull stops before `dvc checkout`, naming the file, its md5,
the remote's object and the fix). The comparison and the cache check are tested without DVC; the pulls run
`make pull` on a clone of a producer whose stand-in outputs were recorded with `dvc commit` and pushed (nothing is
trained)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import copy_workflow, write_stand_in_outputs
from workflow import dvcgen, sharing
from workflow.sharing import MISSING, differences, stale_report, stale_stages

DVC = Path(sys.executable).with_name("dvc")
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


# --- the comparison, without DVC ------------------------------------------------------------------------------

def lock_of(stages: dict) -> dict:
    """A dvc.lock as DVC writes it: per stage, the values of the keys it tracks and its outputs."""
    return {"schema": "2.0", "stages": {name: {"params": {"params.yaml": params},
                                               "outs": [{"path": f"metrics/{name}.json"}, {"path": f"results/{name}"}]}
                                        for name, params in stages.items()}}


CPG = {"model": "small_cnn", "picking": True, "allowed_loss": 0.0, "growth": {"step": 0.5, "max_multiplier": 1.5},
       "prune": {"levels": [0.2, 0.4], "ramp_epochs": 1}}
LOCK = lock_of({
    "baseline": {"baseline": {"width": 0.25}, "seeds": [0, 1], "compute": {"threads": 1}},
    "cpg": {"cpg": CPG, "seeds": [0, 1], "compute": {"threads": 1}},
    "figures": {"sidetune.suite": "split_digits_side", "seeds": [0, 1]},  # DVC records dotted keys as such
})


def consumer_config(**changes) -> dict:
    config = {"baseline": {"width": 0.25}, "cpg": json.loads(json.dumps(CPG)), "seeds": [0, 1],
              "compute": {"threads": 1}, "sidetune": {"suite": "split_digits_side", "lr": 0.1}, "other": 3}
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = config
        for part in parents:
            node = node[part]
        if value is MISSING:
            del node[last]
        else:
            node[last] = value
    return config


def test_same_config_is_not_stale():
    assert stale_stages(LOCK, consumer_config()) == {}
    # keys no stage tracks do not count, and numbers compare by value as DVC compares params
    assert stale_stages(LOCK, consumer_config(sidetune__lr=0.5, other=4, baseline__width=0.250,
                                              cpg__allowed_loss=0)) == {}


def test_one_cpg_key_makes_only_cpg_stale_naming_the_key():
    stale = stale_stages(LOCK, consumer_config(cpg__allowed_loss=0.5))
    assert stale == {"cpg": [("cpg.allowed_loss", 0.0, 0.5)]}


@pytest.mark.parametrize("changes, expected", [
    ({"cpg__prune__levels": [0.2, 0.5]}, {"cpg": [("cpg.prune.levels", [0.2, 0.4], [0.2, 0.5])]}),
    ({"cpg__growth__step": MISSING}, {"cpg": [("cpg.growth.step", 0.5, MISSING)]}),
    ({"cpg__growth__extra": 1}, {"cpg": [("cpg.growth.extra", MISSING, 1)]}),
    ({"cpg__picking": 1}, {"cpg": [("cpg.picking", True, 1)]}),              # a boolean is not a number
    ({"cpg__model": "vgg16"}, {"cpg": [("cpg.model", "small_cnn", "vgg16")]}),
    ({"sidetune__suite": "other"}, {"figures": [("sidetune.suite", "split_digits_side", "other")]}),
    ({"compute__threads": 2}, {"baseline": [("compute.threads", 1, 2)], "cpg": [("compute.threads", 1, 2)]}),
    ({"seeds": [0]}, {name: [("seeds", [0, 1], [0])] for name in ("baseline", "cpg", "figures")}),
])
def test_differences_are_leaf_keys_of_the_stages_that_track_them(changes, expected):
    assert stale_stages(LOCK, consumer_config(**changes)) == expected


def test_differences_of_values():
    assert differences("k", {"a": {"b": 1}}, {"a": {"b": 1.0}}) == []
    assert differences("k", "1", 1) == [("k", "1", 1)]
    assert differences("k", None, MISSING) == [("k", None, MISSING)]
    assert differences("k", [1, {"a": 1}], [1, {"a": 2}]) == [("k", [1, {"a": 1}], [1, {"a": 2}])]


def test_report_names_the_stage_the_keys_both_values_and_the_fixes():
    argv = ["--configfile", "params.yaml", "--config", 'cpg={"allowed_loss": 0.5}']
    stale = stale_stages(LOCK, consumer_config(cpg__allowed_loss=0.5, cpg__growth__step=MISSING))
    text = stale_report(stale, LOCK, argv)
    lines = text.splitlines()
    assert lines[0].startswith("Cannot pull: the results of 1 stage(s) in dvc.lock were made with other config")
    assert """`snakemake --configfile params.yaml --config 'cpg={"allowed_loss": 0.5}'`""" in lines[0]
    assert lines[1] == ("  - cpg (metrics/cpg.json, results/cpg): cpg.allowed_loss: 0.0 in dvc.lock (producer), "
                        "0.5 in yours; cpg.growth.step: 0.5 in dvc.lock (producer), (not set) in yours")
    assert lines[2].startswith("Fix: pull on the producer's config (the committed params.yaml")
    assert "rm -rf metrics/cpg.json results/cpg" in lines[2]
    assert len(lines) == 3


# --- the cache check, without DVC ------------------------------------------------------------------------------

def put(cache: Path, data: bytes) -> str:
    oid = hashlib.md5(data).hexdigest()
    path = sharing.object_path(cache, oid)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return oid


def test_verify_objects_finds_damaged_and_missing_files_through_dir_listings(tmp_path):
    cache = tmp_path / "files/md5"
    good, damaged = put(cache, b"good\n"), put(cache, b"damaged\n")
    missing = hashlib.md5(b"never fetched\n").hexdigest()
    listing = json.dumps([{"md5": good, "relpath": "a.txt"}, {"md5": damaged, "relpath": "sub/b.txt"},
                          {"md5": missing, "relpath": "c.txt"}]).encode()
    folder = put(cache, listing)
    Path(cache, folder[:2], folder[2:]).rename(sharing.object_path(cache, folder + ".dir"))
    single = put(cache, b"single file\n")
    sharing.object_path(cache, damaged).write_bytes(b"dAmaged\n")
    problems = sharing.verify_objects([("results/x", folder + ".dir"), ("results/y.csv", single)], cache)
    assert problems == [("results/x/sub/b.txt", damaged, "damaged", folder + ".dir"),
                        ("results/x/c.txt", missing, "missing", folder + ".dir")]
    assert not sharing.object_path(cache, damaged).exists()  # no later `dvc checkout` can use it
    assert sharing.object_path(cache, good).exists()


def test_only_cached_outputs_are_checked():
    dvc_yaml = yaml.safe_load(dvcgen.render())
    cached = sharing.cached_outputs(dvc_yaml)
    assert {"resources/data", "results/cpg", "results/figures", "results/claims.csv"} <= cached
    assert not any(p.startswith("metrics/") for p in cached)  # cache: false, kept in git


def test_verify_report_for_a_remote_elsewhere():
    oid, listing = "ab" * 16, "cd" * 16 + ".dir"
    remote = "s3://bucket/cl-lab/files/md5"
    text = sharing.verify_report([("results/cpg/a.pt", oid, "damaged", listing),
                                  ("results/claims.csv", oid, "missing", None)],
                                 "'store' (s3://bucket/cl-lab)", "s3://bucket/cl-lab")
    lines = text.splitlines()
    assert lines[0].startswith("Cannot pull: 2 object(s) from the DVC remote 'store' (s3://bucket/cl-lab) are damaged")
    assert lines[1] == (f"  - results/cpg/a.pt (md5 {oid}): damaged: the fetched copy does not match its md5 (deleted "
                        f"from .dvc/cache); remote object {remote}/ab/{oid[2:]} and its folder's listing "
                        f"{remote}/cd/{listing[2:]}")
    assert lines[2] == (f"  - results/claims.csv (md5 {oid}): not fetched: DVC's check on download (remote option "
                        f"verify = true) discarded a damaged copy, or the remote lacks it; remote object "
                        f"{remote}/ab/{oid[2:]}")
    assert lines[3].startswith("Fix: the producer") and "`dvc push` again" in lines[3]


# --- make pull on a clone -------------------------------------------------------------------------------------

def run(wd: Path, *cmd: str) -> str:
    proc = subprocess.run(list(cmd), cwd=wd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def git(wd: Path, *args: str) -> str:
    return run(wd, "git", "-c", "user.name=t", "-c", "user.email=t@t", *args)


def dvc(wd: Path, *args: str) -> str:
    return run(wd, str(DVC), *args)


def make(wd: Path, *args: str) -> subprocess.CompletedProcess:
    """`make` in ``wd`` as from a fresh clone with no environment activated (as tests/test_e2e.py runs it)."""
    bin_dir = Path(sys.executable).parent
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p) != bin_dir)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL")}
    env.update(PATH=path, PYTHONHASHSEED="0")
    return subprocess.run(["make", "--no-print-directory", "-o", "venv", f"BIN={bin_dir}", *args], cwd=wd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)


def commands(out: str) -> list[str]:
    """The command lines make echoed (those it started)."""
    return [line for line in out.splitlines() if "/.venv/bin/" in line or line.startswith(("PATH=", "/"))]


def share(root: Path) -> tuple[Path, Path]:
    """A producer that shared stand-in outputs of every stage (default config): dvc.lock, params.yaml and metrics/
    committed, the objects pushed to a remote folder. Its .dvc/config is the project's (verify = true) with the
    remote's URL pointed at the folder."""
    wd = copy_workflow(root / "producer")
    write_stand_in_outputs(wd)
    dvcgen.write_params([], out=wd / "params.yaml", root=wd)
    git(wd, "init", "-q")
    dvc(wd, "remote", "modify", "local", "url", str(root / "remote"))
    assert yaml.safe_load(dvc(wd, "config", "remote.local.verify")) is True
    dvc(wd, "commit", "-f", "-q")
    dvc(wd, "push", "-q")
    git(wd, "add", "-A")
    git(wd, "commit", "-q", "-m", "results")
    return wd, root / "remote"


def clone(producer: Path, dest: Path) -> Path:
    git(producer.parent, "clone", "-q", str(producer), str(dest))
    return dest


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Path:
    """A producer that shared its stand-ins (left as it is: each test clones it)."""
    return share(tmp_path_factory.mktemp("shared"))[0]


@needs_make
@pytest.mark.parametrize("how", ["--config", "--configfile"])
def test_pull_stops_when_a_cpg_key_differs_and_touches_nothing(shared, tmp_path, how):
    consumer = clone(shared, tmp_path / "consumer")
    if how == "--config":
        args = """--config 'cpg={"allowed_loss": 0.5}'"""
    else:  # the consumer's own config file, in place of the committed params.yaml
        (consumer / "mine.yaml").write_text("cpg:\n  allowed_loss: 0.5\n")
        args = "--configfile mine.yaml"
    proc = make(consumer, "pull", "CORES=1", f"SMK_ARGS={args}")
    out = proc.stdout
    assert proc.returncode != 0, out
    assert "Cannot pull: the results of 1 stage(s) in dvc.lock were made with other config values" in out
    stale = [line for line in out.splitlines() if line.startswith("  - ")]
    assert stale == ["  - cpg (metrics/cpg.json, results/cpg): cpg.allowed_loss: 0.0 in dvc.lock (producer), 0.5 in "
                     "yours"], out
    assert "Fix: pull on the producer's config" in out and "rm -rf metrics/cpg.json results/cpg" in out
    ran = commands(out)
    assert "workflow.sharing check --configfile params.yaml" in ran[-1], ran  # it stopped there
    assert not any("dvc fetch" in c or "snakemake" in c for c in ran), ran
    # nothing fetched, checked out or marked up to date
    assert not (consumer / "results").exists() and not (consumer / "resources").exists()
    assert not (consumer / ".dvc/cache").exists() and not (consumer / ".snakemake").exists()
    # the producer's config (no SMK_ARGS) passes the check, which imports no torch
    code = ("import sys; from workflow import sharing; rc = sharing.main(['check', '--configfile', 'params.yaml']); "
            "assert 'torch' not in sys.modules; sys.exit(rc)")
    assert subprocess.run([sys.executable, "-c", code], cwd=consumer).returncode == 0


def flip_one_byte(path: Path) -> bytes:
    path.chmod(0o644)  # DVC writes the remote's objects read-only
    data = bytearray(path.read_bytes())
    data[0] ^= 0x20
    path.write_bytes(bytes(data))
    return bytes(data)


@needs_make
def test_damaged_object_in_the_remote_stops_the_pull_and_keeps_the_workspace(tmp_path):
    """The consumer pulled once; the producer remakes cpg's result and pushes it, and one byte of its object flips
    in the remote. `make pull` stops before `dvc checkout`, names the file, md5, remote objects and fix, and leaves
    the consumer's copy of the file as it was; the damaged bytes are nowhere in the consumer's folder. The same
    with the remote's `verify` dropped (as `dvc remote add -f` drops it): DVC then keeps the damaged copy, which the
    check deletes. The fix the message gives works."""
    producer, remote = share(tmp_path)
    consumer = clone(producer, tmp_path / "consumer")
    dvc(consumer, "pull", "-q")
    target = consumer / "results/cpg/stand-in.txt"
    before = target.read_bytes()

    new = b"results/cpg, made again\n"
    (producer / "results/cpg/stand-in.txt").write_bytes(new)
    dvc(producer, "commit", "-f", "-q", "cpg")
    dvc(producer, "push", "-q")
    git(producer, "commit", "-q", "-m", "cpg again", "dvc.lock")
    oid = hashlib.md5(new).hexdigest()
    obj = remote / "files/md5" / oid[:2] / oid[2:]
    damaged = flip_one_byte(obj)
    git(consumer, "pull", "-q")
    listing = [o["md5"] for o in yaml.safe_load((consumer / "dvc.lock").read_text())["stages"]["cpg"]["outs"]
               if o["path"] == "results/cpg"][0]
    listing_obj = remote / "files/md5" / listing[:2] / listing[2:]

    for remote_verify in (True, False):
        if not remote_verify:
            dvc(consumer, "remote", "modify", "--local", "local", "verify", "false")
        proc = make(consumer, "pull", "CORES=1")
        out = proc.stdout
        assert proc.returncode != 0, out
        assert "Cannot pull: 1 object(s) from the DVC remote 'local'" in out
        why = ("DVC's check on download, remote option verify = true, discarded it" if remote_verify
               else "the fetched copy was deleted from .dvc/cache")
        lines = [line for line in out.splitlines() if line.startswith("  - ")]
        assert lines == [f"  - results/cpg/stand-in.txt (md5 {oid}): damaged in the remote: its content does not "
                         f"match its md5 ({why}); remote object {obj} and its folder's listing {listing_obj}"], out
        assert "Fix: the producer (whose .dvc/cache holds good copies) deletes these remote objects" in out
        assert "runs `dvc push` again; then run `make pull` again" in out
        ran = commands(out)
        assert "workflow.sharing verify" in ran[-1], ran
        assert not any("dvc checkout" in c or "snakemake" in c for c in ran), ran

        assert target.read_bytes() == before
        found = [p for p in consumer.rglob("*") if ".git" not in p.relative_to(consumer).parts and p.is_file()
                 and p.read_bytes() == damaged]
        assert found == []
        assert not sharing.object_path(consumer / ".dvc/cache/files/md5", oid).exists()

    # the fix: the producer deletes the object and its folder's listing and pushes again; the consumer's pull goes
    # through
    obj.unlink()
    listing_obj.unlink()
    dvc(producer, "push", "-q")
    assert sharing.check(["--configfile", "params.yaml"], root=consumer) == 0
    dvc(consumer, "fetch", "-q")
    assert subprocess.run([sys.executable, "-m", "workflow.sharing", "verify"], cwd=consumer).returncode == 0
    dvc(consumer, "checkout", "-q")
    assert target.read_bytes() == new


# --- no false alarm on the shipped configs ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A git+DVC copy of the workflow with stand-in outputs, for recording dvc.lock under several configs."""
    wd = copy_workflow(tmp_path_factory.mktemp("configs") / "wf")
    write_stand_in_outputs(wd)
    git(wd, "init", "-q")
    return wd


@pytest.mark.parametrize("name", ["config.yaml", "test.yaml", "fashion.yaml", "paper.yaml"])
def test_a_pull_on_the_producers_config_passes_the_check(recorded, name):
    """params.yaml of each shipped config recorded by DVC (`dvc commit`, as `dvc repro` records it) compares equal
    to the config Snakemake runs with on it (DVC reads YAML with ruamel, Snakemake with PyYAML), and to the
    producer's own arguments; another config does not."""
    args = [] if name == "config.yaml" else ["--configfile", f"config/{name}"]
    dvcgen.write_params(args, out=recorded / "params.yaml", root=recorded)
    dvc(recorded, "commit", "-f", "-q")
    assert sharing.check(["--configfile", "params.yaml"], root=recorded) == 0
    assert sharing.check(args, root=recorded) == 0
    other = ["--configfile", "config/test.yaml"] if name != "test.yaml" else []
    assert sharing.check(other, root=recorded) == 1
