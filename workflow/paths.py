"""Paths every method's rules share, as pure functions of the config (no Snakemake, no torch): where a dataset's
manifest is, which dataset a suite reads. Each method's own input functions live in its package
(``workflow/methods/<name>/paths.py``) and are unit-tested without Snakemake (tests/test_paths.py)."""

from __future__ import annotations


def data_manifest(config: dict, dataset: str) -> str:
    """The manifest the `download` rule writes for ``dataset``."""
    return f"{config['data']['root']}/{dataset}/manifest.json"


def suite_manifest(config: dict, suite: str) -> str:
    """The manifest of the dataset suite ``suite`` (a key of `suites`) draws its tasks from."""
    return data_manifest(config, config["suites"][suite]["dataset"])


def num_tasks(config: dict, suite: str) -> int:
    return config["suites"][suite]["tasks"]


# A paper-config run's own claims table (results/claims.csv of `snakemake --configfile config/paper.yaml`, on a GPU
# cluster), committed here: every claims table fills its `paper_config_run` column from it (workflow.claims).
PAPER_CLAIMS = "report/paper/claims.csv"
