"""Figures of the lifelong comparison (side-tuning and its baselines), from accuracy.csv tables only:
`final` (final accuracy per task and method), `matrix` (R heat maps), `forgetting` (forgetting per method)."""

from collections import defaultdict
from pathlib import Path

from workflow.cli import parser, run
from workflow.errors import UserError
from workflow.methods.common import read_accuracy
from workflow.plots import sidetune as figures
from workflow.plots.accuracy import per_task_accuracy_figure
from workflow.plots.common import save_figure


def main(args):
    if len(args.labels) != len(args.tables):
        raise UserError("--labels takes one label per table")
    tables = defaultdict(list)
    for label, path in zip(args.labels, args.tables):
        tables[label].append(read_accuracy(path))
    tables = dict(tables)
    if args.kind == "final":
        fig = per_task_accuracy_figure(tables, args.title)
    elif args.kind == "matrix":
        fig = figures.accuracy_matrices_figure(tables, args.title)
    else:
        fig = figures.forgetting_figure(tables, args.title)
    save_figure(fig, args.out)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--kind", choices=["final", "matrix", "forgetting"], required=True)
    p.add_argument("--tables", nargs="+", type=Path, required=True)
    p.add_argument("--labels", nargs="+", required=True)
    p.add_argument("--title", default="")
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
