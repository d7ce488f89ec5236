"""The prior's files, as pure functions of the config (the rules' inputs; no Snakemake, no torch): the source
(pretrained network, SWAG prior files) once per source suite, transfer runs per target suite, seed and N."""

from __future__ import annotations

from ...paths import suite_manifest

SOURCE = "results/prior/{suite}/source"
FILES = ("model", "mean", "variance", "covmat")  # prior_<part>.pt


def source_dir(config: dict) -> str:
    return SOURCE.format(suite=config["prior"]["source_suite"])


def prior_files(config: dict) -> list[str]:
    return [f"{source_dir(config)}/prior_{part}.pt" for part in FILES]


def data(config: dict, key: str) -> str:
    """The manifest of the dataset of the suite named by ``prior.<key>`` (source_suite or target_suite)."""
    return suite_manifest(config, config["prior"][key])


def transfer_runs(config: dict, suite: str, seed) -> list[str]:
    """runs.csv of every N per class of one seed (the inputs of prior_collect)."""
    return [f"results/prior/{suite}/seed{seed}/n{n}/runs.csv" for n in config["prior"]["transfer"]["n_per_class"]]


def transfer_tables(config: dict, suite: str) -> list[str]:
    """transfer.csv of every transfer seed (the figure's inputs)."""
    return [f"results/prior/{suite}/seed{seed}/transfer.csv" for seed in config["prior"]["seeds"]]
