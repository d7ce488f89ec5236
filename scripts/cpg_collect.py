"""Rule `cpg_collect`: R (accuracy.csv), summary.json and the capacity table from every task's eval.json."""

from pathlib import Path

import pandas as pd

from workflow.cli import parser, run
from workflow.io import read_json, write_csv
from workflow.methods.common import write_continual_results
from workflow.methods.cpg.tables import accuracy_matrix


def main(args):
    evals = sorted((read_json(p) for p in args.evals), key=lambda e: e["after_task"])
    goals = read_json(args.goals)["tasks"]
    r = accuracy_matrix([e["accuracy"] for e in evals], len(evals))
    capacity = pd.DataFrame([{**e["capacity"], "sparsity": e["sparsity"]} for e in evals])
    write_csv(args.out / "capacity.csv", capacity)
    reference = [g["test_accuracy"] for g in sorted(goals, key=lambda g: g["task"])][:len(evals)]
    write_continual_results(args.out, r, reference=reference, extra_summary={
        "method": args.method, "seed": args.seed,
        "final_multiplier": float(capacity["multiplier"].iloc[-1]),
        "total_weights": int(capacity["total_weights"].iloc[-1]),
        "free_fraction": float(capacity["free"].iloc[-1] / capacity["total_weights"].iloc[-1]),
        "chosen_sparsity": capacity["sparsity"].tolist(),
        "baseline_average_accuracy": sum(reference) / len(reference),
    }, params=args.params or None)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--method", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--evals", nargs="+", type=Path, required=True)
    p.add_argument("--goals", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
