"""Rules `cpg_accuracy_figure` and `cpg_capacity_figure`: CPG's figures, from result tables only (every input, in
order; ``params.figure`` is accuracy or capacity). The method of a table is the folder after results/
(results/<method>/<suite>/seed<S>/...)."""

from collections import defaultdict

import pandas as pd

from workflow.errors import UserError
from workflow.methods.common import read_accuracy
from workflow.plots.common import save_figure
from workflow.plots.cpg import accuracy_figure, capacity_figure
from workflow.stage import run

FIGURES = {"accuracy": accuracy_figure, "capacity": capacity_figure}


def main(job):
    kind = job.params.figure
    if kind not in FIGURES:
        raise UserError(f"params.figure is '{kind}': one of {sorted(FIGURES)}")
    tables = defaultdict(list)
    for path in job.input:
        method = path.parts[path.parts.index("results") + 1] if "results" in path.parts else path.parts[0]
        tables[method].append(read_accuracy(path) if kind == "accuracy" else pd.read_csv(path))
    title = job.params.names.get("title", "")
    save_figure(FIGURES[kind](dict(tables), title), job.output.png)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
