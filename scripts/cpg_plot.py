"""Rules `cpg_accuracy_figure` and `cpg_capacity_figure`: CPG's figures, from result tables only (every input, in
order; ``params.figure`` is accuracy or capacity). The method of a table is the folder after results/
(results/<method>/<suite>/seed<S>/...)."""

import pandas as pd

from workflow.errors import UserError
from workflow.methods.common import read_accuracy, tables_by_method
from workflow.plots.common import save_figure
from workflow.plots.cpg import accuracy_figure, capacity_figure
from workflow.stage import run

FIGURES = {"accuracy": accuracy_figure, "capacity": capacity_figure}


def main(job):
    kind = job.params.figure
    if kind not in FIGURES:
        raise UserError(f"params.figure is '{kind}': one of {sorted(FIGURES)}")
    tables = tables_by_method(job.input, read=read_accuracy if kind == "accuracy" else pd.read_csv)
    save_figure(FIGURES[kind](tables, job.params.title), job.output.png)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
