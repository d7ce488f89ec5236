"""Rule `sidetune_pretrain`: pretrain the base on the source pool (kept apart from the task suite), save it.
``input.source``: the source pool's dataset (its manifest; the arrays beside it); ``params.source``: the source
pool's suite spec; ``params.suite``: the task suite's spec (checked to be disjoint from the source pool)."""

import pandas as pd

from workflow.data import load_arrays
from workflow.errors import UserError
from workflow.io import write_csv, write_json
from workflow.methods import sidetune
from workflow.methods.common import load_suite
from workflow.methods.sidetune.artifacts import save_base
from workflow.stage import Progress, log, run


def main(job):  # the run context has set compute.threads, the seed and job.device
    data, suite, source_suite = job.input.source.parent, job.params.suite, job.params.source
    if source_suite["dataset"] == suite["dataset"]:
        sidetune.check_disjoint(source_suite, suite, load_arrays(data))
    source = load_suite(data, source_suite)
    if len(source) != 1:
        raise UserError(f"sidetune.source_suite must be one task holding every source class (it has "
                        f"{len(source)}): write it with tasks: 1 and class_groups: [[...all source classes...]]")
    base_cfg = job.params.method["base"]
    backbone, history, result = sidetune.pretrain_base(
        source[0], model=base_cfg["model"], width=base_cfg["width"], train=base_cfg["train"], seed=job.seed,
        device=job.device, progress_file=Progress.stream)
    digest = save_base(job.output.base, backbone.cpu(), model=base_cfg["model"], width=base_cfg["width"],
                       in_shape=source[0].train.x.shape[1:], source=source_suite)
    write_csv(job.output.history, pd.DataFrame(history))
    write_json(job.output.info, {**result, "sha256": digest, "source_suite": source_suite})
    log.info("base on %s: source val %.4f test %.4f", source[0].name, result["val"]["accuracy"],
             result["test"]["accuracy"])


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
