"""Rule `dpnas_export`: the top chosen prior's embeddings, one .npy per sample under <split>/<label>/<index>.npy."""

import pandas as pd

from workflow.methods.dpnas.export import export_embeddings
from workflow.methods.dpnas.scoring import ScoreConfig
from workflow.methods.dpnas.task import load_task
from workflow.stage import log, run


def main(job):
    params = job.params.method
    task = load_task(job.input.data.parent, params)
    chosen = pd.read_csv(job.input.chosen)
    best = chosen.sort_values("reward", kind="mergesort").iloc[-1]
    cfg = ScoreConfig.from_dict(params["classifier"])
    info = export_embeddings(best["net"], task, int(best["prior_seed"]), job.output[0], bn_eps=cfg.bn_eps,
                             batch_size=cfg.batch_size, device=job.device)
    log.info("exported %s", info)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
