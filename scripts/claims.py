"""Rule `claims`: the paper-claims table (results/claims.csv) from the result tables of this run: each claim a
paired per-seed comparison with a verdict (holds, fails, indistinguishable, too few seeds, no results); the rule
is in workflow/claims.py."""

from pathlib import Path

import pandas as pd

from workflow.claims import evaluate_claims
from workflow.cli import log, parser, run
from workflow.io import write_csv


def main(args):
    table = evaluate_claims(args.inputs, args.methods, paper_claims=args.paper_claims)
    write_csv(args.out, table)
    shown = ["method", "claim", "seeds", "per_seed_verdicts", "diff_mean", "diff_se", "verdict", "measured"]
    with pd.option_context("display.width", 250, "display.max_colwidth", 90, "display.float_format", "{:+.4f}".format):
        log.info("claims (verdict rule: workflow/claims.py):\n%s", table[shown].to_string(index=False))
    for verdict, count in table["verdict"].value_counts().items():
        log.info("%s: %d", verdict, count)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--inputs", nargs="+", type=Path, required=True)
    p.add_argument("--methods", nargs="+", required=True)
    p.add_argument("--paper-claims", type=Path, default=None,
                   help="a config/paper.yaml run's claims table: fills the paper_config_run column")
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
