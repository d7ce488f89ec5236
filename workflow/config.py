"""Config validation with messages a user can act on (used by rules/common.smk before any job starts)."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import jsonschema
import yaml

from .methods.registry import METHODS, NAMES, SECTIONS

ALL_METHODS = "all"  # `methods: all`: every method of the registry
# libyaml's loader where PyYAML has it: the schema is read at every Snakemake start (0.3 s of 2.3 s in pure Python)
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_schema(path) -> dict:
    """config/schema.yaml, completed from the method registry: the ``methods`` enum is the registry's names, and a
    method whose record names a ``schema`` file gets its section's schema (with its ``default``) from there."""
    path = Path(path)
    schema = yaml.load(path.read_text(), Loader=_FAST_LOADER)
    root = path.resolve().parents[1]
    schema["properties"]["methods"]["items"]["enum"] = list(NAMES)
    for m in METHODS.values():
        if m.schema and m.section not in schema["properties"]:
            schema["properties"][m.section] = yaml.load((root / m.schema).read_text(), Loader=_FAST_LOADER)
    return schema


def _with_defaults(default, given):
    """``given`` laid over ``default``: nested mappings key by key, anything else replaced (Snakemake's merge)."""
    if isinstance(default, dict) and isinstance(given, dict):
        return {**default, **{k: _with_defaults(default.get(k), v) if k in default else v for k, v in given.items()}}
    return given


def normalize_config(config: dict, schema: dict) -> None:
    """In place, before validation: ``methods: all`` becomes the registry's list; a method section that a schema
    file of its own describes starts from that file's ``default`` (the config's values laid over it); strings
    from the command line become the numbers the schema wants."""
    if config.get("methods") == ALL_METHODS:
        config["methods"] = list(NAMES)
    for m in METHODS.values():
        section_schema = _resolve(schema, schema["properties"].get(m.section, {}))
        if m.schema and "default" in section_schema:
            config[m.section] = _with_defaults(json.loads(json.dumps(section_schema["default"])),
                                               config.get(m.section) or {})
        # An optional key of a method section with a schema default is always present: a stage receives only
        # the keys its rule declares (workflow.stage.StageParams), so no stage falls back on a default of its own.
        if isinstance(config.get(m.section), dict):
            for key, prop in section_schema.get("properties", {}).items():
                if "default" in prop and key not in config[m.section]:
                    config[m.section][key] = json.loads(json.dumps(prop["default"]))
    coerce_command_line_values(config, schema)
    sort_mappings(config)


def sort_mappings(node) -> None:
    """In place: the keys of every mapping in ``node``, at any depth, in sorted order (lists keep theirs)."""
    if isinstance(node, dict):
        items = sorted(node.items(), key=lambda item: str(item[0]))
        node.clear()
        node.update(items)
    for child in node.values() if isinstance(node, dict) else node if isinstance(node, list) else ():
        sort_mappings(child)


def _resolve(schema: dict, node: dict) -> dict:
    """``node`` with a local ``$ref`` (``#/properties/cpg``) followed, as PackNet's section refers to CPG's."""
    while isinstance(node, dict) and node.get("$ref", "").startswith("#/"):
        target = schema
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


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
    return errors + _schedule_errors(config) + suite_size_errors(config)


# Class counts of the registered datasets (workflow/data/registry.py), known without loading any data, so that the
# check before any job can compare a suite's size with its dataset. Kept here rather than beside each registration:
# importing workflow.data loads torch, which would add seconds to every Snakefile parse (tests/test_preflight.py
# checks this table against the registry). Generated data (`synthetic`, `synthetic_<tag>`) take theirs from
# data.options.<name>: classes (default 6) and superclasses (default 0).
DATASET_CLASSES = {"digits": 10, "fashion_mnist": 10, "cifar10": 10, "cifar100": 100, "oxford_pets": 37,
                   "flowers102": 102}
DATASET_SUPERCLASSES = {"cifar100": 20}
SYNTHETIC_CLASSES = 6


def dataset_classes(name: str, options: dict | None = None) -> tuple[int, int] | None:
    """(classes, superclasses) of dataset ``name`` from the config alone; None when not known."""
    if not isinstance(name, str):
        return None
    if name == "synthetic" or name.startswith("synthetic_"):
        opts = (options or {}).get(name) or {}
        try:
            return int(opts.get("classes", SYNTHETIC_CLASSES)), int(opts.get("superclasses", 0) or 0)
        except (TypeError, ValueError):
            return None
    if name in DATASET_CLASSES:
        return DATASET_CLASSES[name], DATASET_SUPERCLASSES.get(name, 0)
    return None


