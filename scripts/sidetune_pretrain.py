"""Rule `sidetune_pretrain`: pretrain the base on the source pool (kept apart from the task suite), save it."""

import json
from pathlib import Path

import pandas as pd

from workflow.cli import Progress, log, parser, run
from workflow.data import load_arrays
from workflow.errors import UserError
from workflow.io import write_csv, write_json
from workflow.methods import sidetune
from workflow.methods.common import load_suite
from workflow.methods.sidetune.artifacts import save_base


def main(args):
    if args.source_suite["dataset"] == args.suite["dataset"]:
        sidetune.check_disjoint(args.source_suite, args.suite, load_arrays(args.data))
    source = load_suite(args.data, args.source_suite)
    if len(source) != 1:
        raise UserError(f"sidetune.source_suite must be one task holding every source class (it has "
                        f"{len(source)}): write it with tasks: 1 and class_groups: [[...all source classes...]]")
    base_cfg = args.params["base"]
    backbone, history, result = sidetune.pretrain_base(
        source[0], model=base_cfg["model"], width=base_cfg["width"], train=base_cfg["train"], seed=args.seed,
        device=args.device, progress_file=Progress.stream)
    digest = save_base(args.out / "base.pt", backbone.cpu(), model=base_cfg["model"], width=base_cfg["width"],
                       in_shape=source[0].train.x.shape[1:], source=args.source_suite)
    write_csv(args.out / "base_history.csv", pd.DataFrame(history))
    write_json(args.out / "base.json", {**result, "sha256": digest, "source_suite": args.source_suite})
    log.info("base on %s: source val %.4f test %.4f", source[0].name, result["val"]["accuracy"],
             result["test"]["accuracy"])


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--data", type=Path, required=True, help="the source pool's dataset folder")
    p.add_argument("--source-suite", type=json.loads, required=True, help="source pool suite spec as JSON")
    p.add_argument("--suite", type=json.loads, required=True, help="task suite spec (checked to be disjoint)")
    p.add_argument("--compute", type=json.loads, default={"device": "auto", "threads": 1})
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
