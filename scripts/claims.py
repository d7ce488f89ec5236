"""Rule `claims`: the paper-claims table (results/claims.csv) from the result tables of this run."""

from pathlib import Path

import pandas as pd

from workflow.claims import evaluate_claims
from workflow.cli import log, parser, run
from workflow.io import write_csv


def main(args):
    table = evaluate_claims(args.inputs, args.methods)
    write_csv(args.out, table)
    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        log.info("claims:\n%s", table[["method", "claim", "measured", "passed"]].to_string(index=False))


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--inputs", nargs="+", type=Path, required=True)
    p.add_argument("--methods", nargs="+", required=True)
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
