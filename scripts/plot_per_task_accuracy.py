"""Figure: final accuracy per task, one bar group per method (results/<method>/...; tables from several seeds are
averaged)."""

from workflow.methods.common import tables_by_method
from workflow.plots.accuracy import per_task_accuracy_figure
from workflow.plots.common import save_figure
from workflow.stage import run


def main(job):
    save_figure(per_task_accuracy_figure(tables_by_method(job.input), job.params.title), job.output.png)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
