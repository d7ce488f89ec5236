"""Rule `prior_figure`: test accuracy and NLL against N per class, one line per arm and inference."""

from pathlib import Path

import pandas as pd

from workflow.cli import parser, run
from workflow.plots.common import save_figure
from workflow.plots.prior import accuracy_vs_n_figure


def main(args):
    table = pd.concat([pd.read_csv(p).assign(seed=k) for k, p in enumerate(args.tables)], ignore_index=True)
    save_figure(accuracy_vs_n_figure(table, title=args.title), args.out)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--tables", nargs="+", type=Path, required=True, help="transfer.csv of every seed")
    p.add_argument("--title", default="")
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
