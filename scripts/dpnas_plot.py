"""Rules `dpnas_reward_figure` and `dpnas_hypotheses_figure`: DP-NAS figures from its result tables."""

from pathlib import Path

import pandas as pd

from workflow.cli import parser, run
from workflow.plots.common import save_figure
from workflow.plots.dpnas import hypotheses_figure, rolling_reward_figure


def main(args):
    table = pd.read_csv(args.table, keep_default_na=False)
    if args.figure == "reward":
        fig = rolling_reward_figure(table, args.window, args.title)
    else:
        fig = hypotheses_figure(table, args.title)
    save_figure(fig, args.out)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--figure", choices=["reward", "hypotheses"], required=True)
    p.add_argument("--table", type=Path, required=True)
    p.add_argument("--window", type=int, default=20)
    p.add_argument("--title", default="")
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
