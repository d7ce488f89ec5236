"""Rule `dpnas_select`: the 6 lowest, 6 middle and 6 top rewarded distinct nets of a search (chosen.csv)."""

from pathlib import Path

from workflow.cli import log, parser, run
from workflow.io import write_csv
from workflow.methods.dpnas.selection import select  # torch-free, like tables: this job never imports torch
from workflow.methods.dpnas.tables import read_buffer


def main(args):
    chosen = select(read_buffer(args.buffer), args.params["hypotheses"]["per_group"], args.seed)
    write_csv(args.out, chosen)
    log.info("chosen:\n%s", chosen.to_string(index=False))


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--buffer", type=Path, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
