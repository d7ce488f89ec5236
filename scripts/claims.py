"""Rule `claims`: the paper-claims table (results/claims.csv) from the result tables of this run: each claim a
paired per-seed comparison with a verdict (holds, fails, indistinguishable, too few seeds, no results); the rule
is in workflow/claims.py. A config/paper.yaml run's claims table, when committed, fills its paper_config_run
column."""

import pandas as pd

from workflow.claims import evaluate_claims
from workflow.io import write_csv
from workflow.stage import log, run


def main(job):
    paper = job.input.paper[0] if job.input.paper else None
    table = evaluate_claims(job.input.results, job.params.methods, paper_claims=paper)
    write_csv(job.output[0], table)
    shown = ["method", "claim", "seeds", "per_seed_verdicts", "diff_mean", "diff_se", "verdict", "measured"]
    with pd.option_context("display.width", 250, "display.max_colwidth", 90, "display.float_format", "{:+.4f}".format):
        log.info("claims (verdict rule: workflow/claims.py):\n%s", table[shown].to_string(index=False))
    for verdict, count in table["verdict"].value_counts().items():
        log.info("%s: %d", verdict, count)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
