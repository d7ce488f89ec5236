"""Rule `baseline_train`: train one independent network on one task of a suite."""

import pandas as pd

from workflow.io import torch_save, write_csv, write_json
from workflow.methods import baseline
from workflow.methods.common import load_suite
from workflow.stage import Progress, log, run


def main(job):
    task_index = int(job.wildcards.task)
    task = load_suite(job.input.data.parent, job.params.suite)[task_index]
    params = job.params.method
    net, history, result = baseline.train_task(
        task, model=params["model"], width=params["width"], train=params["train"], seed=job.seed,
        device=job.device, checkpoint_path=job.resume_file(), progress_file=Progress.stream, threads=job.threads)
    torch_save(job.output.model, {"state_dict": net.state_dict(), "config": params, "task": task_index})
    write_csv(job.output.history, pd.DataFrame(history))
    write_json(job.output.result, result)
    log.info("task %d: val %.4f test %.4f", task_index, result["val"]["accuracy"], result["test"]["accuracy"])


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
