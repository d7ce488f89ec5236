"""Where a result came from, recorded in every ``summary.json``: the config section that made it (its sha256),
the code version, the torch version and the device.

``write_summary`` is the one way summaries are written (scripts and ``methods.common.write_continual_results``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

from .io import write_json

ROOT = Path(__file__).resolve().parents[1]  # the workflow folder (Snakefile, rules/, scripts/, workflow/)
PACKAGE = "cl-lab"
# What counts as code for the dirty flag: not config/ (the config hash covers it), not metrics/ or dvc.lock (DVC
# rewrites them while it runs the stages).
CODE_PATHS = ("Snakefile", "rules", "scripts", "workflow", "pyproject.toml", "requirements.txt")


def canonical_json(section) -> str:
    """The section as JSON with sorted keys and no whitespace: equal configs give equal text."""
    return json.dumps(section, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)


def config_sha256(section) -> str | None:
    """sha256 of the section's canonical JSON; None when no section was given."""
    if section is None:
        return None
    return hashlib.sha256(canonical_json(section).encode()).hexdigest()


def _git(root: Path, *args: str) -> str:
    # --no-optional-locks: parallel jobs run this at once; `git status` must not try to rewrite the index.
    out = subprocess.run(["git", "--no-optional-locks", "-C", str(root), *args], capture_output=True, text=True,
                         timeout=30, check=True)
    return out.stdout.strip()


@functools.cache
def code_version(root: Path = ROOT) -> dict:
    """``{"code_version": "git:<commit>", "code_dirty": bool}`` where ``root`` is the top of a git checkout (dirty:
    tracked or untracked changes under CODE_PATHS), else ``{"code_version": "cl-lab <version>", "code_dirty":
    None}`` from the installed package (``"unknown"`` when neither is found)."""
    root = Path(root).resolve()
    try:
        if Path(_git(root, "rev-parse", "--show-toplevel")).resolve() == root:
            commit = _git(root, "rev-parse", "HEAD")
            changes = _git(root, "status", "--porcelain", "--", *CODE_PATHS)
            return {"code_version": f"git:{commit}", "code_dirty": bool(changes)}
    except (OSError, subprocess.SubprocessError):
        pass  # no git, not a checkout, or a repository git refuses (another owner): fall back to the package
    try:
        return {"code_version": f"{PACKAGE} {importlib.metadata.version(PACKAGE)}", "code_dirty": None}
    except importlib.metadata.PackageNotFoundError:
        return {"code_version": "unknown", "code_dirty": None}


def torch_version() -> str | None:
    """torch.__version__ (with its local tag, e.g. 2.14.1+cu130), without importing torch in a job that only
    reads tables: torch/version.py is read as text."""
    if "torch" in sys.modules:
        return sys.modules["torch"].__version__
    spec = importlib.util.find_spec("torch")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        try:
            found = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", (Path(folder) / "version.py").read_text(),
                              re.MULTILINE)
        except OSError:
            continue
        if found:
            return found.group(1)
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None


def device_name(device) -> str | None:
    """``"cpu"``, ``"cuda:0 (NVIDIA H200)"``; None for a job that ran no model."""
    if device is None:
        return None
    name = str(device)
    if name.startswith("cuda") and "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.cuda.is_available():
            dev = torch.device(device)
            index = dev.index if dev.index is not None else torch.cuda.current_device()
            return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return name


def provenance(params, device=None) -> dict:
    """The provenance record of a job: ``params`` is the config section it received (its rule's params), ``device``
    the one it ran its models on (None: it ran none, e.g. a collect step)."""
    return {"config_sha256": config_sha256(params), **code_version(), "torch_version": torch_version(),
            "device": device_name(device)}


def write_summary(path, summary: dict, *, params, device=None) -> dict:
    """Write ``summary`` plus its ``provenance`` (see :func:`provenance`) to ``path`` atomically; return it."""
    summary = {**summary, "provenance": provenance(params, device)}
    write_json(path, summary)
    return summary
