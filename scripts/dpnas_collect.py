"""Rule `dpnas_hypotheses`: hypotheses.csv (net,group,kind,seed,accuracy) and summary.json of a search."""

import pandas as pd

from workflow.io import write_csv
from workflow.methods.dpnas.tables import HYPOTHESES_COLUMNS, read_buffer, summarize
from workflow.provenance import write_summary
from workflow.stage import log, run


def main(job):
    table = pd.concat([pd.read_csv(p, float_precision="round_trip") for p in job.input.tables], ignore_index=True)
    table = table[HYPOTHESES_COLUMNS]
    write_csv(job.output.table, table)
    summary = summarize(read_buffer(job.input.buffer), table)
    write_summary(job.output.summary, summary, params=job.params.method or None)
    log.info("mean reward by epsilon %s", summary["mean_reward_by_epsilon"])


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
