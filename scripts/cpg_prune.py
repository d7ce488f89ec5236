"""Rule `cpg_prune`: the gradual pruning sweep of one task's weights; validation accuracy per sparsity level.
``input.model`` and ``input.status`` are the finetuned network of the task's last finetune attempt and that
attempt's status.json."""

import pandas as pd

from workflow.io import read_json, torch_load, torch_save, write_csv, write_json
from workflow.methods.common import load_suite
from workflow.methods.cpg import stages
from workflow.methods.cpg.params import check_params, read_goal
from workflow.stage import Progress, run


def main(job):  # the run context has set compute.threads, the seed and job.device
    params = check_params(job.params.method, job.wildcards.method)
    task_index = int(job.wildcards.task)
    tasks = load_suite(job.input.data.parent, job.params.suite)
    task = tasks[task_index]
    goal = read_goal(read_json(job.input.goals), task_index, job.input.goals)
    status = read_json(job.input.status)
    resume = job.resume_file()  # finished levels of an interrupted sweep
    progress = torch_load(resume) if resume.exists() else None
    records, levels, history = stages.prune_sweep(
        torch_load(job.input.model)["network"], task, params=params, status=status, num_tasks=len(tasks),
        goal=goal, seed=job.seed, device=job.device, progress=progress,
        save_progress=lambda state: torch_save(resume, state), progress_file=Progress.stream, threads=job.threads)
    torch_save(job.output.levels, {"levels": levels})
    write_csv(job.output.history, pd.DataFrame(history))
    write_json(job.output.record, {"task": task_index, "goal": goal, "status": status["status"],
                                   "records": records})


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
