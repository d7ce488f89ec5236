"""Rules `sidetune_figure_final` / `sidetune_figure_matrix` / `sidetune_figure_forgetting`: figures of the lifelong
comparison (side-tuning and its baselines), from accuracy.csv tables only (``input``, one label per table in
``params.labels``; tables of one label, several seeds, are averaged); ``params.kind``: `final` (final accuracy per
task and method), `matrix` (R heat maps), `forgetting` (forgetting per method)."""

from collections import defaultdict

from workflow.errors import UserError
from workflow.methods.common import read_accuracy
from workflow.plots import sidetune as figures
from workflow.plots.accuracy import per_task_accuracy_figure
from workflow.plots.common import save_figure
from workflow.stage import run

KINDS = {"final": per_task_accuracy_figure, "matrix": figures.accuracy_matrices_figure,
         "forgetting": figures.forgetting_figure}


def main(job):
    tables_in, labels = list(job.input), list(job.params.labels)
    if len(labels) != len(tables_in):
        raise UserError("params.labels takes one label per table")
    if job.params.kind not in KINDS:
        raise UserError(f"params.kind is one of {', '.join(KINDS)}, not {job.params.kind!r}")
    tables = defaultdict(list)
    for label, path in zip(labels, tables_in):
        tables[label].append(read_accuracy(path))
    save_figure(KINDS[job.params.kind](dict(tables), job.params.title), job.output.png)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
