"""Rule `baseline_collect`: R, summary and per-task goals (baseline_acc.json) from the per-task results."""

from workflow.io import read_json, write_json
from workflow.methods import baseline
from workflow.methods.common import write_continual_results
from workflow.stage import run


def main(job):
    results = [read_json(p) for p in job.input]
    r, goals = baseline.collect(results)
    write_continual_results(job.output.summary.parent, r, extra_summary={"method": "baseline",
                                                                          "seed": results[0]["seed"]},
                            params=job.params.method or None)
    write_json(job.output.goals, {"goal_metric": "val_accuracy", "tasks": goals})


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
