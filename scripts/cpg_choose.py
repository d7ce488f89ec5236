"""Rule `cpg_choose`: keep the largest pruning level whose validation accuracy reaches the task's goal minus the
allowed loss (PackNet: its fixed level; a task capped at maximum width: the reserve level). ``output.model`` is the
chosen network, ``output.choice`` its choice.json."""

from workflow.io import read_json, torch_load, torch_save, write_json
from workflow.methods.cpg.choose import CAPPED, choose_sparsity
from workflow.methods.cpg.params import check_params
from workflow.stage import log, run


def main(job):
    params = check_params(job.params.method, job.wildcards.method)
    record = read_json(job.input.record)
    capped = record["status"] == CAPPED and params["reserve_when_capped"]
    sparsity = choose_sparsity(record["records"], record["goal"], params["allowed_loss"], mode=params["choose_by"],
                               capped=capped)
    levels = torch_load(job.input.levels)["levels"]
    torch_save(job.output.model, {"network": levels[sparsity], "sparsity": sparsity})
    chosen = next(r for r in record["records"] if r["sparsity"] == sparsity)
    write_json(job.output.choice, {"task": record["task"], "goal": record["goal"], "capped": capped,
                                   "sparsity": sparsity, "val_accuracy": chosen["val_accuracy"]})
    log.info("task %d: sparsity %.2f (val %.4f, goal %.4f)", record["task"], sparsity, chosen["val_accuracy"],
             record["goal"])


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
