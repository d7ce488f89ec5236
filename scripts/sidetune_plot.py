"""Rules `sidetune_figure_final` / `sidetune_figure_matrix` / `sidetune_figure_forgetting`: figures of the lifelong
comparison (side-tuning and its baselines), from accuracy.csv tables only (``input``, each labelled by its method,
results/<method>/...; the tables of one method, several seeds, are averaged); ``params.kind``: `final` (final accuracy per
task and method), `matrix` (R heat maps), `forgetting` (forgetting per method)."""

from workflow.errors import UserError
from workflow.methods.common import tables_by_method
from workflow.plots import sidetune as figures
from workflow.plots.accuracy import per_task_accuracy_figure
from workflow.plots.common import save_figure
from workflow.stage import run

KINDS = {"final": per_task_accuracy_figure, "matrix": figures.accuracy_matrices_figure,
         "forgetting": figures.forgetting_figure}


def main(job):
    if job.params.kind not in KINDS:
        raise UserError(f"params.kind is one of {', '.join(KINDS)}, not {job.params.kind!r}")
    save_figure(KINDS[job.params.kind](tables_by_method(job.input), job.params.title), job.output.png)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
