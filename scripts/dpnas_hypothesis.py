"""Rules `dpnas_resample` (hypothesis 2: searched and freshly sampled random weights, linear classifier) and
`dpnas_full_train` (hypothesis 3: the whole net trained): one table of net,group,kind,seed,accuracy rows.
Param `kind`: "resampled" or "full", which of the two.

Finished nets are appended to a non-declared .<out>.partial.csv beside the output, so a rerun after an
interruption skips them.
"""

import pandas as pd

from workflow.errors import UserError
from workflow.io import write_csv
from workflow.methods.dpnas import hypotheses
from workflow.methods.dpnas.scoring import ScoreConfig
from workflow.methods.dpnas.task import load_task
from workflow.stage import Progress, run


def main(job):
    params, out = job.params.method, job.output[0]
    task = load_task(job.input.data.parent, params)
    chosen = pd.read_csv(job.input.chosen)
    cfg, hyp = ScoreConfig.from_dict(params["classifier"]), params["hypotheses"]
    partial = job.resume_file(f".{out.name}.partial.csv")
    if job.params.kind == "resampled":
        table = hypotheses.resample(chosen, task, cfg, job.seed, hyp["resample_seeds"], partial, job.device)
    elif job.params.kind == "full":
        table = hypotheses.full_train(chosen, task, cfg, job.seed, hyp["full_train_epochs"], partial,
                                      progress_file=Progress.stream, device=job.device)
    else:
        raise UserError(f"params.kind is 'resampled' or 'full', not {job.params.kind!r}")
    write_csv(out, table)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
