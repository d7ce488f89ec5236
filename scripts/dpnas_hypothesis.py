"""Rules `dpnas_resample` (hypothesis 2: searched and freshly sampled random weights, linear classifier) and
`dpnas_full_train` (hypothesis 3: the whole net trained): one table of net,group,kind,seed,accuracy rows.

Finished nets are appended to a non-declared <out>.partial.csv, so a rerun after an interruption skips them.
"""

import json
from pathlib import Path

import pandas as pd

from workflow.cli import Progress, parser, run
from workflow.io import write_csv
from workflow.methods.dpnas import hypotheses
from workflow.methods.dpnas.scoring import ScoreConfig
from workflow.methods.dpnas.task import load_task


def main(args):
    task = load_task(args.data, args.params)
    chosen = pd.read_csv(args.chosen)
    cfg, hyp = ScoreConfig.from_dict(args.params["classifier"]), args.params["hypotheses"]
    device = args.device
    partial = args.out.with_name(f".{args.out.name}.partial.csv")
    if args.kind == "resampled":
        table = hypotheses.resample(chosen, task, cfg, args.seed, hyp["resample_seeds"], partial, device)
    else:
        table = hypotheses.full_train(chosen, task, cfg, args.seed, hyp["full_train_epochs"], partial,
                                      progress_file=Progress.stream, device=device)
    write_csv(args.out, table)
    partial.unlink(missing_ok=True)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--kind", choices=["resampled", "full"], required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--chosen", type=Path, required=True)
    p.add_argument("--compute", type=json.loads, default={"device": "cpu", "threads": 1})
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
