"""The consumer's checks of `make pull` (sharing results with DVC), torch-free.

    python -m workflow.sharing check [SNAKEMAKE ARGS]  # exit 1 when a stage in dvc.lock was made with other config
                                                       # values than the config of these arguments
    python -m workflow.sharing verify                  # after `dvc fetch`: exit 1 when an object dvc.lock needs is
                                                       # damaged or missing in the cache (the damaged copy is deleted)

`make pull` runs ``check --configfile params.yaml SMK_ARGS`` before anything is fetched, then `dvc fetch`, then
``verify``, and only then `dvc checkout` and `snakemake --touch`: results made with another config are never marked
up to date for yours, and a damaged object from the remote never reaches the workspace.

Provenance: every DVC stage tracks the config keys its results depend on (dvc.yaml `params:`, from the method
registry) and dvc.lock records their values as the producer ran them. ``stale_stages`` compares those values with
the consumer's config key by key. Snakemake cannot see the difference itself: after `snakemake --touch` it takes the
pulled files as made with whatever config it is given.

Integrity: DVC names each object by the md5 of its content and, with the remote option ``verify = true``
(.dvc/config), drops a downloaded object that does not match its name, though `dvc fetch` still reports it fetched
and exits 0. A remote added later with `dvc remote add -f` loses that option. ``verify`` checks every object itself
(the md5 of each file in the cache against its name, through the .dir listings), whatever the remote's options, and
names the workspace path of each damaged or missing one (entries of a DVC 2 lock, md5-dos2unix, are not checked). To
share a damaged file again, the producer deletes its object from the remote, with the .dir listing of its folder
(`dvc push` takes a folder's files as present in the remote while its listing is), and pushes again.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import sys
from pathlib import Path

LOCK = "dvc.lock"
DVC_YAML = "dvc.yaml"
PARAMS = "params.yaml"


class _Missing:
    def __repr__(self) -> str:
        return "(not set)"


MISSING = _Missing()


# --- provenance ------------------------------------------------------------------------------------------------

def lookup(config: dict, dotted: str):
    """The value at a dotted key of ``config`` (``sidetune.suite``), MISSING when absent."""
    node = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def same(a, b) -> bool:
    """Equal as config values: numbers by value (1 == 1.0, as DVC compares params), but a boolean is not a number,
    and a string is not a number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def differences(key: str, recorded, yours) -> list[tuple[str, object, object]]:
    """(dotted key, recorded value, your value) for every leaf where the two differ; mappings are compared key by
    key (so `cpg.allowed_loss`, not the whole `cpg`), anything else as a whole."""
    if isinstance(recorded, dict) and isinstance(yours, dict):
        out = []
        for k in dict.fromkeys([*recorded, *yours]):
            out += differences(f"{key}.{k}", recorded.get(k, MISSING), yours.get(k, MISSING))
        return out
    return [] if same(recorded, yours) else [(key, recorded, yours)]


def stale_stages(lock: dict, config: dict, params_file: str = PARAMS) -> dict[str, list[tuple[str, object, object]]]:
    """The stages of ``lock`` (dvc.lock, loaded) whose recorded config values differ from ``config``: stage name ->
    its differences (dotted key, value in dvc.lock, value in ``config``), in dvc.lock's order. Only the keys a
    stage tracks count (dvc.yaml `params:`: its config section and the shared keys it reads)."""
    stale = {}
    for name, stage in (lock.get("stages") or {}).items():
        recorded = ((stage or {}).get("params") or {}).get(params_file) or {}
        diffs = [d for key, value in recorded.items() for d in differences(key, value, lookup(config, key))]
        if diffs:
            stale[name] = diffs
    return stale


def _show(value, limit: int = 60) -> str:
    if value is MISSING:
        return "(not set)"
    text = json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def stage_outputs(lock: dict, name: str) -> list[str]:
    return [out["path"] for out in (lock["stages"][name].get("outs") or []) if "path" in out]


