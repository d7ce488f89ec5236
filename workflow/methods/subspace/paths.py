"""The subspace experiments' files and suite, as pure functions of the config (no Snakemake, no torch)."""

from __future__ import annotations


def suite(config: dict) -> dict:
    """The one-task suite (all `num_classes` classes, a validation split) the subspace experiments run on."""
    s = config["subspace"]
    return {"dataset": s["dataset"], "grouping": "classes", "tasks": 1, "classes_per_task": s["num_classes"],
            "class_order_seed": None, "val_fraction": s["val_fraction"], "train_per_class": s["train_per_class"]}


def models(config: dict) -> list[str]:
    """The trained models of one seed: standard members, lines / curves, simplexes (and their layerwise variants)."""
    s = config["subspace"]
    members = [f"standard{k}" for k in range(s["standard_members"])]
    simplexes = [f"simplex{n}{suffix}" for n in s["simplex_vertices"]
                 for suffix in ([""] + (["_layerwise"] if s["simplex_layerwise"] else []))]
    return members + list(s["lines"]) + simplexes


def model_files(config: dict, dataset: str, seed) -> list[str]:
    return [f"results/subspace/{dataset}/seed{seed}/models/{model}.pt" for model in models(config)]


def tables(config: dict, dataset: str, name: str) -> list[str]:
    """``name`` (alpha_curve.csv, simplex.csv) of every subspace seed."""
    return [f"results/subspace/{dataset}/seed{seed}/{name}" for seed in config["subspace"]["seeds"]]
