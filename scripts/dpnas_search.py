"""Rule `dpnas_search`: Q-learning search over random-weight encoders; writes replay_buffer.csv and q_values.csv.

The CSVs are also written after every architecture into the non-declared folder <out>/.search/, from which a
rerun after an interruption continues; it is removed once the declared outputs are written.
"""

import json
import shutil
from pathlib import Path

from workflow.cli import log, parser, run
from workflow.io import write_csv
from workflow.methods.dpnas.scoring import ScoreConfig
from workflow.methods.dpnas.search import SearchConfig, run_search
from workflow.methods.dpnas.task import load_task, search_space


def main(args):
    task = load_task(args.data, args.params)
    space = search_space(args.params, task)
    state = args.out / ".search"
    buffer, table = run_search(task, space, SearchConfig.from_dict(args.params["search"]),
                               ScoreConfig.from_dict(args.params["classifier"]), args.seed, state,
                               device=args.device)
    write_csv(args.out / "replay_buffer.csv", buffer)
    write_csv(args.out / "q_values.csv", table.to_frame())
    shutil.rmtree(state, ignore_errors=True)
    log.info("%d nets sampled, best reward %.4f", len(buffer), buffer["reward"].max())


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--data", type=Path, required=True, help="dataset folder (arrays.npz + manifest.json)")
    p.add_argument("--compute", type=json.loads, default={"device": "cpu", "threads": 1})
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
