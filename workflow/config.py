"""Config validation with messages a user can act on (used by rules/common.smk before any job starts)."""

from __future__ import annotations

import difflib
from pathlib import Path

import jsonschema
import yaml


def load_schema(path) -> dict:
    return yaml.safe_load(Path(path).read_text())


_YAML_TYPES = {"integer": int, "number": (int, float), "boolean": bool}


def coerce_command_line_values(config: dict, schema: dict) -> None:
    """Turn strings where the schema wants a number or a boolean into that type, in place.

    Snakemake parses list values of ``--config`` (``seeds=[0,1,2]``) with YAML's BaseLoader, which keeps every
    item a string; a user who typed numbers should not be told to write numbers."""
    validator = jsonschema.Draft202012Validator(schema)
    for err in validator.iter_errors(config):
        wanted = err.validator_value if err.validator == "type" else None
        wanted = [wanted] if isinstance(wanted, str) else (wanted or [])
        if not err.absolute_path or not isinstance(err.instance, str) or not any(t in _YAML_TYPES for t in wanted):
            continue
        try:
            value = yaml.safe_load(err.instance)
        except yaml.YAMLError:
            continue
        if any(isinstance(value, _YAML_TYPES[t]) and not (t != "boolean" and isinstance(value, bool))
               for t in wanted if t in _YAML_TYPES):
            *parents, last = err.absolute_path
            holder = config
            for key in parents:
                holder = holder[key]
            holder[last] = value


def config_errors(config: dict, schema: dict) -> list[str]:
    """Return one readable line per problem: the dotted key, what is wrong, what is allowed."""
    validator = jsonschema.Draft202012Validator(schema)
    lines = []
    for err in sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path]):
        lines.append(_describe(err))
    return sorted(set(lines))


def reference_errors(config: dict) -> list[str]:
    """What the schema cannot check: names that must exist elsewhere in the config.

    Any key ``suite`` or ``<x>_suite`` (top level or in a method's section) must be a key of ``suites``; a sibling
    ``<x>_task`` must index one of that suite's tasks; ``class_groups`` must have ``tasks`` groups."""
    suites = config.get("suites", {})
    errors = []
    for name, spec in suites.items():
        if spec.get("class_groups") and len(spec["class_groups"]) != spec["tasks"]:
            errors.append(f"config key 'suites.{name}.tasks': {spec['tasks']} but class_groups has "
                          f"{len(spec['class_groups'])} groups")

    def scan(node: dict, path: list[str]):
        for key, value in node.items():
            if key == "suites":
                continue
            if isinstance(value, dict):
                scan(value, [*path, key])
            elif (key == "suite" or key.endswith("_suite")) and isinstance(value, str):
                where = _key([*path, key])
                if value not in suites:
                    errors.append(f"config key '{where}': '{value}' is not a key of 'suites' "
                                  f"(defined: {', '.join(suites)}); define it under suites or name another")
                    continue
                task_key = key[: -len("suite")] + "task"
                task = node.get(task_key)
                if isinstance(task, int) and task >= suites[value]["tasks"]:
                    errors.append(f"config key '{_key([*path, task_key])}': {task} but suite '{value}' has "
                                  f"{suites[value]['tasks']} tasks")

    scan(config, [])
    prior = config.get("prior") or {}
    if prior.get("source_suite") in suites and prior.get("target_suite") in suites:
        errors += _shared_image_errors(suites, prior)
    return errors + _schedule_errors(config)


