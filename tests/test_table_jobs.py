"""Table-only jobs import no torch: every collect / summary / claims script runs its ``main`` in a fresh interpreter
on small hand-made inputs and must finish without ``torch`` in ``sys.modules`` (importing it costs 6-7 s of CPU
per job); the figure scripts are imported (their modules, not a rendering) and checked the same way."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import REPO, run_script_job

IMPORT = """import runpy, sys
for script in {scripts!r}:
    runpy.run_path(script, run_name="table_jobs_import_check")  # top-level imports only; main is not run
    print("TORCH_LOADED", script, "torch" in sys.modules)
"""

FIGURE_SCRIPTS = sorted({*REPO.glob("scripts/*plot*.py"), REPO / "scripts/prior_figure.py"})


def python(code: str, cwd) -> str:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "PYTHONHASHSEED": "0"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, f"exit {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


def run_script(name: str, *, cwd, **job) -> None:
    """Run scripts/<name>.py's main on the job its rule would describe (tests.conftest.run_script_job) in a fresh
    interpreter; fail if torch got imported."""
    out = run_script_job(name, cwd=cwd, **job)
    assert "TORCH_LOADED False" in out.splitlines(), f"{name} imported torch:\n{out[-2000:]}"


def write(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(obj, pd.DataFrame):
        obj.to_csv(path, index=False)
    else:
        path.write_text(json.dumps(obj))
    return path


# -- hand-made inputs, in the formats the training stages write ------------------------------------------------

def baseline_results(root):
    """baseline_train's per-task results.json."""
    return [write(root / f"task{t}/results.json",
                  {"task": t, "name": f"task{t}", "classes": [2 * t, 2 * t + 1], "seed": 0,
                   "val": {"accuracy": 0.9 - 0.1 * t}, "test": {"accuracy": 0.85 - 0.1 * t}, "epochs_run": 3})
            for t in range(2)]


def cpg_evals(root):
    """cpg_retrain's eval.json of every task (capacity was computed there, where the network was loaded)."""
    def capacity(t, owned, free):
        return {"task": t, "multiplier": 1.0, "total_weights": 100, "owned": owned, "picked": 0, "free": free,
                "used_by_all": 100 - free, "owned_fraction": owned / 100, "used_fraction": (100 - free) / 100}
    return [write(root / "task0/eval.json", {"after_task": 0, "accuracy": [{"task": 0, "accuracy": 0.8}],
                                             "retrain": {}, "sparsity": 0.5, "capacity": capacity(0, 50, 50)}),
            write(root / "task1/eval.json", {"after_task": 1, "retrain": {}, "sparsity": 0.4,
                                             "accuracy": [{"task": 0, "accuracy": 0.8}, {"task": 1, "accuracy": 0.7}],
                                             "capacity": capacity(1, 30, 20)})]


def dpnas_inputs(root):
    buffer = pd.DataFrame([{"epsilon": eps, "net": f"net{k}", "train_flag": True, "reward": reward,
                            "acc_best_val": reward, "acc_val_all_epochs": "[]", "acc_train_all_epochs": "[]",
                            "acc_test_last": reward}
                           for k, (eps, reward) in enumerate([(1.0, 0.3), (1.0, 0.0), (1.0, 0.5), (0.5, 0.6),
                                                              (0.5, 0.8)])])
    tables = [write(root / f"{kind}.csv", pd.DataFrame(
        [{"seed": 0, "accuracy": acc, "net": f"net{k}", "group": group, "kind": kind}  # columns out of order
         for k, (group, acc) in enumerate([("low", 30.0), ("top", 80.0)])]))
        for kind in ("random", "full")]
    return write(root / "replay_buffer.csv", buffer), tables


