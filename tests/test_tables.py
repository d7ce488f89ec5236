"""The README's markdown tables from a run's metrics and claims files."""

import json

from workflow.claims import evaluate_claims
from workflow.io import write_csv
from workflow.tables import claims_table, method_table


def test_method_and_claims_tables(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/cpg.json").write_text(json.dumps({
        "method": "cpg", "runs": 3, "mean": {"average_accuracy": 0.9, "forgetting": 0.0},
        "std": {"average_accuracy": 0.01, "forgetting": 0.0}}))
    paths = []
    for seed, (cpg, base) in enumerate([(0.90, 0.905), (0.91, 0.90), (0.89, 0.90)]):
        for method, acc in (("cpg", cpg), ("baseline", base)):
            path = tmp_path / f"results/{method}/suite/seed{seed}/summary.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"average_accuracy": acc, "forgetting": 0.0}))
            paths.append(path.relative_to(tmp_path))
    write_csv(tmp_path / "results/claims.csv", evaluate_claims(paths, ["cpg", "baseline"]))

    methods = method_table(tmp_path).splitlines()
    assert methods[2] == "| cpg | 3 | 0.9000 ± 0.0100 | 0.0000 |  |"
    claims = claims_table(tmp_path)
    assert "**holds**" in claims and "within 1 point" in claims and claims.count("\n") >= 3
