"""Rule `prior_transfer`: every arm x inference (lambda chosen on validation) for one seed and one N per class."""

from pathlib import Path

from workflow.cli import Progress, add_run_arguments, log, parser, run
from workflow.io import write_csv
from workflow.methods.common import load_suite
from workflow.methods.prior import transfer


def main(args):
    target = load_suite(args.data, args.suite)[args.params["target_task"]]
    device = args.device
    resume = args.out.with_name(".runs.partial.jsonl")  # not a declared output: finished runs of a killed job
    runs = transfer.run_transfer(args.prior, target, args.params, seed=args.seed, n_per_class=args.n,
                                 device=device, progress_file=Progress.stream, cache_path=resume,
                                 threads=args.compute.get("threads", 1))
    write_csv(args.out, runs)
    resume.unlink(missing_ok=True)
    for r in runs[runs["selected"]].itertuples():
        log.info("%s %s N=%d lambda=%s: test accuracy %.4f nll %.4f", r.arm, r.inference, r.n_per_class,
                 r.prior_scale, r.accuracy, r.nll)


if __name__ == "__main__":
    p = parser(__doc__)
    add_run_arguments(p)
    p.add_argument("--prior", type=Path, required=True, help="prefix of the prior files (<prefix>_mean.pt, ...)")
    p.add_argument("--n", type=int, required=True, help="training examples per class")
    p.add_argument("--out", type=Path, required=True, help="runs.csv")
    run(main, p)
