"""Rule `cpg_grow`: widen the previous task's chosen network (or a fresh one for the first task) after a finetune
attempt whose status says `grow`; the next finetune attempt starts from it. ``input.status`` is the status.json of
the attempt that missed its goal; the optional ``input.previous`` is the previous task's model.pt (none for task
0)."""

from workflow.errors import UserError
from workflow.io import read_json, torch_load, torch_save
from workflow.methods.common import load_suite
from workflow.methods.cpg import stages
from workflow.methods.cpg.choose import GROW, next_multiplier
from workflow.methods.cpg.params import check_params
from workflow.stage import log, run


def main(job):
    params = check_params(job.params.method, job.wildcards.method)
    task_index = int(job.wildcards.task)
    status = read_json(job.input.status)
    if status["status"] != GROW:
        raise UserError(f"{job.input.status} says '{status['status']}', not '{GROW}': nothing to grow")
    task = load_suite(job.input.data.parent, job.params.suite)[task_index]
    growth = params["growth"]
    multiplier = next_multiplier(status["multiplier"], growth["step"], growth["max_multiplier"])
    previous = torch_load(job.input.previous)["network"] if "previous" in job.input.names else None
    net = stages.grow(previous, multiplier=multiplier, params=params, in_shape=task.train.x.shape[1:],
                      seed=job.seed, task_index=task_index, threads=1)  # its rule reserves one core
    torch_save(job.output.start, {"network": net.to_state(), "multiplier": multiplier})
    log.info("task %d: grown from multiplier %.3g to %.3g", task_index, status["multiplier"], multiplier)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
