"""Rule `cpg_collect`: R (accuracy.csv), summary.json and the capacity table from every task's eval.json."""

import pandas as pd

from workflow.io import read_json, write_csv
from workflow.methods.common import write_continual_results
from workflow.methods.cpg.tables import accuracy_matrix
from workflow.stage import run


def main(job):
    evals = sorted((read_json(p) for p in job.input.evals), key=lambda e: e["after_task"])
    goals = read_json(job.input.goals)["tasks"]
    r = accuracy_matrix([e["accuracy"] for e in evals], len(evals))
    capacity = pd.DataFrame([{**e["capacity"], "sparsity": e["sparsity"]} for e in evals])
    write_csv(job.output.capacity, capacity)
    reference = [g["test_accuracy"] for g in sorted(goals, key=lambda g: g["task"])][:len(evals)]
    write_continual_results(job.output.summary.parent, r, reference=reference, extra_summary={
        "method": job.wildcards.method, "seed": job.seed,
        "final_multiplier": float(capacity["multiplier"].iloc[-1]),
        "total_weights": int(capacity["total_weights"].iloc[-1]),
        "free_fraction": float(capacity["free"].iloc[-1] / capacity["total_weights"].iloc[-1]),
        "chosen_sparsity": capacity["sparsity"].tolist(),
        "baseline_average_accuracy": sum(reference) / len(reference),
    }, params=job.params.method or None)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
