"""Rule `sidetune_distil`: distil the side network from the frozen base on the source pool (L2 on features)."""

import json
from pathlib import Path

import pandas as pd

from workflow.cli import Progress, log, parser, run
from workflow.io import write_csv, write_json
from workflow.methods import sidetune
from workflow.methods.common import load_suite
from workflow.methods.sidetune.artifacts import load_base, save_side


def main(args):
    device = args.device
    source = load_suite(args.data, args.source_suite)[0]
    backbone, _ = load_base(args.base)
    base = sidetune.FrozenBase(backbone).to(device)
    side_cfg = args.params["side"]
    side = sidetune.build_side(source.train.x.shape[1:], side_cfg["channels"], backbone.out_features,
                               side_cfg["norm_groups"])
    side, history, quality = sidetune.distil_side(side, base, source, train=side_cfg["distil"], seed=args.seed,
                                                  device=device, progress_file=Progress.stream)
    save_side(args.out / "side.pt", side.cpu(), channels=side_cfg["channels"], norm_groups=side_cfg["norm_groups"],
              in_shape=source.train.x.shape[1:])
    write_csv(args.out / "side_history.csv", pd.DataFrame(history))
    write_json(args.out / "side.json", quality)
    log.info("side distilled: %s", quality)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--source-suite", type=json.loads, required=True)
    p.add_argument("--base", type=Path, required=True)
    p.add_argument("--compute", type=json.loads, default={"device": "auto", "threads": 1})
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
