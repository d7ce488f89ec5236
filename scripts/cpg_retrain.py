"""Rule `cpg_retrain`: fresh picking mask and the task's remaining weights, retrained with patience; then every
task so far is evaluated through its own task view (one row of R, the capacity row, test logits)."""

import pandas as pd

from workflow.io import torch_load, torch_save, write_csv, write_json
from workflow.methods.common import load_suite
from workflow.methods.cpg import stages
from workflow.methods.cpg.params import check_params
from workflow.stage import Progress, log, run


def main(job):  # the run context has set compute.threads, the seed and job.device
    params = check_params(job.params.method, job.wildcards.method)
    task_index = int(job.wildcards.task)
    tasks = load_suite(job.input.data.parent, job.params.suite)
    device = job.device
    chosen = torch_load(job.input.chosen)
    net, info, history = stages.retrain(chosen["network"], tasks[task_index], params=params, seed=job.seed,
                                        device=device, checkpoint_path=job.resume_file(),
                                        progress_file=Progress.stream, threads=job.threads)
    rows, logits = stages.evaluate_tasks(net, tasks, device=device)
    torch_save(job.output.model, {"network": net.to_state()})
    torch_save(job.output.logits, logits)
    write_csv(job.output.history, pd.DataFrame(history, columns=["epoch", "lr", "train_loss", "train_accuracy",
                                                                 "val_accuracy", "val_loss"]))
    write_json(job.output.eval, {"after_task": task_index, "accuracy": rows, "retrain": info,
                                 "sparsity": chosen["sparsity"], "capacity": stages.capacity(net, task_index)})
    log.info("after task %d: %s", task_index, [round(r["accuracy"], 4) for r in rows])


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
