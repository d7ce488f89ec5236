"""What every script in scripts/ shares: argument parsing, logging to the rule's log file, clean user errors."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Callable

from .errors import UserError

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


def _stage_params(text: str) -> StageParams:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"--params must be a JSON object, not {type(value).__name__}")
    return StageParams(value)


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--params", type=_stage_params, default=StageParams(),
                   help="JSON object with the config keys this rule's stage reads (rules: stage_params)")
    p.add_argument("--log", type=Path, default=None, help="log file (progress bars go here too)")
    return p


def add_run_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The arguments of every training script: which data, which tasks, which device, which seed."""
    p.add_argument("--data", type=Path, required=True, help="dataset folder (arrays.npz + manifest.json)")
    p.add_argument("--suite", type=json.loads, required=True, help="task suite spec as JSON")
    p.add_argument("--compute", type=json.loads, default={"device": "auto", "threads": 1},
                   help='JSON {"device": auto|cpu|cuda, "threads": N}')
    p.add_argument("--seed", type=int, required=True, help="training seed")
    return p


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


def start_stage(args: argparse.Namespace) -> None:
    """The run context of every stage that runs models (its arguments have ``--compute``): torch's thread count is
    ``compute.threads`` (the cores its rule reserves), python / numpy / torch are seeded with ``--seed`` (0 for a
    stage without one), and ``args.device`` is the device ``compute.device`` resolves to (a missing GPU is a
    user error). Stages that reseed later (per task, per stage) keep the thread count."""
    from .training import resolve_device, seed_everything  # here: table-only jobs never import torch

    seed = getattr(args, "seed", None)
    seed_everything(seed if seed is not None else 0, threads=args.compute.get("threads", 1))
    args.device = resolve_device(args.compute["device"])
    log.info("stage on %s, %d thread(s), seed %s", args.device, args.compute.get("threads", 1), seed)


def run(main: Callable[[argparse.Namespace], None], p: argparse.ArgumentParser, argv=None) -> None:
    """Parse arguments, set up logging and the run context (:func:`start_stage`), run ``main``; a
    :class:`UserError` ends with its message, no traceback."""
    args = p.parse_args(argv)
    setup_logging(args.log)
    log.info("start %s %s", Path(sys.argv[0]).name, " ".join(sys.argv[1:]))
    try:
        if getattr(args, "compute", None) is not None:
            start_stage(args)
        main(args)
    except UserError as exc:
        log.error("%s", exc)
        sys.exit(1)
    log.info("done")