def _schedule_errors(config: dict) -> list[str]:
    """Schedules that would silently stop short: a warm-up as long as the run, a pruning ramp longer than the
    pruning run (the level would be recorded at a sparsity it never reached)."""
    errors = []

    def scan(node, path):
        if not isinstance(node, dict):
            return
        if isinstance(node.get("epochs"), int) and isinstance(node.get("warmup_epochs"), int) \
                and node["epochs"] > 0 and node["warmup_epochs"] >= node["epochs"]:
            errors.append(f"config key '{_key([*path, 'warmup_epochs'])}': {node['warmup_epochs']} warm-up epochs "
                          f"in a run of {node['epochs']}; make it smaller than epochs")
        for key, value in node.items():
            scan(value, [*path, key])

    scan(config, [])
    for method in ("cpg", "packnet"):
        prune = (config.get(method) or {}).get("prune") or {}
        ramp, epochs = prune.get("ramp_epochs"), (prune.get("train") or {}).get("epochs")
        if isinstance(ramp, int) and isinstance(epochs, int) and ramp > epochs:
            errors.append(f"config key '{method}.prune.ramp_epochs': {ramp} but each pruning run trains "
                          f"{epochs} epochs ({method}.prune.train.epochs), so no level would reach its sparsity; "
                          f"make ramp_epochs at most epochs")
    return errors


def disjoint_image_shares(a: dict, b: dict) -> bool:
    """Two suite specs that keep different ``image_share`` parts of one draw (same parts and seed) never share a
    training image, whatever their classes."""
    sa, sb = a.get("image_share"), b.get("image_share")
    return bool(sa and sb and sa["parts"] == sb["parts"] and sa.get("seed", 0) == sb.get("seed", 0)
                and sa["part"] != sb["part"])


def _task_classes(spec: dict, task: int) -> set[int] | None:
    """A task's class ids when the config alone fixes them (explicit class_groups), else None."""
    groups = spec.get("class_groups")
    return set(groups[task]) if groups and 0 <= task < len(groups) else None


def _shared_image_errors(suites: dict, prior: dict) -> list[str]:
    """The prior's source task must never have trained on the target task's training images: the two need
    different datasets, disjoint classes, or disjoint ``image_share`` parts (same parts and seed)."""
    src_name, tgt_name = prior["source_suite"], prior["target_suite"]
    src, tgt = suites[src_name], suites[tgt_name]
    if src["dataset"] != tgt["dataset"] or disjoint_image_shares(src, tgt):
        return []
    if src_name == tgt_name and prior.get("source_task") != prior.get("target_task"):
        return []  # one suite's tasks have disjoint classes
    src_classes = _task_classes(src, prior.get("source_task", 0))
    tgt_classes = _task_classes(tgt, prior.get("target_task", 0))
    if src_name != tgt_name and (src_classes is None or tgt_classes is None):
        return []  # classes drawn from the data: build_suite's own checks apply
    shared = sorted(src_classes & tgt_classes) if src_classes is not None and tgt_classes is not None else "all"
    if not shared:
        return []
    return [f"config keys 'prior.source_suite' ('{src_name}') and 'prior.target_suite' ('{tgt_name}') train on the "
            f"same images (dataset '{src['dataset']}', classes {shared}): the prior would have seen the target's "
            f"training data. Give the two suites disjoint class_groups, or image_share entries with the same parts "
            f"and seed and different parts"]


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _describe(err: jsonschema.ValidationError) -> str:
    where = _key(err.absolute_path)
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = [k for k in err.instance if k not in allowed]
        parts = []
        for k in extra:
            close = difflib.get_close_matches(k, allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            parts.append(f"config key '{_key([*err.absolute_path, k])}' is not known{hint}; "
                         f"allowed keys here: {', '.join(allowed)}")
        return "; ".join(parts)
    if err.validator == "enum":
        close = difflib.get_close_matches(str(err.instance), [str(v) for v in err.validator_value], n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return (f"config key '{where}': {err.instance!r} is not allowed{hint}; "
                f"allowed: {', '.join(map(str, err.validator_value))}")
    if err.validator == "type":
        return f"config key '{where}': {err.instance!r} should be of type {err.validator_value}"
    if err.validator in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        return f"config key '{where}': {err.instance!r} is out of range ({err.validator} {err.validator_value})"
    if err.validator == "required":
        return f"config section '{where}': {err.message}"
    return f"config key '{where}': {err.message}"


def format_errors(errors: list[str], source: str) -> str:
    body = "\n".join(f"  - {e}" for e in errors)
    return (f"Invalid configuration ({source}), nothing was run:\n{body}\n"
            f"Fix these keys in your config file (the schema with every allowed key is config/schema.yaml).")
