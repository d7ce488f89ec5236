"""Rules `sidetune_train` / `sidetune_baseline_train`: one lifelong method (``params.lmethod``) on the task suite,
tasks in order; R after every task, summary, trained network (and side-tuning's learned alphas). Optional inputs:
``input.base`` the pretrained base (all but independent), ``input.side`` the distilled side (sidetune, pnn),
``input.features`` the cached base features (sidetune, features)."""

import pandas as pd

from workflow.errors import UserError
from workflow.io import torch_save, write_csv
from workflow.methods import sidetune
from workflow.methods.common import load_suite, write_continual_results
from workflow.methods.sidetune.artifacts import load_base, load_features, load_side
from workflow.stage import Progress, log, run


def main(job):  # the run context has set compute.threads, the seed and job.device
    method, params, device, seed = job.params.lmethod, job.params.method, job.device, job.seed
    if method not in sidetune.SIDETUNE_METHODS:
        raise UserError(f"params.lmethod is one of {', '.join(sidetune.SIDETUNE_METHODS)}, not {method!r}")
    inputs = job.input.names
    tasks = load_suite(job.input.data.parent, job.params.suite)
    extra = {"method": method, "seed": seed}
    if method == "independent":
        r, info = sidetune.run_independent(tasks, params=params, seed=seed, device=device,
                                           progress_file=Progress.stream)
        torch_save(job.output.model, {"results": info["results"]})
        write_csv(job.output.history, pd.DataFrame(
            [{"task": res["task"], "val_accuracy": res["val"]["accuracy"]} for res in info["results"]]))
    else:
        backbone, state = load_base(job.input.base)
        side = load_side(job.input.side) if "side" in inputs else None
        cache = load_features(job.input.features, state["sha256"]) if "features" in inputs else None
        net, r, info = sidetune.run_sequence(method, tasks, backbone=backbone, side_init=side,
                                             params=params, seed=seed, device=device, cache=cache,
                                             resume_path=job.resume_file(), progress_file=Progress.stream)
        base_after = sidetune.state_hash(net.base.net) if hasattr(net, "base") else None
        extra.update(base_sha256=state["sha256"], base_unchanged=(base_after == state["sha256"]) if base_after else None,
                     cached_features=info["cached_features"],
                     trainable_parameters=sum(p.numel() for n, p in net.named_parameters()
                                              if not n.startswith("base.")))
        if "alphas" in info:
            extra["alphas"] = info["alphas"]
        torch_save(job.output.model, {"state_dict": net.cpu().state_dict(), "method": method,
                                      "params": dict(params)})
        write_csv(job.output.history, pd.DataFrame(info["history"]))
    log.info("%s seconds per task: %s", method, [round(s, 2) for s in info["seconds_per_task"]])
    summary = write_continual_results(job.output.summary.parent, r, extra_summary=extra, params=params,
                                      device=device)
    if method == "sidetune":
        write_csv(job.output.alphas, pd.DataFrame({"task": range(len(tasks)), "alpha": info["alphas"]}))
    log.info("%s: average accuracy %.4f, forgetting %.4f", method, summary["average_accuracy"],
             summary["forgetting"])


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
