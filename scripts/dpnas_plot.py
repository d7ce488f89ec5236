"""Rules `dpnas_reward_figure` and `dpnas_hypotheses_figure`: DP-NAS figures from its result tables.
Param `figure`: "reward" (the rolling reward of replay_buffer.csv over param `window` nets) or "hypotheses"
(hypotheses.csv); param `title`."""

import pandas as pd

from workflow.errors import UserError
from workflow.plots.common import save_figure
from workflow.plots.dpnas import hypotheses_figure, rolling_reward_figure
from workflow.stage import run


def main(job):
    table = pd.read_csv(job.input[0], keep_default_na=False)
    if job.params.figure == "reward":
        fig = rolling_reward_figure(table, int(job.params.window), job.params.title)
    elif job.params.figure == "hypotheses":
        fig = hypotheses_figure(table, job.params.title)
    else:
        raise UserError(f"params.figure is 'reward' or 'hypotheses', not {job.params.figure!r}")
    save_figure(fig, job.output.png)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
