"""Rule `method_metrics`: one method's summary.json files (one per seed) -> mean / std / per-seed values."""

from workflow.io import read_json, write_json
from workflow.stage import run
from workflow.summary import aggregate_summaries


def main(job):
    summaries = {str(p): read_json(p) for p in job.input}
    write_json(job.output[0], {"method": job.wildcards.method, **aggregate_summaries(summaries)})


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
