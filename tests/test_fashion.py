"""config/fashion.yaml plans every method on Fashion-MNIST and nothing on the digits (no silent fallback)."""

from __future__ import annotations

import re

from tests.conftest import REPO, snakemake
from workflow.config import merged_config


def test_fashion_plan_holds_only_fashion_suites_and_datasets(workdir):
    config = merged_config(["--configfile", "config/fashion.yaml"], root=REPO)  # as Snakemake merges them
    fashion_suites = {name for name, spec in config["suites"].items() if spec["dataset"] == "fashion_mnist"}
    allowed = fashion_suites | {"fashion_mnist"}
    plan = snakemake(workdir, "-n", "--cores", "2", "--configfile", "config/fashion.yaml").stdout

    results = set(re.findall(r"results/[^\s,;]+", plan))
    per_method = {p for p in results if p.split("/")[1] not in ("figures", "claims.csv")}
    figures = {p for p in results if p.split("/")[1] == "figures"}
    planned_methods = {p.split("/")[1] for p in per_method}
    # every method of the config is planned ...
    assert planned_methods == set(config["methods"])
    # ... and each of its result folders is a Fashion-MNIST suite or the dataset itself
    wrong = sorted(p for p in per_method if p.split("/")[2] not in allowed)
    assert not wrong, f"results outside Fashion-MNIST: {wrong[:5]}"
    # figures are named after their suite or dataset
    assert figures and all(any(f.split("/")[3].startswith(s) for s in allowed) for f in figures), sorted(figures)
    # the only dataset fetched is Fashion-MNIST, and nothing in the plan mentions the digits
    assert set(re.findall(r"resources/data/(\w+)/", plan)) == {"fashion_mnist"}
    assert "digits" not in plan
    # the prior's source and target share classes but no image; side-tuning's base pool is class-disjoint
    prior, side = config["prior"], config["sidetune"]
    shares = [config["suites"][prior[k]]["image_share"]["part"] for k in ("source_suite", "target_suite")]
    assert shares[0] != shares[1]
    pool = set(sum(config["suites"][side["source_suite"]]["class_groups"], []))
    tasks = set(sum(config["suites"][side["suite"]]["class_groups"], []))
    assert pool and tasks and not pool & tasks
    # CPG's goals come from a baseline with CPG's own base network
    assert (config["baseline"]["model"], config["baseline"]["width"]) == (config["cpg"]["model"],
                                                                          config["cpg"]["width"])
