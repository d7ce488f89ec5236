"""Rules `subspace_alpha_figure` / `subspace_simplex_figure` (``params.figure``: alpha or simplex): paper figures 4
and 5 from the result tables."""

import pandas as pd

from workflow.plots.subspace import alpha_figure, simplex_figure
from workflow.stage import run


def main(job):
    curves = pd.concat([pd.read_csv(p) for p in job.input.curves], ignore_index=True)
    if job.params.figure == "alpha":
        alpha_figure(curves, job.output.png, job.params.title)
    else:
        simplex = pd.concat([pd.read_csv(p) for p in job.input.simplex], ignore_index=True)
        standard = float(curves.loc[curves["model"] == "standard", "accuracy"].mean())
        simplex_figure(simplex, standard, job.output.png, job.params.title)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
