"""Rule `cpg_finetune` (a checkpoint): one finetune attempt of a task; its status.json (ok / grow / capped)
decides whether Snakemake asks for a grow step and another attempt. ``input.goals`` is the baseline's
baseline_acc.json; the optional ``input.start`` is the network to start from (the previous task's, or the grow
step's; none for task 0's first attempt)."""

import pandas as pd

from workflow.io import read_json, torch_load, torch_save, write_csv, write_json
from workflow.methods.common import load_suite
from workflow.methods.cpg import stages
from workflow.methods.cpg.params import check_params, read_goal
from workflow.stage import Progress, log, run


def main(job):  # the run context has set compute.threads, the seed and job.device
    params = check_params(job.params.method, job.wildcards.method)
    task_index, attempt = int(job.wildcards.task), int(job.wildcards.attempt)
    task = load_suite(job.input.data.parent, job.params.suite)[task_index]
    goal = read_goal(read_json(job.input.goals), task_index, job.input.goals)
    start = torch_load(job.input.start)["network"] if "start" in job.input.names else None
    net, status, history = stages.finetune(start, task, params=params, goal=goal, seed=job.seed,
                                           device=job.device, checkpoint_path=job.resume_file(),
                                           progress_file=Progress.stream, threads=job.threads)
    status["attempt"] = attempt
    torch_save(job.output.model, {"network": net.to_state()})
    write_csv(job.output.history, pd.DataFrame(history))
    write_json(job.output.status, status)
    log.info("task %d attempt %d: %s (val %.4f, goal %.4f, multiplier %.3g)", task_index, attempt,
             status["status"], status["val_accuracy"], goal, status["multiplier"])


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
