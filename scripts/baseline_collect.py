"""Rule `baseline_collect`: R, summary and per-task goals (baseline_acc.json) from the per-task results."""

from pathlib import Path

from workflow.cli import parser, run
from workflow.io import read_json, write_json
from workflow.methods import baseline
from workflow.methods.common import write_continual_results


def main(args):
    results = [read_json(p) for p in args.results]
    r, goals = baseline.collect(results)
    write_continual_results(args.out, r, extra_summary={"method": "baseline", "seed": results[0]["seed"]},
                            params=args.params or None)
    write_json(args.out / "baseline_acc.json", {"goal_metric": "val_accuracy", "tasks": goals})


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--results", nargs="+", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
