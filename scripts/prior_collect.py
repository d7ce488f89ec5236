"""Rule `prior_collect`: transfer.csv (selected runs, contract columns) and summary.json for one seed."""

from pathlib import Path

import pandas as pd

from workflow.cli import parser, run
from workflow.io import write_csv
from workflow.methods.prior.tables import transfer_summary, transfer_table
from workflow.provenance import write_summary


def main(args):
    runs = pd.concat([pd.read_csv(p) for p in args.runs], ignore_index=True)
    write_csv(args.out / "transfer.csv", transfer_table(runs))
    write_summary(args.out / "summary.json", {"method": "prior", "suite": args.suite, "seed": args.seed,
                                              **transfer_summary(runs)}, params=args.params or None)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--runs", nargs="+", type=Path, required=True, help="runs.csv of every N")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--suite", required=True)
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