def stale_report(stale: dict, lock: dict, argv: list[str]) -> str:
    """The message `make pull` stops with: one line per stale stage (its outputs, then each dotted key that differs
    with the producer's value and yours), then the two fixes."""
    args = shlex.join(argv)
    lines = [f"Cannot pull: the results of {len(stale)} stage(s) in {LOCK} were made with other config values than "
             f"yours (the config of `snakemake {args}`); after `snakemake --touch` Snakemake would take them as made "
             f"with yours. Nothing was fetched or touched."]
    for name, diffs in stale.items():
        keys = "; ".join(f"{key}: {_show(theirs)} in {LOCK} (producer), {_show(yours)} in yours"
                         for key, theirs, yours in diffs)
        lines.append(f"  - {name} ({', '.join(stage_outputs(lock, name))}): {keys}")
    outs = " ".join(shlex.quote(p) for name in stale for p in stage_outputs(lock, name))
    lines.append(f"Fix: pull on the producer's config (the committed {PARAMS}: run `make pull` without the SMK_ARGS "
                 f"that change these keys), or rerun these stages on yours: `make pull` first, then "
                 f"`rm -rf {outs}` and `snakemake --cores all {args}` (it remakes what you deleted with your config).")
    return "\n".join(lines)


def load_yaml(path: Path) -> dict:
    """A YAML file as DVC reads it (ruamel, YAML 1.2), so values compare as DVC recorded them."""
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(Path(path).read_text()) or {}


def check(argv: list[str], root: Path | str = ".") -> int:
    """``python -m workflow.sharing check ARGS``: stop (exit 1, the report on stderr) when a stage in dvc.lock was
    made with other values of its config keys than the config Snakemake runs with for ``ARGS``."""
    from .config import merged_config

    root = Path(root)
    if not (root / LOCK).is_file():
        print(f"Cannot pull: {LOCK} is missing; it records the shared results and the config that made them, and "
              f"'make push' writes it (the producer commits it with {PARAMS} and metrics/): check out a commit "
              f"that has it", file=sys.stderr)
        return 1
    lock = load_yaml(root / LOCK)
    stale = stale_stages(lock, merged_config(argv, root=root))
    if stale:
        print(stale_report(stale, lock, argv), file=sys.stderr)
        return 1
    return 0


# --- integrity -------------------------------------------------------------------------------------------------

def cached_outputs(dvc_yaml: dict) -> set[str]:
    """Paths of the outputs DVC caches (and so fetches): every outs/metrics/plots entry but those with
    `cache: false` (kept in git)."""
    paths = set()
    for stage in (dvc_yaml.get("stages") or {}).values():
        for kind in ("outs", "metrics", "plots"):
            for entry in stage.get(kind) or []:
                if isinstance(entry, str):
                    paths.add(entry)
                else:
                    for path, opts in entry.items():
                        if (opts or {}).get("cache", True):
                            paths.add(path)
    return paths


def lock_objects(lock: dict, cached: set[str]) -> list[tuple[str, str]]:
    """(workspace path, md5) of every cached output recorded in dvc.lock; a directory's md5 ends in `.dir`."""
    return [(out["path"], out["md5"]) for stage in (lock.get("stages") or {}).values()
            for out in stage.get("outs") or []
            if out.get("path") in cached and out.get("md5") and out.get("hash") == "md5"]  # DVC 3 objects


