"""Figure: final accuracy per task, one bar group per method (tables from several seeds are averaged)."""

from collections import defaultdict

from workflow.errors import UserError
from workflow.methods.common import read_accuracy
from workflow.plots.accuracy import per_task_accuracy_figure
from workflow.plots.common import save_figure
from workflow.stage import run


def main(job):
    tables_in, labels = list(job.input), list(job.params.labels)
    labels = labels if len(labels) == len(tables_in) else labels * len(tables_in)
    if len(labels) != len(tables_in):
        raise UserError("params.labels takes one label, or one per table")
    tables = defaultdict(list)
    for label, path in zip(labels, tables_in):
        tables[label].append(read_accuracy(path))
    save_figure(per_task_accuracy_figure(dict(tables), job.params.title), job.output.png)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
