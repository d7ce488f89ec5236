"""Rule `sidetune_cache`: the frozen base's features of every task split, computed once (the base is frozen and
the input transform deterministic, so they are exact for every epoch and every method that keeps the base)."""

import json
from pathlib import Path

from workflow.cli import log, parser, run
from workflow.methods import sidetune
from workflow.methods.common import load_suite
from workflow.methods.sidetune.artifacts import load_base, save_features


def main(args):
    device = args.device
    backbone, state = load_base(args.base)
    base = sidetune.FrozenBase(backbone).to(device)
    tasks = load_suite(args.data, args.suite)
    features = [{name: sidetune.base_features(base, getattr(t, name), device=device)
                 for name in ("train", "val", "test")} for t in tasks]
    save_features(args.out, features, state["sha256"])
    log.info("cached base features of %d tasks", len(tasks))


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--suite", type=json.loads, required=True)
    p.add_argument("--base", type=Path, required=True)
    p.add_argument("--compute", type=json.loads, default={"device": "auto", "threads": 1})
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
