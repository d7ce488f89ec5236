"""Rule `prior_fit`: SWAG on the source task from the pretrained network (``input.model``); writes the prior files
prior_{model,mean,variance,covmat}.pt + manifest beside ``output.manifest``."""

import copy

import pandas as pd

from workflow.io import torch_load, write_csv
from workflow.methods.common import load_suite
from workflow.methods.prior import files, stages
from workflow.methods.prior.networks import build_network
from workflow.stage import Progress, log, run


def main(job):  # the run context has set compute.threads, the seed (0: the rule has no seed wildcard), job.device
    params = job.params.method
    task = load_suite(job.input.data.parent, job.params.suite)[params["source_task"]]
    saved = torch_load(job.input.model)
    net = build_network(saved["network"], saved["network"]["in_shape"], task.num_classes)
    net.load_state_dict(saved["state_dict"])
    net.to(job.device)
    pretrained_backbone = copy.deepcopy(net.backbone.state_dict())  # downstream runs start here
    stats, history = stages.fit_prior(net, task, params["swag"], seed=params["source_seed"], device=job.device,
                                      checkpoint_path=job.resume_file(".fit.resume.pt"),
                                      progress_file=Progress.stream, threads=job.threads)
    summary = stages.swag_summary(stats)
    files.save_prior(job.output.manifest.parent / "prior", backbone=net.backbone, model_state=pretrained_backbone,
                     network=saved["network"], stats=stats, extra={"swag": summary})
    write_csv(job.output.history, pd.DataFrame(history))
    log.info("prior fitted: %s", summary)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
