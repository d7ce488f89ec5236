"""Each method's input functions are pure functions of the config (workflow/methods/<name>/paths.py), tested here
without Snakemake; they import no torch (the Snakefile imports them while it plans); rules/common.smk keeps only
what every method shares."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO
from workflow.config import merged_config
from workflow.methods import baseline_paths
from workflow.methods.cpg import paths as cpg
from workflow.methods.prior import paths as prior
from workflow.methods.registry import METHODS
from workflow.methods.sidetune import paths as sidetune
from workflow.methods.subspace import paths as subspace

PATH_MODULES = ["workflow.paths", "workflow.methods.baseline_paths", "workflow.methods.cpg.paths",
                "workflow.methods.prior.paths", "workflow.methods.sidetune.paths", "workflow.methods.subspace.paths"]


@pytest.fixture(scope="module")
def config():
    return merged_config(["--configfile", "config/test.yaml"], root=REPO)


def test_path_modules_import_no_torch():
    code = "import sys\n" + "".join(f"import {m}\n" for m in PATH_MODULES) + "assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_baseline(config):
    assert baseline_paths.task_results(config, "split_digits_tiny", 3) == [
        f"results/baseline/split_digits_tiny/seed3/task{t}/result.json" for t in range(3)]
    assert baseline_paths.accuracy_tables({**config, "seeds": [0, 2]}, "s") == [
        "results/baseline/s/seed0/accuracy.csv", "results/baseline/s/seed2/accuracy.csv"]


def test_cpg_chain():
    assert cpg.goals("s", 1) == "results/baseline/s/seed1/baseline_acc.json"
    assert cpg.previous_model("cpg", "s", 0, "0") == {}
    assert cpg.previous_model("packnet", "s", 0, "2") == {"previous": "results/packnet/s/seed0/task1/model.pt"}
    assert cpg.finetune_start("cpg", "s", 0, 0, 0) == {}  # task 0 starts from a fresh network
    assert cpg.finetune_start("cpg", "s", 0, 2, 0) == {"start": "results/cpg/s/seed0/task1/model.pt"}
    assert cpg.finetune_start("cpg", "s", 0, 2, "1") == {"start": "results/cpg/s/seed0/task2/attempt1/start.pt"}
    assert cpg.grow_status("cpg", "s", 0, 2, "1") == "results/cpg/s/seed0/task2/attempt0/status.json"


def test_cpg_tables(config):
    two_seeds = {**config, "seeds": [0, 1]}
    assert cpg.task_evals(config, "cpg", "split_digits_tiny", 0)[-1] == "results/cpg/split_digits_tiny/seed0/task2/eval.json"
    assert cpg.compared(two_seeds, "s", "capacity.csv") == [
        "results/cpg/s/seed0/capacity.csv", "results/cpg/s/seed1/capacity.csv",
        "results/packnet/s/seed0/capacity.csv", "results/packnet/s/seed1/capacity.csv"]
    assert cpg.compared({**two_seeds, "methods": ["cpg"]}, "s", "accuracy.csv") == [
        "results/cpg/s/seed0/accuracy.csv", "results/cpg/s/seed1/accuracy.csv"]
    assert cpg.results(config, "packnet") == ["results/packnet/split_digits_tiny/seed0/summary.json",
                                              "results/packnet/split_digits_tiny/seed0/capacity.csv"]


def test_prior(config):
    source = config["prior"]["source_suite"]
    assert prior.source_dir(config) == f"results/prior/{source}/source"
    assert prior.prior_files(config) == [f"results/prior/{source}/source/prior_{p}.pt" for p in prior.FILES]
    assert prior.data(config, "target_suite") == "resources/data/digits/manifest.json"
    ns = config["prior"]["transfer"]["n_per_class"]
    assert prior.transfer_runs(config, "t", 4) == [f"results/prior/t/seed4/n{n}/runs.csv" for n in ns]
    assert prior.transfer_tables(config, "t") == [f"results/prior/t/seed{s}/transfer.csv"
                                                  for s in config["prior"]["seeds"]]


def test_sidetune(config):
    suite = config["sidetune"]["suite"]
    shared = f"results/sidetune/{suite}/seed0/shared"
    assert sidetune.method_inputs(config, "independent", suite, 0) == {"data": "resources/data/digits/manifest.json"}
    assert sidetune.method_inputs(config, "sidetune", suite, 0) == {
        "data": "resources/data/digits/manifest.json", "base": f"{shared}/base.pt", "side": f"{shared}/side.pt",
        "features": f"{shared}/base_features.pt"}
    no_cache = {**config, "sidetune": {**config["sidetune"], "cache_features": False}}
    assert set(sidetune.method_inputs(no_cache, "features", suite, 0)) == {"data", "base"}
    assert set(sidetune.method_inputs(config, "pnn", suite, 0)) == {"data", "base", "side"}
    tables = sidetune.compared_tables({**config, "methods": ["finetune", "sidetune"]}, ("sidetune", "finetune"), suite)
    assert tables == [f"results/sidetune/{suite}/seed0/accuracy.csv", f"results/finetune/{suite}/seed0/accuracy.csv"]
    assert f"results/figures/sidetune/{suite}_forgetting.png" in sidetune.targets(config, "sidetune")
    assert sidetune.targets(config, "ewc") == [f"results/ewc/{suite}/seed0/summary.json"]
    assert sidetune.method_keys("ewc") == ("train", "head_groups", "ewc")
    assert sidetune.method_keys("independent") == ("train", "base") and "merge" in sidetune.method_keys("sidetune")


def test_subspace(config):
    s = config["subspace"]
    suite = subspace.suite(config)
    assert suite["tasks"] == 1 and suite["classes_per_task"] == s["num_classes"] and suite["dataset"] == s["dataset"]
    models = subspace.models(config)
    assert models[: s["standard_members"]] == [f"standard{k}" for k in range(s["standard_members"])]
    assert set(s["lines"]) <= set(models)
    layerwise = {**config, "subspace": {**s, "simplex_vertices": [3], "simplex_layerwise": True}}
    assert subspace.models(layerwise)[-2:] == ["simplex3", "simplex3_layerwise"]
    assert subspace.model_files(config, "digits", 1)[0] == "results/subspace/digits/seed1/models/standard0.pt"
    assert subspace.tables(config, "digits", "simplex.csv") == [f"results/subspace/digits/seed{k}/simplex.csv"
                                                                 for k in s["seeds"]]


def test_common_smk_holds_no_method_logic():
    """No function of rules/common.smk is named after a method or reads a method's config section."""
    text = (REPO / "rules/common.smk").read_text()
    functions = re.findall(r"^def (\w+)", text, re.M)
    sections = {m.section for m in METHODS.values()}
    assert not [f for f in functions if f.split("_")[0] in set(METHODS) | sections], functions
    assert not re.search(r"config\[[\"'](%s)[\"']\]" % "|".join(sections), text)
