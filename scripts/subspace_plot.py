"""Rules `subspace_alpha_figure` / `subspace_simplex_figure`: paper figures 4 and 5 from the result tables."""

from pathlib import Path

import pandas as pd

from workflow.cli import parser, run
from workflow.plots.subspace import alpha_figure, simplex_figure


def main(args):
    curves = pd.concat([pd.read_csv(p) for p in args.curves], ignore_index=True)
    if args.figure == "alpha":
        alpha_figure(curves, args.out, args.title)
    else:
        simplex = pd.concat([pd.read_csv(p) for p in args.simplex], ignore_index=True)
        standard = float(curves.loc[curves["model"] == "standard", "accuracy"].mean())
        simplex_figure(simplex, standard, args.out, args.title)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--figure", choices=["alpha", "simplex"], required=True)
    p.add_argument("--curves", type=Path, nargs="+", required=True)
    p.add_argument("--simplex", type=Path, nargs="*", default=[])
    p.add_argument("--title", default="")
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