def suite_size_errors(config: dict) -> list[str]:
    """Suites that ask for more classes (or superclasses) than their dataset has, explicit ``class_groups`` with
    ids out of range or shared between tasks, an ``image_share`` part beyond its parts, and a subspace
    ``num_classes`` above its dataset's: each would pass the plan and fail in its first job."""
    options = (config.get("data") or {}).get("options") or {}
    errors = []
    for name, spec in (config.get("suites") or {}).items():
        key, dataset = f"suites.{name}", spec.get("dataset")
        share = spec.get("image_share") or {}
        part, parts = share.get("part"), share.get("parts")
        if isinstance(part, int) and isinstance(parts, int) and part >= parts:
            errors.append(f"config key '{key}.image_share.part': {part} but parts is {parts} (parts are numbered "
                          f"0..{parts - 1}); set part below parts")
        size = dataset_classes(dataset, options)
        if size is None:
            continue
        n_classes, n_coarse = size
        tasks = spec.get("tasks")
        if spec.get("grouping", "classes") == "superclasses":
            if not n_coarse:
                errors.append(f"config key '{key}.grouping': 'superclasses' but dataset '{dataset}' has none; use "
                              f"grouping: classes, or a dataset with superclasses (cifar100, or generated data with "
                              f"data.options.{dataset}.superclasses)")
            elif isinstance(tasks, int) and tasks > n_coarse:
                errors.append(f"config key '{key}.tasks': {tasks} tasks but dataset '{dataset}' has {n_coarse} "
                              f"superclasses (one task each); set tasks to at most {n_coarse}")
        elif spec.get("class_groups"):
            flat = [c for group in spec["class_groups"] for c in group]
            outside = sorted({c for c in flat if not 0 <= c < n_classes})
            shared = sorted({c for c in flat if flat.count(c) > 1})
            if outside:
                errors.append(f"config key '{key}.class_groups': class ids {outside} but dataset '{dataset}' has "
                              f"{n_classes} classes; use ids 0..{n_classes - 1}")
            if shared:
                errors.append(f"config key '{key}.class_groups': class ids {shared} are in more than one place; "
                              f"give every task different classes")
        elif spec.get("classes_per_task") is None:
            errors.append(f"config key '{key}.classes_per_task' is missing: grouping 'classes' needs it (or "
                          f"explicit class_groups); add classes_per_task: N")
        elif isinstance(tasks, int) and tasks * spec["classes_per_task"] > n_classes:
            k = spec["classes_per_task"]
            errors.append(f"config key '{key}': {tasks} tasks x {k} classes_per_task = {tasks * k} classes but "
                          f"dataset '{dataset}' has {n_classes}; lower tasks or classes_per_task so that "
                          f"tasks x classes_per_task <= {n_classes}")
    subspace = config.get("subspace") or {}
    size = dataset_classes(subspace.get("dataset"), options)
    if size and isinstance(subspace.get("num_classes"), int) and subspace["num_classes"] > size[0]:
        errors.append(f"config key 'subspace.num_classes': {subspace['num_classes']} but dataset "
                      f"'{subspace['dataset']}' has {size[0]} classes; set num_classes to at most {size[0]}")
    return errors


# --- before any job: the machine, the core count, the config files ---------------------------------------------

SKIP_DEVICE_CHECK = "CL_LAB_SKIP_DEVICE_CHECK"  # =1: do not compare compute.device with this machine


def core_errors(cores: int, threads: int) -> list[str]:
    """``--cores`` that no job, or no training job, fits in: each training job runs compute.threads torch
    threads whatever Snakemake grants it."""
    if cores < 1:
        return [f"--cores {cores}: no job can run on fewer than 1 core; use --cores all, or --cores N with "
                f"N >= {max(threads, 1)} (compute.threads)"]
    if cores < threads:
        return [f"--cores {cores} is below compute.threads ({threads}), the torch threads of every training job: "
                f"use --cores {threads} or more (or --cores all), or set compute.threads to {cores}"]
    return []


def device_errors(device: str, cuda_available: bool, torch_cuda: str | None = "") -> list[str]:
    """compute.device ``cuda`` on a machine where torch finds no CUDA device (``torch_cuda``: torch.version.cuda,
    None for a CPU-only build of torch)."""
    if device != "cuda" or cuda_available:
        return []
    why = "this torch is a CPU-only build" if torch_cuda is None else "torch.cuda.is_available() is False"
    return [f"config key 'compute.device': 'cuda' but torch finds no CUDA device on this machine ({why}): set "
            f"compute.device: auto or cpu (auto takes the GPU where there is one); if the jobs run on other "
            f"machines, use a cluster executor (--profile config/profiles/slurm) or set {SKIP_DEVICE_CHECK}=1"]


