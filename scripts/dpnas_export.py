"""Rule `dpnas_export`: the top chosen prior's embeddings, one .npy per sample under <split>/<label>/<index>.npy."""

import json
from pathlib import Path

import pandas as pd

from workflow.cli import log, parser, run
from workflow.methods.dpnas.export import export_embeddings
from workflow.methods.dpnas.scoring import ScoreConfig
from workflow.methods.dpnas.task import load_task


def main(args):
    task = load_task(args.data, args.params)
    chosen = pd.read_csv(args.chosen)
    best = chosen.sort_values("reward", kind="mergesort").iloc[-1]
    cfg = ScoreConfig.from_dict(args.params["classifier"])
    info = export_embeddings(best["net"], task, int(best["prior_seed"]), args.out, bn_eps=cfg.bn_eps,
                             batch_size=cfg.batch_size, device=args.device)
    log.info("exported %s", info)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--chosen", type=Path, required=True)
    p.add_argument("--compute", type=json.loads, default={"device": "cpu", "threads": 1})
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
