"""Rule `dpnas_select`: the 6 lowest, 6 middle and 6 top rewarded distinct nets of a search (chosen.csv)."""

from workflow.io import write_csv
from workflow.methods.dpnas.selection import select  # torch-free, like tables: this job never imports torch
from workflow.methods.dpnas.tables import read_buffer
from workflow.stage import log, run


def main(job):
    chosen = select(read_buffer(job.input.buffer), job.params.method["hypotheses"]["per_group"], job.seed)
    write_csv(job.output[0], chosen)
    log.info("chosen:\n%s", chosen.to_string(index=False))


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