def prior_runs(root):
    """prior_transfer's runs.csv of two N: MAP over a lambda grid (one selected per arm), SGLD at that lambda."""
    paths = []
    for n in (5, 10):
        rows = [{"arm": "sgd", "inference": "map", "n_per_class": n, "prior_scale": None, "val_accuracy": 0.5,
                 "val_nll": 1.0, "accuracy": 0.5, "nll": 1.0, "ece": 0.1, "selected": True}]
        for arm, acc in (("isotropic", 0.55), ("learned", 0.6)):
            rows += [{"arm": arm, "inference": "map", "n_per_class": n, "prior_scale": s, "val_accuracy": acc - d,
                      "val_nll": 0.9, "accuracy": acc - d, "nll": 0.9, "ece": 0.05, "selected": d == 0}
                     for s, d in ((1.0, 0.0), (100.0, 0.1))]
            rows.append({"arm": arm, "inference": "sgld", "n_per_class": n, "prior_scale": 1.0,
                         "val_accuracy": acc + 0.01, "val_nll": 0.8, "accuracy": acc + 0.01, "nll": 0.8,
                         "ece": 0.04, "selected": True})
        paths.append(write(root / f"n{n}/runs.csv", pd.DataFrame(rows)))
    return paths


# -- the jobs ---------------------------------------------------------------------------------------------------

def test_baseline_collect(tmp_path):
    out = tmp_path / "out"
    run_script("baseline_collect", input={"results": baseline_results(tmp_path)},
               output={"accuracy": out / "accuracy.csv", "summary": out / "summary.json",
                       "goals": out / "baseline_acc.json"}, params={"method": {}}, cwd=tmp_path)
    goals = json.loads((tmp_path / "out/baseline_acc.json").read_text())
    assert [g["test_accuracy"] for g in goals["tasks"]] == [0.85, 0.75]
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    assert summary["method"] == "baseline" and summary["average_accuracy"] == pytest.approx(0.8)
    assert summary["provenance"]["torch_version"]  # read from torch/version.py, not by importing torch


def test_cpg_collect(tmp_path):
    goals = write(tmp_path / "baseline_acc.json",
                  {"goal_metric": "val_accuracy", "tasks": [{"task": t, "name": f"task{t}", "val_accuracy": 0.9,
                                                             "test_accuracy": a} for t, a in ((1, 0.75), (0, 0.85))]})
    out = tmp_path / "out"
    run_script("cpg_collect", input={"evals": list(reversed(cpg_evals(tmp_path))), "goals": goals},
               output={"accuracy": out / "accuracy.csv", "summary": out / "summary.json",
                       "capacity": out / "capacity.csv"},
               params={"method": {}}, wildcards={"method": "cpg", "suite": "suite", "seed": "0"}, cwd=tmp_path)
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    assert summary["average_accuracy"] == pytest.approx(0.75)
    assert summary["transfer_vs_reference"] == pytest.approx(((0.8 - 0.85) + (0.7 - 0.75)) / 2)
    assert summary["free_fraction"] == pytest.approx(0.2) and summary["chosen_sparsity"] == [0.5, 0.4]
    assert pd.read_csv(tmp_path / "out/capacity.csv")["owned"].tolist() == [50, 30]


def test_dpnas_collect(tmp_path):
    buffer, tables = dpnas_inputs(tmp_path)
    out = tmp_path / "out"
    run_script("dpnas_collect", input={"tables": tables, "buffer": buffer},
               output={"table": out / "hypotheses.csv", "summary": out / "summary.json"}, params={"method": {}},
               wildcards={"seed": "0"}, cwd=tmp_path)
    table = pd.read_csv(tmp_path / "out/hypotheses.csv")
    assert list(table.columns) == ["net", "group", "kind", "seed", "accuracy"] and len(table) == 4
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    assert summary["mean_reward_by_epsilon"] == {"1": pytest.approx(0.4), "0.5": pytest.approx(0.7)}
    assert summary["best_net"] == "net4" and summary["accuracy"]["top.full"]["mean"] == 80.0


