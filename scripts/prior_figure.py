"""Rule `prior_figure`: test accuracy and NLL against N per class, one line per arm and inference, from the
transfer.csv of every seed (its inputs)."""

import pandas as pd

from workflow.plots.common import save_figure
from workflow.plots.prior import accuracy_vs_n_figure
from workflow.stage import run


def main(job):
    table = pd.concat([pd.read_csv(p).assign(seed=k) for k, p in enumerate(job.input)], ignore_index=True)
    save_figure(accuracy_vs_n_figure(table, title=job.params.title), job.output.png)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
