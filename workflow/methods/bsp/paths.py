"""The files of BSP's job and the config it reads, as pure functions of the config (no Snakemake, no torch):
rules/bsp.smk's input functions and targets call them, tests call them directly.

BSP runs on side-tuning's task suite (``sidetune.suite``) with side-tuning's schedule (``sidetune.train``) and
head normalisation (``sidetune.head_groups``), from side-tuning's frozen base (the pretrained weights, or only
its architecture when ``bsp.init`` is ``scratch``)."""

from __future__ import annotations

from ..sidetune import paths as sidetune_paths

def inputs(config: dict, suite_name: str, seed) -> dict[str, str]:
    """What the job reads, as every lifelong method beside side-tuning: the task data's manifest and side-tuning's
    pretrained base (same suite and seed)."""
    return sidetune_paths.method_inputs(config, "bsp", suite_name, seed)


def job_params(config: dict) -> dict:
    """The config the job reads, and nothing more (Snakemake reruns the job when this changes): side-tuning's
    schedule and head groups, and the ``bsp`` section."""
    return {**{key: config["sidetune"][key] for key in sidetune_paths.method_keys("bsp")}, "bsp": config["bsp"]}


def targets(config: dict) -> list[str]:
    """BSP's final files: one summary.json per seed, in side-tuning's suite."""
    return sidetune_paths.targets(config, "bsp")
