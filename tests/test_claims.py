"""The paper-claims table: each check on small hand-made result tables, and missing results never pass."""

import json

import pandas as pd
import pytest

from workflow.claims import evaluate_claims


def write_summary(root, method, seed, **values):
    path = root / f"results/{method}/suite/seed{seed}/summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values))
    return path.relative_to(root)


def write_transfer(root, seed, accuracy):
    """accuracy: {(arm, n): value}, MAP rows; SGLD rows with the opposite sign must not count."""
    rows = [{"arm": a, "inference": inf, "n_per_class": n, "accuracy": v if inf == "map" else 1 - v,
             "nll": 0.1, "ece": 0.01} for (a, n), v in accuracy.items() for inf in ("map", "sgld")]
    path = root / f"results/prior/suite/seed{seed}/transfer.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    return [path.relative_to(root), write_summary(root, "prior", seed)]


@pytest.mark.parametrize("gaps, passed", [
    ((0.03, 0.01), True),    # ahead at the smallest N, the gap narrowing
    ((0.0, 0.0), True),      # at least as accurate
    ((-0.01, 0.0), False),   # behind at the smallest N
    ((0.01, 0.03), False),   # ahead, but the gap widens with N
])
def test_prior_claim(tmp_path, monkeypatch, gaps, passed):
    monkeypatch.chdir(tmp_path)
    paths = []
    for seed in (0, 1):
        paths += write_transfer(tmp_path, seed, {("isotropic", 5): 0.9, ("learned", 5): 0.9 + gaps[0],
                                                 ("isotropic", 50): 0.95, ("learned", 50): 0.95 + gaps[1]})
    row = evaluate_claims(paths, ["prior"]).iloc[0]
    assert row["passed"] == passed and "N=5" in row["measured"] and "N=50" in row["measured"]


def test_cpg_claims_and_missing_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = [write_summary(tmp_path, "cpg", s, average_accuracy=0.90, forgetting=0.0) for s in (0, 1)]
    paths += [write_summary(tmp_path, "baseline", s, average_accuracy=0.905) for s in (0, 1)]
    paths += [write_summary(tmp_path, "packnet", s, average_accuracy=a, forgetting=0.0)
              for s, a in ((0, 0.88), (1, 0.93))]  # mean 0.905: above CPG
    table = evaluate_claims(paths, ["cpg", "baseline", "packnet", "prior"]).set_index("claim")
    assert table.filter(like="does not forget", axis=0)["passed"].all()
    assert table.filter(like="within 1 point", axis=0)["passed"].all()
    assert not table.filter(like="PackNet", axis=0)["passed"].any()
    prior = table[table["method"] == "prior"].iloc[0]
    assert prior["measured"] == "no results" and not prior["passed"]
