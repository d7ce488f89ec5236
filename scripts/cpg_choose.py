"""Rule `cpg_choose`: keep the largest pruning level whose validation accuracy reaches the task's goal minus the
allowed loss (PackNet: its fixed level; a task capped at maximum width: the reserve level)."""

from pathlib import Path

from workflow.cli import log, parser, run
from workflow.io import read_json, torch_load, torch_save, write_json
from workflow.methods.cpg.choose import CAPPED, choose_sparsity
from workflow.methods.cpg.params import check_params


def main(args):
    params = check_params(args.params, args.method)
    record = read_json(args.record)
    capped = record["status"] == CAPPED and params["reserve_when_capped"]
    sparsity = choose_sparsity(record["records"], record["goal"], params["allowed_loss"], mode=params["choose_by"],
                               capped=capped)
    levels = torch_load(args.levels)["levels"]
    torch_save(args.model, {"network": levels[sparsity], "sparsity": sparsity})
    chosen = next(r for r in record["records"] if r["sparsity"] == sparsity)
    write_json(args.out, {"task": record["task"], "goal": record["goal"], "capped": capped, "sparsity": sparsity,
                          "val_accuracy": chosen["val_accuracy"]})
    log.info("task %d: sparsity %.2f (val %.4f, goal %.4f)", record["task"], sparsity, chosen["val_accuracy"],
             record["goal"])


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--method", required=True, help="config section: cpg or packnet")
    p.add_argument("--record", type=Path, required=True)
    p.add_argument("--levels", type=Path, required=True)
    p.add_argument("--model", type=Path, required=True, help="the chosen network (output)")
    p.add_argument("--out", type=Path, required=True, help="choice.json")
    run(main, p)
