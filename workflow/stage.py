"""The run context of every stage. A rule declares its stage's interface once: named ``input``, ``output``,
``params`` (the config keys it reads, ``stage_params`` in rules/common.smk), ``log``, and ``script:`` the file in
scripts/ that runs it. The script reads that declaration as a :class:`Job` and starts with ``run(main, snakemake)``,
which sets up, for every stage alike:

- logging to the rule's log file (tqdm's progress too, :class:`Progress`), and a :class:`UserError` ending the job
  with its message and no traceback;
- for a stage that runs models (its params have ``compute``): torch's threads (``compute.threads``), the seed
  (the ``seed`` wildcard, else 0) of python / numpy / torch, and ``job.device``;
- resume: :meth:`Job.resume_file` is where an interrupted job keeps its state; it survives a killed job and is
  removed once the job has succeeded.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import UserError
from .io import remove_checkpoint

log = logging.getLogger("workflow")


class StageParams(dict):
    """The config keys a stage's rule passes it (``stage_params`` in rules/common.smk: only the keys it declares,
    so a change to any other key never reruns it). Reading a key the rule did not pass is a mistake in that
    declaration, not a reason to fall back on a default: it stops the job and names the key."""

    def __missing__(self, key):
        raise UserError(f"this stage read config key '{key}', which its rule does not pass: add '{key}' to the "
                        f"keys of the rule's stage_params(...) in rules/<method>.smk")

    def get(self, key, default=None):
        return self[key] if key in self else self.__missing__(key)


class Named(list):
    """A rule's named values (Snakemake's input / output / params / wildcards): ``job.output.model`` by name,
    ``job.input`` as the list of every file in order, ``"start" in job.input.names`` for an optional one."""

    def __init__(self, values: dict[str, Any] | None = None, positional: list | None = None):
        values = dict(values or {})
        super().__init__(positional if positional is not None else _flatten(values.values()))
        self.__dict__["names"] = values

    def __getattr__(self, name):
        try:
            return self.__dict__["names"][name]
        except KeyError:
            raise AttributeError(f"the rule declares no '{name}' (it has: {', '.join(self.names) or 'none'})") \
                from None


def _flatten(values) -> list:
    out = []
    for v in values:
        out.extend(v if isinstance(v, list) else [v])
    return out


def _paths(value):
    return [Path(v) for v in value] if isinstance(value, list) else Path(value)


def files(**named) -> Named:
    """Named file paths (strings, paths or lists of them) as a :class:`Named` of :class:`Path`."""
    return Named({k: _paths(v) for k, v in named.items()})


@dataclass
class Job:
    """What a rule gives its script. Built by :meth:`from_snakemake` in a real job; tests build one directly."""

    input: Named = field(default_factory=Named)
    output: Named = field(default_factory=Named)
    params: Named = field(default_factory=Named)
    wildcards: Named = field(default_factory=Named)
    log: Path | None = None
    rule: str = "stage"
    device: Any = None                  # set by the run context for a stage with `compute`
    _resume: list[Path] = field(default_factory=list, repr=False)

    @classmethod
    def from_snakemake(cls, smk) -> Job:
        def named(container, convert=lambda v: v):
            return Named({k: convert(v) for k, v in container.items()}, [convert(v) for v in container])

        return cls(input=named(smk.input, _paths), output=named(smk.output, _paths), params=named(smk.params),
                   wildcards=named(smk.wildcards), log=Path(smk.log[0]) if len(smk.log) else None, rule=smk.rule)

    @property
    def seed(self) -> int:
        """The job's seed: its ``seed`` wildcard (every seeded rule has one), else 0."""
        return int(self.wildcards.names.get("seed", 0))

    @property
    def compute(self) -> dict:
        return self.params.names.get("compute") or {"device": "cpu", "threads": 1}

    @property
    def threads(self) -> int:
        return int(self.compute.get("threads", 1))

    def resume_file(self, name: str = ".resume.pt") -> Path:
        """Where this job keeps an unfinished run's state (a file, or a folder the stage makes): beside its first
        output (never a declared output, so it survives a killed job), removed with its checksum side-car when the
        job succeeds."""
        path = Path(self.output[0]).parent / name
        self._resume.append(path)
        return path

    def finish(self) -> None:
        for path in self._resume:
            if path.is_dir():
                shutil.rmtree(path)
            remove_checkpoint(path)


class Progress:
    """The stream tqdm writes to: the rule's log file, so parallel jobs do not garble the terminal."""

    stream = sys.stderr


def setup_logging(log_path: Path | None) -> None:
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if log_path:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(log_path, "a", buffering=1)
        handler = logging.StreamHandler(fh)
        handler.setFormatter(fmt)
        root.addHandler(handler)
        Progress.stream = fh
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING if log_path else logging.INFO)
    console.setFormatter(fmt)
    root.addHandler(console)


def start_stage(job: Job) -> None:
    """The run context of a stage that runs models (its params have ``compute``): torch's thread count is
    ``compute.threads`` (the cores its rule reserves), python / numpy / torch are seeded with the job's seed, and
    ``job.device`` is the device ``compute.device`` resolves to (a missing GPU is a user error). Stages that reseed
    later (per task, per stage) keep the thread count."""
    from .training import resolve_device, seed_everything  # here: table-only jobs never import torch

    seed_everything(job.seed, threads=job.threads)
    job.device = resolve_device(job.compute["device"])
    log.info("stage on %s, %d thread(s), seed %s", job.device, job.threads, job.seed)


def execute(main: Callable[[Job], None], job: Job) -> None:
    """``main`` in its run context, in this process: :func:`start_stage` for a stage with ``compute``, then
    ``main(job)``, then the removal of its resume files (kept when ``main`` raises)."""
    if "compute" in job.params.names:
        start_stage(job)
    main(job)
    job.finish()


def run_job(main: Callable[[Job], None], job: Job) -> int:
    """Logging to the job's log file, then ``main`` in its run context (:func:`execute`); 0, or 1 once a
    :class:`UserError`'s message is logged (no traceback: it says what to fix)."""
    setup_logging(job.log)
    log.info("start %s %s", job.rule, dict(job.wildcards.names))
    try:
        execute(main, job)
    except UserError as exc:
        log.error("%s", exc)
        return 1
    log.info("done")
    return 0


def run(main: Callable[[Job], None], snakemake) -> None:
    """A script's entry point under Snakemake's ``script:``: :func:`run_job` on the job Snakemake describes. The
    process ends as soon as its files are flushed: torch's interpreter teardown (~0.5 s a job) adds nothing to a
    finished job."""
    status = run_job(main, Job.from_snakemake(snakemake))
    logging.shutdown()
    for stream in (Progress.stream, sys.stdout, sys.stderr):
        stream.flush()
    os._exit(status)
