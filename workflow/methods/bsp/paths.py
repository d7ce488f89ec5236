"""The files of BSP's job and the config it reads, as pure functions of the config (no Snakemake, no torch):
rules/bsp.smk's input functions and targets call them, tests call them directly.

BSP runs on side-tuning's task suite (``sidetune.suite``) with side-tuning's schedule (``sidetune.train``) and
head normalisation (``sidetune.head_groups``), from side-tuning's frozen base (the pretrained weights, or only
its architecture when ``bsp.init`` is ``scratch``)."""

from __future__ import annotations

from ...paths import suite_manifest
from ..sidetune.paths import shared_dir

RESULTS = "results/bsp/{suite}/seed{seed}"


def suite(config: dict) -> str:
    """The task suite BSP runs on: side-tuning's."""
    return config["sidetune"]["suite"]


def results_dir(suite_name: str, seed) -> str:
    return RESULTS.format(suite=suite_name, seed=seed)


def inputs(config: dict, suite_name: str, seed) -> dict[str, str]:
    """What the job reads: the task data's manifest and side-tuning's pretrained base (same suite and seed)."""
    return {"data": suite_manifest(config, suite_name), "base": f"{shared_dir(suite_name, seed)}/base.pt"}


def job_params(config: dict) -> dict:
    """The config the job reads, and nothing more (Snakemake reruns the job when this changes): side-tuning's
    schedule and head groups, and the ``bsp`` section."""
    return {"train": config["sidetune"]["train"], "head_groups": config["sidetune"]["head_groups"],
            "bsp": config["bsp"]}


def targets(config: dict) -> list[str]:
    """BSP's final files: one summary.json per seed."""
    return [f"{results_dir(suite(config), seed)}/summary.json" for seed in config["seeds"]]
