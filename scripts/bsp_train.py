"""Rule `bsp_train`: Binary Superposition on side-tuning's task suite, tasks in order, from side-tuning's base
(``input.base``: its weights or, with bsp.init scratch, its architecture): R after every task, summary, trained
network (a state dict), training history."""

import pandas as pd

from workflow.io import torch_save, write_csv
from workflow.methods.bsp.network import build_network, context_layers
from workflow.methods.common import load_suite, write_continual_results
from workflow.methods.sidetune.artifacts import load_base
from workflow.methods.sidetune.lifelong import run_sequence
from workflow.stage import Progress, log, run


def main(job):  # the run context has set compute.threads, the seed and job.device
    params = job.params.method
    tasks = load_suite(job.input.data.parent, job.params.suite)
    bsp = params["bsp"]
    backbone, state = load_base(job.input.base)
    net = build_network(backbone, state, init=bsp["init"], context_seed=bsp["context_seed"],
                        num_classes=[t.num_classes for t in tasks], head_groups=params["head_groups"],
                        image_shape=tasks[0].train.x.shape[1:])
    net, r, info = run_sequence("bsp", tasks, backbone=None, side_init=None, params=params, seed=job.seed,
                                device=job.device, resume_path=job.resume_file(), progress_file=Progress.stream,
                                network=net)
    extra = {"method": "bsp", "seed": job.seed, "init": bsp["init"], "context_seed": bsp["context_seed"],
             "base_sha256": state["sha256"], "context_layers": len(context_layers(net.trunk)),
             "trainable_parameters": sum(p.numel() for p in net.parameters())}
    torch_save(job.output.model, {"state_dict": net.cpu().state_dict(), "method": "bsp", "params": dict(params)})
    write_csv(job.output.history, pd.DataFrame(info["history"]))
    log.info("bsp seconds per task: %s", [round(s, 2) for s in info["seconds_per_task"]])
    summary = write_continual_results(job.output.summary.parent, r, extra_summary=extra, params=params,
                                      device=job.device)
    log.info("bsp: average accuracy %.4f, forgetting %.4f", summary["average_accuracy"], summary["forgetting"])


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
