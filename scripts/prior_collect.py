"""Rule `prior_collect`: transfer.csv (selected runs, contract columns) and summary.json for one seed, from the
runs.csv of every N (its inputs)."""

import pandas as pd

from workflow.io import write_csv
from workflow.methods.prior.tables import transfer_summary, transfer_table
from workflow.provenance import write_summary
from workflow.stage import run


def main(job):
    runs = pd.concat([pd.read_csv(p) for p in job.input], ignore_index=True)
    write_csv(job.output.table, transfer_table(runs))
    write_summary(job.output.summary, {"method": "prior", "suite": job.wildcards.suite, "seed": job.seed,
                                       **transfer_summary(runs)}, params=job.params.method or None)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
