"""Rule `prior_pretrain`: train the source network (backbone + source head) on the source task (``input.data``:
the source dataset's manifest, beside its arrays.npz)."""

import pandas as pd

from workflow.io import torch_save, write_csv, write_json
from workflow.methods.common import load_suite
from workflow.methods.prior import stages
from workflow.stage import Progress, log, run


def main(job):  # the run context has set compute.threads, the seed (0: the rule has no seed wildcard), job.device
    params = job.params.method
    task = load_suite(job.input.data.parent, job.params.suite)[params["source_task"]]
    net, history, result = stages.pretrain(task, params, seed=params["source_seed"], device=job.device,
                                           checkpoint_path=job.resume_file(".pretrain.resume.pt"),
                                           progress_file=Progress.stream, threads=job.threads)
    torch_save(job.output.model, {"state_dict": net.state_dict(), "network": result["network"],
                                  "classes": task.classes})
    write_csv(job.output.history, pd.DataFrame(history))
    write_json(job.output.result, {**result, "task": task.index, "classes": task.classes})
    log.info("source task %s: val %.4f test %.4f", task.name, result["val"]["accuracy"], result["test"]["accuracy"])


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
