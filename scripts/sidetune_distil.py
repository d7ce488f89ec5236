"""Rule `sidetune_distil`: distil the side network from the frozen base on the source pool (L2 on features).
``input.source``: the source pool's dataset (its manifest); ``params.source``: the source pool's suite spec."""

import pandas as pd

from workflow.io import write_csv, write_json
from workflow.methods import sidetune
from workflow.methods.common import load_suite
from workflow.methods.sidetune.artifacts import load_base, save_side
from workflow.stage import Progress, log, run


def main(job):  # the run context has set compute.threads, the seed and job.device
    device = job.device
    source = load_suite(job.input.source.parent, job.params.source)[0]
    backbone, _ = load_base(job.input.base)
    base = sidetune.FrozenBase(backbone).to(device)
    side_cfg = job.params.method["side"]
    side = sidetune.build_side(source.train.x.shape[1:], side_cfg["channels"], backbone.out_features,
                               side_cfg["norm_groups"])
    side, history, quality = sidetune.distil_side(side, base, source, train=side_cfg["distil"], seed=job.seed,
                                                  device=device, progress_file=Progress.stream)
    save_side(job.output.side, side.cpu(), channels=side_cfg["channels"], norm_groups=side_cfg["norm_groups"],
              in_shape=source.train.x.shape[1:])
    write_csv(job.output.history, pd.DataFrame(history))
    write_json(job.output.info, quality)
    log.info("side distilled: %s", quality)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
