"""Rule `dpnas_hypotheses`: hypotheses.csv (net,group,kind,seed,accuracy) and summary.json of a search."""

from pathlib import Path

import pandas as pd

from workflow.cli import log, parser, run
from workflow.io import write_csv
from workflow.methods.dpnas.tables import HYPOTHESES_COLUMNS, read_buffer, summarize
from workflow.provenance import write_summary


def main(args):
    table = pd.concat([pd.read_csv(p, float_precision="round_trip") for p in args.tables], ignore_index=True)
    table = table[HYPOTHESES_COLUMNS]
    write_csv(args.out / "hypotheses.csv", table)
    summary = summarize(read_buffer(args.buffer), table)
    write_summary(args.out / "summary.json", summary, params=args.params or None)
    log.info("mean reward by epsilon %s", summary["mean_reward_by_epsilon"])


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--tables", nargs="+", type=Path, required=True)
    p.add_argument("--buffer", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
