"""Rule `cpg_grow`: widen the previous task's chosen network (or a fresh one for the first task) after a finetune
attempt whose status says `grow`; the next finetune attempt starts from it."""

import json
from pathlib import Path

from workflow.cli import log, parser, run
from workflow.errors import UserError
from workflow.io import read_json, torch_load, torch_save
from workflow.methods.cpg import stages
from workflow.methods.cpg.choose import GROW, next_multiplier
from workflow.methods.cpg.params import check_params
from workflow.methods.common import load_suite


def main(args):
    params = check_params(args.params, args.method)
    status = read_json(args.status)
    if status["status"] != GROW:
        raise UserError(f"{args.status} says '{status['status']}', not '{GROW}': nothing to grow")
    task = load_suite(args.data, args.suite)[args.task]
    growth = params["growth"]
    multiplier = next_multiplier(status["multiplier"], growth["step"], growth["max_multiplier"])
    previous = torch_load(args.previous)["network"] if args.previous else None
    net = stages.grow(previous, multiplier=multiplier, params=params, in_shape=task.train.x.shape[1:],
                      seed=args.seed, task_index=args.task, threads=1)  # its rule reserves one core
    torch_save(args.out, {"network": net.to_state(), "multiplier": multiplier})
    log.info("task %d: grown from multiplier %.3g to %.3g", args.task, status["multiplier"], multiplier)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--method", required=True, help="config section: cpg or packnet")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--suite", type=json.loads, required=True)
    p.add_argument("--task", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--status", type=Path, required=True, help="status.json of the attempt that missed its goal")
    p.add_argument("--previous", type=Path, default=None, help="the previous task's model.pt (none for task 0)")
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
