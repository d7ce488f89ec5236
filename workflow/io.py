"""Small file helpers: atomic writes and checksums, so an interrupted job never leaves half a file behind."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

from .errors import CorruptFile, UserError


def _atomic(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """Write through ``write(tmp_path)`` to a temporary file in the same folder, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {exc.strerror or exc}. Check free disk space and that "
                        f"{path.parent} is writable.") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path, text: str) -> Path:
    def w(tmp):
        with open(tmp, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    return _atomic(path, w)


def write_json(path, obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(obj):
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def read_json(path) -> Any:
    path = Path(path)
    if not path.exists():
        raise UserError(f"missing file {path}: run the rule that makes it (snakemake {path}).")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise CorruptFile(f"{path} is not valid JSON ({exc}); delete it and rerun snakemake to remake it.") from exc


def write_csv(path, frame) -> Path:
    """Write a pandas DataFrame atomically, without the index."""
    return write_text(path, frame.to_csv(index=False, lineterminator="\n"))


# What files written by torch_save may hold: tensors and plain containers. torch_load reads with
# ``weights_only=True``, which refuses anything else, so artifacts pulled from a shared DVC remote are data, never code.
_PLAIN_SCALARS = (str, int, float, bool, type(None))
UNSAFE_FIX = ("delete it (and its .sha256 side-car) and rerun the rule that makes it (snakemake <that file>); "
              "never load files from an untrusted source")


def check_plain(obj, where: str = "") -> None:
    """Raise TypeError unless ``obj`` is tensors, str/int/float/bool/None and dict/list/tuple of those (dict keys
    plain scalars). Exact types: a numpy scalar, a dataclass or a subclass of a plain type is refused."""
    import torch

    if isinstance(obj, torch.Tensor) or type(obj) in _PLAIN_SCALARS:
        return
    if type(obj) in (dict, OrderedDict):
        for key, value in obj.items():
            if type(key) not in _PLAIN_SCALARS:
                raise TypeError(f"{where or 'object'} has a key of type {type(key).__name__} ({key!r}); "
                                f"use str/int/float/bool keys")
            check_plain(value, f"{where}[{key!r}]")
        return
    if type(obj) in (list, tuple):
        for i, value in enumerate(obj):
            check_plain(value, f"{where}[{i}]")
        return
    raise TypeError(f"{where or 'object'} is a {type(obj).__module__}.{type(obj).__qualname__}: files written with "
                    f"torch_save hold only tensors and dict/list/tuple/str/int/float/bool/None (convert it: "
                    f"ndarray -> tensor or list, numpy scalar -> float()/int(), dataclass -> dict)")


def _without_stage_params(obj):
    """A stage's params (workflow.stage.StageParams, a dict that refuses undeclared keys) saved as a plain dict."""
    from .stage import StageParams

    if isinstance(obj, StageParams):
        return {k: _without_stage_params(v) for k, v in obj.items()}
    if type(obj) in (dict, OrderedDict):
        return type(obj)((k, _without_stage_params(v)) for k, v in obj.items())
    if type(obj) in (list, tuple):
        return type(obj)(_without_stage_params(v) for v in obj)
    return obj


def torch_save(path, obj) -> Path:
    """Save with torch.save atomically, with a sha256 side-car so a corrupt file is detected on load.

    ``obj`` must be plain data (:func:`check_plain`): :func:`torch_load` reads with ``weights_only=True``."""
    import torch  # here, not at the top: jobs that only read and write tables never pay torch's import

    path = Path(path)
    obj = _without_stage_params(obj)
    check_plain(obj, path.name)
    side = path.with_name(path.name + ".sha256")

    def write(tmp):
        torch.save(obj, tmp)
        # The old side-car goes before the new file moves in: a kill between the two renames then leaves a whole
        # file without a side-car (accepted), never a new file beside the old file's checksum (refused).
        side.unlink(missing_ok=True)

    _atomic(path, write)
    write_text(side, sha256_file(path) + "\n")
    return path


def torch_load(path, map_location="cpu"):
    """Load a file written by :func:`torch_save`, checking its checksum first.

    Only tensors and plain containers are read (``weights_only=True``): a file holding anything else (a pickled
    object, which could run code when read) is refused with a :class:`UserError`, whatever its side-car says."""
    import pickle

    import torch

    path = Path(path)
    if not path.exists():
        raise UserError(f"missing file {path}: run the rule that makes it (snakemake {path}).")
    side = path.with_name(path.name + ".sha256")
    if side.exists():
        expected = side.read_text().strip()
        actual = sha256_file(path)
        if expected != actual:
            raise CorruptFile(f"{path} is corrupt (sha256 {actual[:12]}... but {expected[:12]}... was written). "
                              f"Delete it and rerun snakemake to remake it.")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        message = str(exc)
        if "weights only" in message.lower() or "weights_only" in message.lower():
            found = re.search(r"Unsupported (?:global: GLOBAL \S+|[^.\n]*)", message)
            what = found.group(0).strip() if found else "not weights-only data"
            holds = "Python objects" if "GLOBAL" in what else "something other than tensors and plain data"
            raise UserError(f"refusing to load {path}: it holds {holds} ({what}), and a file that is not only "
                            f"tensors and plain data can run code when read. If an older version of this workflow "
                            f"made it or you do not know where it comes from, "
                            f"{UNSAFE_FIX.replace('<that file>', str(path))}.") from None
        raise CorruptFile(f"cannot read {path} ({exc}). Delete it and rerun snakemake to remake it.") from exc
    except Exception as exc:  # truncated zip, wrong format
        raise CorruptFile(f"cannot read {path} ({exc}). Delete it and rerun snakemake to remake it.") from exc


def remove_checkpoint(path) -> None:
    """Delete a file written by :func:`torch_save` and its side-car (a resume point once its job has finished)."""
    path = Path(path)
    for f in (path, path.with_name(path.name + ".sha256")):
        f.unlink(missing_ok=True)


def sha256_file(path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
