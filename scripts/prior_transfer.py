"""Rule `prior_transfer`: every arm x inference (lambda chosen on validation) for one seed and one N per class
(the ``n`` wildcard: training examples per class), from the prior files beside ``input.manifest``."""

from workflow.io import write_csv
from workflow.methods.common import load_suite
from workflow.methods.prior import transfer
from workflow.stage import Progress, log, run


def main(job):  # the run context has set compute.threads, the seed and job.device
    params = job.params.method
    target = load_suite(job.input.data.parent, job.params.suite)[params["target_task"]]
    prior = job.input.manifest.parent / "prior"  # prefix of the prior files (<prefix>_mean.pt, ...)
    runs = transfer.run_transfer(prior, target, params, seed=job.seed, n_per_class=int(job.wildcards.n),
                                 device=job.device, progress_file=Progress.stream,
                                 cache_path=job.resume_file(".runs.partial.jsonl"),  # finished runs of a killed job
                                 threads=job.threads)
    write_csv(job.output.runs, runs)
    for r in runs[runs["selected"]].itertuples():
        log.info("%s %s N=%d lambda=%s: test accuracy %.4f nll %.4f", r.arm, r.inference, r.n_per_class,
                 r.prior_scale, r.accuracy, r.nll)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