def config_file_error(path, flag: str = "--configfile") -> str | None:
    """One line saying what is wrong with a config file (missing, unreadable, empty, not YAML, not a mapping of
    keys), with the line for YAML errors and the fix; None when it loads as Snakemake loads it (JSON, else
    YAML) into a mapping."""
    path = Path(path)
    where = f"config file '{path}' ({flag})"
    if not path.exists():
        folder = path.parent if path.parent.is_dir() else None
        others = sorted(p.name for p in folder.iterdir() if p.suffix in (".yaml", ".yml", ".json")
                        and p.is_file() and not p.name.startswith("schema")) if folder else []
        hint = f" (config files in {folder.as_posix()}/: {', '.join(others)})" if others else ""
        return f"{where} does not exist{hint}: fix the path"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return f"{where} is not UTF-8 text: save it as UTF-8 YAML"
    except OSError as exc:
        return f"{where} cannot be read ({exc.strerror or exc}): give a readable file"
    try:
        data = json.loads(text)
    except ValueError:
        try:
            try:
                data = yaml.load(text, Loader=_FAST_LOADER)
            except yaml.YAMLError:
                data = yaml.safe_load(text)  # the pure-Python parser's error, whose marks the message quotes
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            at = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            context = exc.context or ""
            if context and exc.context_mark and exc.context_mark.line != getattr(exc.problem_mark, "line", None):
                context += f" opened on line {exc.context_mark.line + 1}"
            problem = "; ".join(filter(None, [exc.problem, context]))
            return (f"{where}{at}: YAML syntax error ({problem}): fix the YAML there (indent with spaces, not "
                    f"tabs; close every bracket and quote; 'key: value' needs the space after the colon)")
        except yaml.YAMLError as exc:
            return f"{where}: YAML error ({exc}): fix the YAML"
    if data is None:
        leave = f", or leave out {flag} {path}" if flag.startswith("--") else ""
        return f"{where} is empty (no keys): add the keys it should set, e.g. 'seeds: [0, 1, 2]'{leave}"
    if not isinstance(data, dict):
        return (f"{where} holds a {type(data).__name__} at the top level, not config keys: write one "
                f"'key: value' per line, e.g. 'seeds: [0, 1, 2]'")
    return None


def configfiles_in(argv: list[str]) -> list[str]:
    """The files a Snakemake command line passes with --configfile / --configfiles (each takes one or more
    following arguments up to the next option, as Snakemake's parser reads them)."""
    files, taking = [], False
    for arg in argv:
        if arg == "--":
            break
        if arg.startswith(("--configfile=", "--configfiles=")):
            files.append(arg.split("=", 1)[1])
            taking = False
        elif arg in ("--configfile", "--configfiles"):
            taking = True
        elif taking and not arg.startswith("-"):
            files.append(arg)
        else:
            taking = False
    return files


def merged_config(argv: list[str], root: Path | str = ".", base: str = "config/config.yaml") -> dict:
    """The config Snakemake runs with for a command line ``argv`` (its other options are ignored): ``base`` (the
    Snakefile's configfile), then each --configfile in order, then the --config values, merged as Snakemake
    merges them (snakemake.utils.update_config: nested mappings key by key, anything else replaced), with
    command-line strings turned into the numbers the schema wants. Paths are relative to ``root``."""
    import contextlib
    import io

    from snakemake.cli import parse_args, parse_config
    from snakemake.common.configfile import load_configfile
    from snakemake.utils import update_config

    with contextlib.redirect_stderr(io.StringIO()):
        args = parse_args(list(argv))[1]
    root = Path(root)
    config = dict(load_configfile(root / base))
    for path in args.configfile or []:
        update_config(config, load_configfile(root / path))
    overrides = parse_config(args.config)
    if overrides:
        update_config(config, overrides)
    normalize_config(config, load_schema(root / "config" / "schema.yaml"))
    return json.loads(json.dumps(config))  # plain dicts and lists (JSON configs load as OrderedDict)


def main(argv: list[str] | None = None) -> int:
    """``python -m workflow.config <snakemake arguments>``: check the --configfile files before Snakemake reads
    them (Snakemake loads them before the Snakefile, so the workflow's own checks cannot name the file or the
    line). One line per bad file on stderr, exit status 1; nothing printed and 0 when all load."""
    import sys

    problems = [p for f in configfiles_in(sys.argv[1:] if argv is None else argv) if (p := config_file_error(f))]
    for problem in problems:
        print(f"Cannot start, nothing was run: {problem}", file=sys.stderr)
    return 1 if problems else 0


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
    for method in SECTIONS:  # any method section with a pruning schedule (cpg, packnet)
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
    if err.validator == "pattern" and err.schema.get("description"):
        return f"config key '{where}': {err.instance!r} is not allowed; {' '.join(err.schema['description'].split())}"
    if err.validator == "required":
        return f"config section '{where}': {err.message}"
    return f"config key '{where}': {err.message}"


def format_errors(errors: list[str], source: str) -> str:
    body = "\n".join(f"  - {e}" for e in errors)
    return (f"Invalid configuration ({source}), nothing was run:\n{body}\n"
            f"Fix these keys in your config file (the schema with every allowed key is config/schema.yaml).")


if __name__ == "__main__":
    raise SystemExit(main())
