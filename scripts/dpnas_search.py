"""Rule `dpnas_search`: Q-learning search over random-weight encoders; writes replay_buffer.csv and q_values.csv.

Input `data`: the dataset's manifest (its folder holds arrays.npz + manifest.json). The CSVs are also written after
every architecture into the non-declared folder .search/ beside the outputs, from which a rerun after an
interruption continues; it is removed once the declared outputs are written.
"""

from workflow.io import write_csv
from workflow.methods.dpnas.scoring import ScoreConfig
from workflow.methods.dpnas.search import SearchConfig, run_search
from workflow.methods.dpnas.task import load_task, search_space
from workflow.stage import log, run


def main(job):
    params = job.params.method
    task = load_task(job.input.data.parent, params)
    space = search_space(params, task)
    state = job.resume_file(".search")  # a folder of finished architectures
    buffer, table = run_search(task, space, SearchConfig.from_dict(params["search"]),
                               ScoreConfig.from_dict(params["classifier"]), job.seed, state, device=job.device)
    write_csv(job.output.buffer, buffer)
    write_csv(job.output.qvalues, table.to_frame())
    log.info("%d nets sampled, best reward %.4f", len(buffer), buffer["reward"].max())


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
