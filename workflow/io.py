"""Small file helpers: atomic writes and checksums, so an interrupted job never leaves half a file behind."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
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


def torch_save(path, obj) -> Path:
    """Save with torch.save atomically, with a sha256 side-car so a corrupt file is detected on load."""
    import torch  # here, not at the top: jobs that only read and write tables never pay torch's import

    path = Path(path)
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
    """Load a file written by :func:`torch_save`, checking its checksum first."""
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
        return torch.load(path, map_location=map_location, weights_only=False)
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
