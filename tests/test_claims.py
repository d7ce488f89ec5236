"""The paper-claims table: paired per-seed comparisons on small hand-made result tables, each verdict of the rule
(holds, fails, indistinguishable, too few seeds, no results), pairing by seed, and the statistics columns."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from workflow.claims import COLUMNS, MIN_SEEDS, NO_PAPER_RUN, Z, evaluate_claims, verdict


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


def sidetune_vs_features(root, margins, features=0.80, seeds=None):
    """side-tuning ahead of features by the given margin in each seed (seeds 0.. unless given)."""
    seeds = seeds if seeds is not None else range(len(margins))
    paths = [write_summary(root, "sidetune", s, average_accuracy=features + m, forgetting=0.0)
             for s, m in zip(seeds, margins)]
    paths += [write_summary(root, "features", s, average_accuracy=features) for s in seeds]
    return paths


def row(table, like):
    rows = table[table["claim"].str.contains(like, regex=False)]
    assert len(rows) == 1, (like, table["claim"].tolist())
    return rows.iloc[0]


def test_thresholds():
    assert MIN_SEEDS == 3 and Z == 2.0


@pytest.mark.parametrize("margins, strict, exact, expected", [
    ([0.01, 0.0, 0.02], False, False, "holds"),                       # every seed, 0 counts for >=
    ([0.01, 0.0, 0.02], True, False, "indistinguishable"),            # strict: 0 fails, mean 0.01 < 2 SE 0.0115
    ([0.05, 0.04, 0.06, 0.05, -0.001], False, False, "holds"),        # mean 0.0398 > 2 SE 0.0214
    ([0.01, -0.01, 0.005], False, False, "indistinguishable"),
    ([-0.05, -0.04, -0.06, -0.05, 0.001], False, False, "fails"),     # mean -0.0398 < -2 SE
    ([-0.01, -0.3, -0.02], False, False, "fails"),                    # every seed fails, though within 2 SE
    ([0.03, 0.03, 0.03], False, False, "holds"),                      # zero spread, all met
    ([-0.03, -0.03, -0.03], False, False, "fails"),                   # zero spread, none met
    ([0.0, 0.0, 0.0], True, False, "fails"),                          # zero spread, strict: none met
    ([0.5, 0.5], False, False, "too few seeds"),                      # never holds on 2 seeds
    ([-0.5], False, False, "too few seeds"),
    ([], False, False, "too few seeds"),
    ([0.0, 0.0, 0.0, -0.001], False, True, "fails"),                  # exact: one failing seed refutes
    ([0.0, 0.0, 0.0, -0.001], False, False, "indistinguishable"),     # the same margins, not exact
])
def test_verdict_rule(margins, strict, exact, expected):
    assert verdict(margins, strict=strict, exact=exact) == expected


def test_holds_in_every_seed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = row(evaluate_claims(sidetune_vs_features(tmp_path, [0.01, 0.02, 0.0]), ["sidetune", "features"]),
            "at least as accurate as features")
    assert r["verdict"] == "holds" and r["seeds"] == 3
    assert r["per_seed_verdicts"] == "0:holds;1:holds;2:holds"
    assert r["quantity_a"] == "sidetune average accuracy" and r["quantity_b"] == "features average accuracy"
    assert r["unpaired_seeds"] == "" and r["paper_config_run"] == NO_PAPER_RUN


def test_holds_by_two_standard_errors_though_one_seed_fails(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    margins = [0.05, 0.04, 0.06, 0.05, -0.001]
    r = row(evaluate_claims(sidetune_vs_features(tmp_path, margins), ["sidetune", "features"]),
            "at least as accurate as features")
    assert r["verdict"] == "holds" and r["seeds"] == 5
    assert r["per_seed_verdicts"] == "0:holds;1:holds;2:holds;3:holds;4:fails"
    # the statistics columns, by hand: diff = a - b
    mean = sum(margins) / 5
    std = math.sqrt(sum((m - mean) ** 2 for m in margins) / 4)
    assert r["diff_mean"] == pytest.approx(0.0398, abs=1e-12)
    assert r["diff_std"] == pytest.approx(std, rel=1e-9) and r["diff_std"] == pytest.approx(0.023879, abs=1e-6)
    assert r["diff_se"] == pytest.approx(std / math.sqrt(5), rel=1e-9)
    assert r["diff_mean"] > Z * r["diff_se"] and Z * r["diff_se"] == pytest.approx(0.021358, abs=1e-6)
    assert r["a_mean"] == pytest.approx(0.80 + mean) and r["a_std"] == pytest.approx(std, rel=1e-9)
    assert r["b_mean"] == pytest.approx(0.80) and r["b_std"] == pytest.approx(0.0, abs=1e-15)
    assert "holds in 4 of 5 seeds" in r["measured"]


def test_indistinguishable_and_fails(tmp_path, monkeypatch):
    r = row(_evaluate_in(tmp_path / "a", monkeypatch, [0.01, -0.01, 0.005]), "at least as accurate as features")
    assert r["verdict"] == "indistinguishable" and r["per_seed_verdicts"] == "0:holds;1:fails;2:holds"
    assert r["diff_mean"] == pytest.approx(0.005 / 3)
    assert r["diff_std"] == pytest.approx(float(np.std([0.01, -0.01, 0.005], ddof=1)))
    r = row(_evaluate_in(tmp_path / "b", monkeypatch, [-0.05, -0.04, -0.06, -0.05, 0.001]),
            "at least as accurate as features")
    assert r["verdict"] == "fails" and r["per_seed_verdicts"] == "0:fails;1:fails;2:fails;3:fails;4:holds"
    assert r["diff_mean"] == pytest.approx(-0.0398)


def _evaluate_in(root, monkeypatch, margins):
    root.mkdir()
    monkeypatch.chdir(root)
    return evaluate_claims(sidetune_vs_features(root, margins), ["sidetune", "features"])


def test_two_seeds_are_too_few_whatever_the_numbers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    table = evaluate_claims(sidetune_vs_features(tmp_path, [0.2, 0.3]), ["sidetune", "features"])
    r = row(table, "at least as accurate as features")
    assert r["verdict"] == "too few seeds" and r["seeds"] == 2 and r["per_seed_verdicts"] == "0:holds;1:holds"
    assert r["diff_mean"] == pytest.approx(0.25) and r["diff_std"] == pytest.approx(math.sqrt(0.005))
    assert row(table, "side-tuning does not forget")["verdict"] == "too few seeds"
    one = evaluate_claims([write_summary(tmp_path, "dpnas", 7, mean_reward_lowest_eps=0.9, mean_reward_eps1=0.5)],
                          ["dpnas"]).iloc[0]
    assert one["verdict"] == "too few seeds" and one["seeds"] == 1 and one["per_seed_verdicts"] == "7:holds"
    assert math.isnan(one["diff_std"]) and math.isnan(one["diff_se"]) and math.isnan(one["a_std"])
    assert one["diff_mean"] == pytest.approx(0.4)


def test_pairs_by_seed_and_reports_the_unpaired(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # CPG in seeds 0, 1, 2, 5; baseline in 0, 1, 2, 3: seed 5 and seed 3 are unpaired and must not count
    paths = [write_summary(tmp_path, "cpg", s, average_accuracy=a, forgetting=0.0)
             for s, a in ((0, 0.90), (1, 0.91), (2, 0.88), (5, 0.10))]
    paths += [write_summary(tmp_path, "baseline", s, average_accuracy=a)
              for s, a in ((0, 0.905), (1, 0.905), (2, 0.90), (3, 0.99))]
    table = evaluate_claims(paths, ["cpg", "baseline"])
    r = row(table, "within 1 point")
    assert r["seeds"] == 3 and r["per_seed_verdicts"] == "0:holds;1:holds;2:fails"
    assert r["unpaired_seeds"] == "only cpg average accuracy: seed 5; only baseline average accuracy: seed 3"
    assert "unpaired" in r["measured"]
    assert r["a_mean"] == pytest.approx((0.90 + 0.91 + 0.88) / 3)
    assert r["b_mean"] == pytest.approx((0.905 + 0.905 + 0.90) / 3)
    assert r["diff_mean"] == pytest.approx((-0.005 + 0.005 - 0.02) / 3)
    assert r["tolerance"] == 0.01 and r["test"] == "per seed: a - b + 0.01 >= 0"
    # margins 0.005, 0.015, -0.01: mean 0.0033 within 2 SE
    assert r["verdict"] == "indistinguishable"
    forget = row(table, "CPG does not forget")
    assert forget["seeds"] == 4 and forget["verdict"] == "holds" and forget["unpaired_seeds"] == ""
    assert forget["per_seed_verdicts"] == "0:holds;1:holds;2:holds;5:holds"


def test_cpg_claims_and_missing_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = [write_summary(tmp_path, "cpg", s, average_accuracy=0.90, forgetting=f)
             for s, f in ((0, 0.0), (1, 0.0), (2, 0.0))]
    paths += [write_summary(tmp_path, "baseline", s, average_accuracy=0.905) for s in (0, 1, 2)]
    paths += [write_summary(tmp_path, "packnet", s, average_accuracy=a, forgetting=0.0)
              for s, a in ((0, 0.95), (1, 0.93), (2, 0.96))]  # above CPG in every seed
    table = evaluate_claims(paths, ["cpg", "baseline", "packnet", "prior"])
    assert list(table.columns) == COLUMNS
    forget = row(table, "CPG does not forget")
    assert forget["verdict"] == "holds" and forget["quantity_a"] == "zero" and forget["b_mean"] == 0.0
    assert forget["measured"].startswith("max cpg absolute forgetting 0.0000")
    assert forget["quantity_b"] == "cpg absolute forgetting"
    within = row(table, "within 1 point")
    assert within["verdict"] == "holds" and within["diff_mean"] == pytest.approx(-0.005)
    assert within["measured"] == "0.9000 vs 0.9050, a - b -0.0050 (SE 0.0000), holds in 3 of 3 seeds"
    assert within["diff_std"] == pytest.approx(0.0, abs=1e-12)
    packnet = row(table, "PackNet")
    assert packnet["verdict"] == "fails" and packnet["per_seed_verdicts"] == "0:fails;1:fails;2:fails"
    assert packnet["diff_mean"] == pytest.approx(0.90 - (0.95 + 0.93 + 0.96) / 3)
    prior = table[table["method"] == "prior"]
    assert len(prior) == 2 and (prior["verdict"] == "no results").all()
    assert (prior["measured"] == "no results for prior").all() and (prior["seeds"] == 0).all()
    # claims of methods that are not enabled are left out
    assert set(table["method"]) == {"cpg", "packnet", "prior"}


def test_forgetting_in_one_seed_refutes_no_forgetting(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = [write_summary(tmp_path, "cpg", s, average_accuracy=0.9, forgetting=f)
             for s, f in enumerate((0.0, 0.0, 0.0, 0.0, -0.002))]  # a rise is not "constant" either
    r = row(evaluate_claims(paths, ["cpg"]), "CPG does not forget")
    assert r["verdict"] == "fails" and r["per_seed_verdicts"] == "0:holds;1:holds;2:holds;3:holds;4:fails"
    assert r["b_mean"] == pytest.approx(0.0004) and "max cpg absolute forgetting 0.0020" in r["measured"]


@pytest.mark.parametrize("gaps, small_n, narrows", [
    ((0.03, 0.01), "holds", "holds"),                 # ahead at the smallest N, the gap narrowing
    ((0.0, 0.0), "holds", "holds"),                   # at least as accurate; the gap constant
    ((-0.01, 0.0), "fails", "fails"),                 # behind at the smallest N, the gap widening
    ((0.01, 0.03), "holds", "fails"),                 # ahead, but the gap widens with N
])
def test_prior_claims(tmp_path, monkeypatch, gaps, small_n, narrows):
    monkeypatch.chdir(tmp_path)
    paths = []
    for seed in (0, 1, 2):
        paths += write_transfer(tmp_path, seed, {("isotropic", 5): 0.9, ("learned", 5): 0.9 + gaps[0],
                                                 ("isotropic", 10): 0.92, ("learned", 10): 0.92,
                                                 ("isotropic", 50): 0.95, ("learned", 50): 0.95 + gaps[1]})
    table = evaluate_claims(paths, ["prior"])
    first, second = row(table, "at the smallest N"), row(table, "narrows")
    assert first["verdict"] == small_n and second["verdict"] == narrows
    # MAP rows only: the SGLD rows (1 - accuracy) would put the learned arm's accuracy near 0.1
    assert first["quantity_a"] == "learned prior MAP accuracy at N=5"
    assert first["a_mean"] == pytest.approx(0.9 + gaps[0])
    assert first["b_mean"] == pytest.approx(0.9) and first["diff_mean"] == pytest.approx(gaps[0])
    assert second["quantity_a"] == "learned - isotropic MAP accuracy at N=5"
    assert second["quantity_b"] == "learned - isotropic MAP accuracy at N=50"
    assert second["a_mean"] == pytest.approx(gaps[0]) and second["b_mean"] == pytest.approx(gaps[1])
    assert second["diff_mean"] == pytest.approx(gaps[0] - gaps[1])


def test_prior_pairs_transfer_seeds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = []
    for seed, gap in ((0, 0.05), (1, -0.01), (2, 0.02), (3, 0.03)):
        paths += write_transfer(tmp_path, seed, {("isotropic", 5): 0.8, ("learned", 5): 0.8 + gap,
                                                 ("isotropic", 50): 0.9, ("learned", 50): 0.9})
    r = row(evaluate_claims(paths, ["prior"]), "at the smallest N")
    assert r["per_seed_verdicts"] == "0:holds;1:fails;2:holds;3:holds" and r["seeds"] == 4
    d = [0.05, -0.01, 0.02, 0.03]
    assert r["diff_mean"] == pytest.approx(np.mean(d)) and r["diff_std"] == pytest.approx(np.std(d, ddof=1))
    assert r["diff_se"] == pytest.approx(np.std(d, ddof=1) / 2)
    assert r["verdict"] == "indistinguishable"  # mean 0.0225 vs 2 SE 0.0256


def test_subspace_rows_and_dpnas(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = [write_summary(tmp_path, "subspace", s, standard_accuracy=std,
                           line={"midpoint": mid, "endpoints": ends, "endpoint_ensemble": ens})
             for s, (mid, ends, std, ens) in enumerate([(0.90, [0.88, 0.89], 0.91, 0.895),
                                                        (0.91, [0.90, 0.87], 0.92, 0.905),
                                                        (0.92, [0.89, 0.91], 0.93, 0.915)])]
    paths += [write_summary(tmp_path, "dpnas", s, mean_reward_lowest_eps=0.8, mean_reward_eps1=r)
              for s, r in ((0, 0.5), (1, 0.8), (2, 0.6))]
    table = evaluate_claims(paths, ["subspace", "dpnas"])
    assert table["method"].tolist() == ["subspace"] * 3 + ["dpnas"]
    ends = row(table, "both endpoints")
    assert ends["verdict"] == "holds" and ends["b_mean"] == pytest.approx((0.89 + 0.90 + 0.91) / 3)
    standard = row(table, "standard training")
    assert standard["verdict"] == "fails" and standard["diff_mean"] == pytest.approx(-0.01)
    ensemble = row(table, "ensemble")  # strict: above the best endpoint in every seed
    assert ensemble["verdict"] == "holds" and ensemble["test"] == "per seed: a - b > 0"
    dpnas = row(table, "low-epsilon")  # strict: a tie in seed 1 fails it; mean 0.1667 vs 2 SE 0.1764
    assert dpnas["per_seed_verdicts"] == "0:holds;1:fails;2:holds" and dpnas["verdict"] == "indistinguishable"


def test_script_writes_csv_and_log(tmp_path):
    """scripts/claims.py: the CSV (NaN std of a single seed as an empty field) and the table in the log."""
    from tests.conftest import run_script_job

    paths = sidetune_vs_features(tmp_path, [0.01, 0.02, 0.03])
    paths += [write_summary(tmp_path, "dpnas", 0, mean_reward_lowest_eps=0.9, mean_reward_eps1=0.5)]
    run_script_job("claims", cwd=tmp_path, input={"results": paths, "paper": []},
                   output={"claims": "results/claims.csv"},
                   params={"methods": ["sidetune", "features", "dpnas", "prior"]}, log="logs/claims.log")
    table = pd.read_csv(tmp_path / "results/claims.csv")
    assert list(table.columns) == COLUMNS
    assert table["verdict"].tolist() == ["holds", "holds", "no results", "no results", "too few seeds"]
    dpnas = table[table["method"] == "dpnas"].iloc[0]
    assert dpnas["seeds"] == 1 and math.isnan(dpnas["diff_std"]) and dpnas["diff_mean"] == pytest.approx(0.4)
    raw = (tmp_path / "results/claims.csv").read_text().splitlines()
    assert ",,," in raw[5]  # the dpnas row: std, se of one seed left empty
    log = (tmp_path / "logs/claims.log").read_text()
    assert "indistinguishable" not in log and "holds: 2" in log and "0:holds;1:holds;2:holds" in log


def test_every_claim_has_rows_and_the_report_caption_renders_the_table(tmp_path, monkeypatch):
    """Results for every method: one row per comparison (11), and report/claims.rst renders the CSV the way
    Snakemake renders a caption (Jinja, then docutils) without a docutils error: no cell may read as markup."""
    from docutils.core import publish_parts
    from jinja2 import Environment

    from tests.conftest import REPO
    from workflow.io import write_csv

    monkeypatch.chdir(tmp_path)
    paths = []
    for s in (0, 1, 2):
        paths += [write_summary(tmp_path, m, s, average_accuracy=0.9 + 0.01 * k, forgetting=0.0)
                  for k, m in enumerate(["baseline", "cpg", "packnet", "features", "sidetune"])]
        paths += [write_summary(tmp_path, "subspace", s, standard_accuracy=0.9, line={
            "midpoint": 0.91, "endpoints": [0.89, 0.9], "endpoint_ensemble": 0.905})]
        paths += [write_summary(tmp_path, "dpnas", s, mean_reward_lowest_eps=0.85, mean_reward_eps1=0.6)]
        paths += write_transfer(tmp_path, s, {("isotropic", 5): 0.8, ("learned", 5): 0.82,
                                              ("isotropic", 50): 0.9, ("learned", 50): 0.905})
    methods = ["baseline", "cpg", "packnet", "features", "sidetune", "subspace", "dpnas", "prior"]
    table = evaluate_claims(paths, methods)
    assert len(table) == 11 and table["method"].value_counts().to_dict() == {
        "cpg": 2, "packnet": 1, "sidetune": 2, "prior": 2, "subspace": 3, "dpnas": 1}
    assert table["seeds"].eq(3).all() and table["unpaired_seeds"].eq("").all()
    # baseline 0.90 < cpg 0.91 < packnet 0.92: PackNet above CPG in every seed; every other claim holds
    assert table.loc[table["method"] == "packnet", "verdict"].tolist() == ["fails"]
    assert table.loc[table["method"] != "packnet", "verdict"].eq("holds").all()
    write_csv("results/claims.csv", table)

    class Job:
        output = ["results/claims.csv"]

    caption = Environment().from_string((REPO / "report/claims.rst").read_text()).render(snakemake=Job)
    html = publish_parts(caption, writer="html", settings_overrides={"halt_level": 2, "report_level": 5})["body"]
    assert "system-message" not in html and "problematic" not in html
    assert html.count("<tr>") + html.count("<tr ") == 1 + len(table)
    assert "the alpha / 1-alpha ensemble is above a single endpoint" in html and "0:holds;1:holds;2:holds" in html


# --- the paper-config column ------------------------------------------------------------------------------------

def test_paper_config_column_says_there_is_no_paper_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = [write_summary(tmp_path, "cpg", s, average_accuracy=0.9, forgetting=0.0) for s in range(3)]
    table = evaluate_claims(paths, ["cpg"], paper_claims=tmp_path / "none.csv")
    assert set(table["paper_config_run"]) == {NO_PAPER_RUN}


def test_paper_config_column_is_filled_from_a_paper_runs_claims_table(tmp_path, monkeypatch):
    """The paper run's verdict of the same comparison (method, claim, both quantities) fills the column."""
    (tmp_path / "paper").mkdir()
    monkeypatch.chdir(tmp_path / "paper")
    paper_paths = [write_summary(tmp_path / "paper", "cpg", 0, average_accuracy=0.8, forgetting=0.02)]
    paper_table = evaluate_claims(paper_paths, ["cpg"])
    paper_csv = tmp_path / "paper_claims.csv"
    paper_table.to_csv(paper_csv, index=False)
    monkeypatch.chdir(tmp_path)
    paths = [write_summary(tmp_path, "cpg", s, average_accuracy=0.9, forgetting=0.0) for s in range(3)]
    table = evaluate_claims(paths, ["cpg"], paper_claims=paper_csv)
    row = table[table["claim"].str.startswith("CPG does not forget")].iloc[0]
    assert row["verdict"] == "holds"
    assert row["paper_config_run"].startswith("too few seeds: ") and row["paper_config_run"].endswith("(1 seeds)")
    paper_table.iloc[:0].to_csv(paper_csv, index=False)  # a paper run without this claim
    assert set(evaluate_claims(paths, ["cpg"], paper_claims=paper_csv)["paper_config_run"]) == {
        "not in the paper-config run"}
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a claims table"):
        evaluate_claims(paths, ["cpg"], paper_claims=tmp_path / "bad.csv")
