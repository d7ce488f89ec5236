"""Markdown tables of a finished run, for a README or a lab notebook: per method the average accuracy and the
forgetting (mean +- sample std over seeds, from ``metrics/<method>.json``), and the claims with their verdicts
(``results/claims.csv``). Reads tables only (no torch).

    python -m workflow.tables [--root DIR]      # DIR: the workflow folder that ran (default: .)
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pandas as pd

# Methods whose summary has no average accuracy over a task sequence: the number that stands for them instead.
HEADLINE = {"prior": None, "subspace": "standard_accuracy", "dpnas": "mean_reward_lowest_eps"}


def _pm(mean: dict, std: dict, key: str, digits: int = 4) -> str:
    if key not in mean:
        return "-"
    s = std.get(key, 0.0)
    return f"{mean[key]:.{digits}f} ± {s:.{digits}f}" if s and not math.isnan(s) else f"{mean[key]:.{digits}f}"


def method_table(root: Path) -> str:
    rows = ["| method | seeds | average accuracy (mean ± std) | forgetting (mean ± std) | other |",
            "| --- | --- | --- | --- | --- |"]
    for path in sorted((root / "metrics").glob("*.json")):
        record = json.loads(path.read_text())
        mean, std, method = record["mean"], record["std"], record["method"]
        other = ""
        if method in HEADLINE:
            key = HEADLINE[method]
            other = f"{key} {_pm(mean, std, key)}" if key and key in mean else "see the claims"
        rows.append(f"| {method} | {record['runs']} | {_pm(mean, std, 'average_accuracy')} | "
                    f"{_pm(mean, std, 'forgetting')} | {other} |")
    return "\n".join(rows)


def claims_table(root: Path) -> str:
    claims = pd.read_csv(root / "results" / "claims.csv", keep_default_na=False)
    rows = ["| method | claim | seeds | a (mean ± std) | b (mean ± std) | a - b (mean ± SE) | per seed | verdict |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]

    def num(x, fmt="{:.4f}"):
        return fmt.format(float(x)) if x not in ("", None) and not pd.isna(x) else "-"

    for _, c in claims.iterrows():
        a = f"{c['quantity_a']} {num(c['a_mean'])} ± {num(c['a_std'])}"
        b = f"{c['quantity_b']} {num(c['b_mean'])} ± {num(c['b_std'])}"
        d = f"{num(c['diff_mean'], '{:+.4f}')} ± {num(c['diff_se'])}"
        rows.append(f"| {c['method']} | {c['claim']} | {c['seeds']} | {a} | {b} | {d} | {c['per_seed_verdicts']} "
                    f"| **{c['verdict']}** |")
    return "\n".join(rows)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", type=Path, default=Path("."))
    args = p.parse_args(argv)
    print(method_table(args.root))
    print()
    print(claims_table(args.root))


if __name__ == "__main__":
    main()
