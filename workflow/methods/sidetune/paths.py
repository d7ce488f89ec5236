"""The files of side-tuning's jobs and of the lifelong baselines trained beside it, as pure functions of the config
(no Snakemake, no torch): the rules' input functions call them, tests call them directly."""

from __future__ import annotations

from ...paths import suite_manifest

SHARED = "results/sidetune/{suite}/seed{seed}/shared"  # the frozen base, the distilled side, cached base features


def shared_dir(suite: str, seed) -> str:
    return SHARED.format(suite=suite, seed=seed)


def source_manifest(config: dict) -> str:
    """The base's pretraining pool's dataset."""
    return suite_manifest(config, config["sidetune"]["source_suite"])


def method_inputs(config: dict, method: str, suite: str, seed) -> dict[str, str]:
    """What a lifelong method reads: the task data, the frozen base (all but independent), the distilled side
    (sidetune, pnn), the cached base features (sidetune, features; when sidetune.cache_features)."""
    shared = shared_dir(suite, seed)
    inputs = {"data": suite_manifest(config, suite)}
    if method != "independent":
        inputs["base"] = f"{shared}/base.pt"
    if method in ("sidetune", "pnn"):
        inputs["side"] = f"{shared}/side.pt"
    if method in ("sidetune", "features") and config["sidetune"]["cache_features"]:
        inputs["features"] = f"{shared}/base_features.pt"
    return inputs


def compared_tables(config: dict, lifelong_methods, suite: str) -> list[str]:
    """accuracy.csv of every lifelong method in config `methods`, per seed (method-major order): the figures'
    inputs."""
    methods = [m for m in lifelong_methods if m in config["methods"]] or ["sidetune"]
    return [f"results/{m}/{suite}/seed{seed}/accuracy.csv" for m in methods for seed in config["seeds"]]


def targets(config: dict, method: str) -> list[str]:
    """A lifelong method's final files (side-tuning's also its alphas and figures), every seed."""
    suite = config["sidetune"]["suite"]
    files = [f"results/{method}/{suite}/seed{seed}/summary.json" for seed in config["seeds"]]
    if method == "sidetune":
        files += [f"results/sidetune/{suite}/seed{seed}/alphas.csv" for seed in config["seeds"]]
        files += [f"results/figures/sidetune/{suite}_{name}.png"
                  for name in ("final_accuracy", "accuracy_matrix", "forgetting")]
    return files


def method_keys(method: str) -> tuple[str, ...]:
    """The keys of the `sidetune` section a lifelong method's job reads (its Snakemake params): the schedule; the
    heads' groups and the merge (side-tuning); the base (independent trains the base's architecture from
    scratch); EWC's coefficient."""
    return {"sidetune": ("train", "head_groups", "merge"), "independent": ("train", "base"),
            "ewc": ("train", "head_groups", "ewc")}.get(method, ("train", "head_groups"))