def test_dpnas_select(tmp_path):
    """The search's replay buffer in, chosen.csv out: 1 lowest, middle and top distinct rewarded net each."""
    buffer, _ = dpnas_inputs(tmp_path)  # rewards net0..net4: 0.3, 0.0, 0.5, 0.6, 0.8; middle of 4 from ceil(4/2)
    run_script("dpnas_select", input={"buffer": buffer}, output={"chosen": tmp_path / "out/chosen.csv"},
               params={"method": {"hypotheses": {"per_group": 1}}}, stage_params=("method",),
               wildcards={"seed": "2"}, cwd=tmp_path)
    chosen = pd.read_csv(tmp_path / "out/chosen.csv")
    assert chosen[["group", "net", "row"]].values.tolist() == [["low", "net0", 0], ["middle", "net3", 3],
                                                               ["top", "net4", 4]]
    assert chosen["prior_seed"].tolist() == [2 * 1_000_003 + r for r in (0, 3, 4)]  # the search's weight seeds


def test_dpnas_package_imports_lazily(tmp_path):
    """Importing the package or a torch-free submodule imports no torch; a torch submodule still loads on use."""
    out = python("import sys\nimport workflow.methods.dpnas as d\nfrom workflow.methods.dpnas import selection, tables\n"
                 "print('TORCH_LOADED', 'torch' in sys.modules)\nd.hypotheses.select\n"
                 "print('TORCH_AFTER', 'torch' in sys.modules, d.hypotheses.select is selection.select)", tmp_path)
    assert "TORCH_LOADED False" in out.splitlines(), out
    assert "TORCH_AFTER True True" in out.splitlines(), out


def test_prior_collect(tmp_path):
    out = tmp_path / "out"
    run_script("prior_collect", input={"runs": prior_runs(tmp_path)},
               output={"table": out / "transfer.csv", "summary": out / "summary.json"}, params={"method": {}},
               wildcards={"suite": "suite", "seed": "0"}, cwd=tmp_path)
    table = pd.read_csv(tmp_path / "out/transfer.csv")
    assert list(table.columns) == ["arm", "inference", "n_per_class", "accuracy", "nll", "ece"]
    assert table[["inference", "arm", "n_per_class"]].values.tolist() == [
        ["map", "sgd", 5], ["map", "sgd", 10], ["map", "isotropic", 5], ["map", "isotropic", 10],
        ["map", "learned", 5], ["map", "learned", 10], ["sgld", "isotropic", 5], ["sgld", "isotropic", 10],
        ["sgld", "learned", 5], ["sgld", "learned", 10]]
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    assert summary["gap_learned_minus_isotropic"]["map"]["5"] == pytest.approx(0.05)


def test_collect_metrics(tmp_path):
    summaries = [write(tmp_path / f"seed{s}/summary.json", {"average_accuracy": 0.5 + 0.1 * s, "forgetting": 0.0})
                 for s in range(2)]
    run_script("collect_metrics", input={"summaries": summaries}, output={"metrics": tmp_path / "metrics/baseline.json"},
               wildcards={"method": "baseline"}, cwd=tmp_path)
    metrics = json.loads((tmp_path / "metrics/baseline.json").read_text())
    assert metrics["method"] == "baseline" and metrics["mean"]["average_accuracy"] == pytest.approx(0.55)


def test_claims(tmp_path):
    from tests.test_claims import sidetune_vs_features

    paths = sidetune_vs_features(tmp_path, [0.01, 0.02, 0.03])
    run_script("claims", input={"results": paths, "paper": []}, output={"claims": tmp_path / "results/claims.csv"},
               params={"methods": ["sidetune", "features"]}, cwd=tmp_path)
    assert "holds" in pd.read_csv(tmp_path / "results/claims.csv")["verdict"].tolist()


def test_figure_scripts_import_no_torch(tmp_path):
    assert len(FIGURE_SCRIPTS) >= 6
    out = python(IMPORT.format(scripts=[str(p) for p in FIGURE_SCRIPTS]), tmp_path)
    loaded = [line.split()[1] for line in out.splitlines() if line.startswith("TORCH_LOADED") and line.endswith("True")]
    assert len([line for line in out.splitlines() if line.startswith("TORCH_LOADED")]) == len(FIGURE_SCRIPTS)
    assert not loaded, f"torch imported by (the first of) {loaded}"
