"""Rules `cpg_accuracy_figure` and `cpg_capacity_figure`: CPG's figures, from result tables only. The method of a
table is the folder after results/ (results/<method>/<suite>/seed<S>/...)."""

from collections import defaultdict
from pathlib import Path

import pandas as pd

from workflow.cli import parser, run
from workflow.methods.common import read_accuracy
from workflow.plots.common import save_figure
from workflow.plots.cpg import accuracy_figure, capacity_figure


def main(args):
    tables = defaultdict(list)
    for path in args.tables:
        method = path.parts[path.parts.index("results") + 1] if "results" in path.parts else path.parts[0]
        tables[method].append(read_accuracy(path) if args.figure == "accuracy" else pd.read_csv(path))
    figure = accuracy_figure if args.figure == "accuracy" else capacity_figure
    save_figure(figure(dict(tables), args.title), args.out)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("figure", choices=["accuracy", "capacity"])
    p.add_argument("--tables", nargs="+", type=Path, required=True)
    p.add_argument("--title", default="")
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
