"""Rule `sidetune_cache`: the frozen base's features of every task split, computed once (the base is frozen and
the input transform deterministic, so they are exact for every epoch and every method that keeps the base)."""

from workflow.methods import sidetune
from workflow.methods.common import load_suite
from workflow.methods.sidetune.artifacts import load_base, save_features
from workflow.stage import log, run


def main(job):  # the run context has set compute.threads and job.device; nothing here draws random numbers
    device = job.device
    backbone, state = load_base(job.input.base)
    base = sidetune.FrozenBase(backbone).to(device)
    tasks = load_suite(job.input.data.parent, job.params.suite)
    features = [{name: sidetune.base_features(base, getattr(t, name), device=device)
                 for name in ("train", "val", "test")} for t in tasks]
    save_features(job.output[0], features, state["sha256"])
    log.info("cached base features of %d tasks", len(tasks))


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
