"""Rule `method_metrics`: one method's summary.json files (one per seed) -> mean / std / per-seed values."""

from pathlib import Path

from workflow.cli import parser, run
from workflow.io import read_json, write_json
from workflow.summary import aggregate_summaries


def main(args):
    summaries = {str(p): read_json(p) for p in args.summaries}
    write_json(args.out, {"method": args.method, **aggregate_summaries(summaries)})


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--method", required=True)
    p.add_argument("--summaries", nargs="+", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
