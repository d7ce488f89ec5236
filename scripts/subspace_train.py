"""Rule `subspace_train`: train one model (the ``model`` wildcard: standard<k>, line, curve, simplex<n>,
..._layerwise), a standard network or a line / curve / simplex subspace."""

import pandas as pd

from workflow.io import torch_save, write_csv
from workflow.methods.common import load_suite
from workflow.methods.subspace.training import model_seed, train_model
from workflow.stage import Progress, log, run


def main(job):  # the run context has set compute.threads, the seed and job.device
    model, params = job.wildcards.model, job.params.method
    task = load_suite(job.input.data.parent, job.params.suite)[0]
    net, spec, history = train_model(task, model, params, seed=model_seed(job.seed, model), device=job.device,
                                     checkpoint_path=job.resume_file(f".{model}.resume.pt"),
                                     progress_file=Progress.stream, threads=job.threads)
    torch_save(job.output.model, {"state_dict": net.state_dict(), "model": model, "config": params})
    write_csv(job.output.history, pd.DataFrame(history))
    log.info("%s: final val accuracy (midpoint) %.4f", model, history[-1].get("val_accuracy", float("nan")))


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