def md5_file(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def object_path(cache: Path, oid: str) -> Path:
    """Where DVC 3 keeps object ``oid`` in a cache (or remote) folder of ``files/md5``."""
    return cache / oid[:2] / oid[2:]


def verify_objects(objects: list[tuple[str, str]], cache: Path) -> list[tuple[str, str, str, str | None]]:
    """Check each object (and, for a directory, each file its .dir listing names) in ``cache`` (DVC's
    ``.dvc/cache/files/md5``): its md5 must be its name. A damaged one is deleted from the cache, so that no later
    `dvc checkout` can put it in the workspace. Returns (workspace path, md5, 'damaged' or 'missing', md5 of the
    .dir listing it is in or None)."""
    problems = []

    def check_one(where: str, oid: str, listing: str | None = None) -> bool:
        path = object_path(cache, oid)
        if not path.is_file():
            problems.append((where, oid, "missing", listing))
            return False
        if md5_file(path) != oid.split(".")[0]:
            path.unlink()
            problems.append((where, oid, "damaged", listing))
            return False
        return True

    for where, oid in objects:
        if check_one(where, oid) and oid.endswith(".dir"):
            for entry in json.loads(object_path(cache, oid).read_text()):
                check_one(f"{where}/{entry['relpath']}", entry["md5"], oid)
    return problems


def _local_folder(url: str) -> Path | None:
    return Path(url) if url and "://" not in url and Path(url).is_dir() else None


def verify_report(problems: list[tuple[str, str, str, str | None]], remote: str = "", url: str = "") -> str:
    """The message `make pull` stops with: one line per damaged or missing object (workspace path, md5, the objects
    to delete in the remote, what is wrong), then the fix. When the remote (``url``) is a folder on this machine,
    each object's copy there is hashed too, to say whether the remote's copy is damaged."""
    folder = _local_folder(url)
    base = f"{url.rstrip('/')}/" if url else ""

    def remote_object(oid: str) -> str:
        return f"{base}files/md5/{oid[:2]}/{oid[2:]}"

    lines = [f"Cannot pull: {len(problems)} object(s) from the DVC remote {remote or '(default)'} are damaged or "
             f"missing, so nothing was checked out: your workspace is as it was."]
    for where, oid, what, listing in problems:
        if what == "damaged":
            why = "damaged: the fetched copy does not match its md5 (deleted from .dvc/cache)"
        else:
            why = ("not fetched: DVC's check on download (remote option verify = true) discarded a damaged copy, "
                   "or the remote lacks it")
        if folder is not None:  # the remote's own copy, hashed where it lies
            copy = object_path(folder / "files/md5", oid)
            if not copy.is_file():
                why = "the remote lacks it" + (" (a damaged copy in .dvc/cache was deleted)" if what == "damaged"
                                               else "")
            elif md5_file(copy) != oid.split(".")[0]:
                why = ("damaged in the remote: its content does not match its md5 (" +
                       ("the fetched copy was deleted from .dvc/cache)" if what == "damaged" else
                        "DVC's check on download, remote option verify = true, discarded it)"))
            elif what == "missing":
                why = "not fetched, though the remote's copy is good: run `make pull` again"
        delete = remote_object(oid) + (f" and its folder's listing {remote_object(listing)}" if listing else "")
        lines.append(f"  - {where} (md5 {oid}): {why}; remote object {delete}")
    lines.append("Fix: the producer (whose .dvc/cache holds good copies) deletes these remote objects, with the "
                 "folder listings named (DVC takes a folder's files as present while its .dir listing is), and runs "
                 "`dvc push` again; then run `make pull` again.")
    return "\n".join(lines)


def _cache_and_remote(root: Path) -> tuple[Path, str, str]:
    """DVC's local object folder (files/md5 of the configured cache dir), the default remote's name and its URL
    (a local path absolute)."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        cache = Path(repo.cache.local.path)
        name = repo.config["core"].get("remote", "")
        url = repo.config["remote"].get(name, {}).get("url", "") if name else ""
    return cache, name, url


def verify(root: Path | str = ".") -> int:
    """``python -m workflow.sharing verify``: after `dvc fetch`, exit 1 (the report on stderr) when an object that
    dvc.lock's cached outputs need is damaged or missing in the local cache."""
    root = Path(root)
    lock, dvc_yaml = load_yaml(root / LOCK), load_yaml(root / DVC_YAML)
    cache, name, url = _cache_and_remote(root)
    problems = verify_objects(lock_objects(lock, cached_outputs(dvc_yaml)), cache)
    if problems:
        print(verify_report(problems, f"'{name}' ({url})" if name else "", url), file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["check"]:
        return check(argv[1:])
    if argv == ["verify"]:
        return verify()
    print("usage: python -m workflow.sharing check [snakemake arguments] | verify", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
