"""Figure: final accuracy per task, one bar group per method (tables from several seeds are averaged)."""

from collections import defaultdict
from pathlib import Path

from workflow.cli import parser, run
from workflow.errors import UserError
from workflow.methods.common import read_accuracy
from workflow.plots.accuracy import per_task_accuracy_figure
from workflow.plots.common import save_figure


def main(args):
    labels = args.labels if len(args.labels) == len(args.tables) else args.labels * len(args.tables)
    if len(labels) != len(args.tables):
        raise UserError("--labels takes one label, or one per table")
    tables = defaultdict(list)
    for label, path in zip(labels, args.tables):
        tables[label].append(read_accuracy(path))
    save_figure(per_task_accuracy_figure(dict(tables), args.title), args.out)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--tables", nargs="+", type=Path, required=True)
    p.add_argument("--labels", nargs="+", required=True)
    p.add_argument("--title", default="")
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
