"""The method registry (workflow/methods/registry.py) is the one list of methods, and what it says about each
method is what the rules, scripts and configs do: the schema's enum, LIFELONG_METHODS, the claims, the rules files'
scripts and config keys, the suite and dataset keys of the configs. Static checks only: nothing is run."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import REPO
from workflow.claims import all_claims
from workflow.config import load_schema, merged_config
from workflow.methods.registry import LIFELONG_METHODS, METHODS, defined_in, SHARED_CODE, SHARED_RULES, SHARED_SCRIPTS, SECTIONS

SCHEMA = load_schema(REPO / "config/schema.yaml")  # completed from the registry
DEFAULT = yaml.safe_load((REPO / "config/config.yaml").read_text())
# Scripts of no method: the data (rules/data.smk) and the cross-method claims table (rules/summary.smk).
OTHER_SCRIPTS = {"scripts/download.py", "scripts/claims.py"}


def test_schema_method_enum_is_the_registry():
    assert SCHEMA["properties"]["methods"]["items"]["enum"] == list(METHODS)
    raw = yaml.safe_load((REPO / "config/schema.yaml").read_text())
    assert raw["properties"]["methods"]["items"]["enum"] == [], "the enum is the registry's, filled in at load time"


def test_methods_all_is_every_registered_method_in_order():
    config = merged_config([], root=REPO)
    assert DEFAULT["methods"] == "all" and config["methods"] == list(METHODS)
    assert merged_config(["--config", "methods=[cpg,baseline]"], root=REPO)["methods"] == ["cpg", "baseline"]


def test_a_method_schema_file_gives_its_section_and_defaults():
    """A method whose record names a schema file needs no section in config/config.yaml: its defaults come from
    that file, and the config's values are laid over them key by key."""
    config = merged_config([], root=REPO)
    for m in METHODS.values():
        if m.schema:
            section = yaml.safe_load((REPO / m.schema).read_text())
            assert SCHEMA["properties"][m.section] == section and "default" in section, m.name
            assert config[m.section] == section["default"] or m.section in DEFAULT, m.name


def test_every_method_has_a_config_section_in_the_schema_and_the_default():
    for section in SECTIONS:
        assert section in SCHEMA["properties"], section
        assert section in DEFAULT or "default" in SCHEMA["properties"][section], section
    for m in METHODS.values():
        assert m.name == m.results.split("/")[1] and m.metrics == f"metrics/{m.name}.json"
        for key in m.params:
            assert key in SCHEMA["properties"], f"{m.name}: params key {key!r} is not a config key"
        assert set(m.needs) <= set(METHODS) and m.name not in m.needs, m.name


def test_lifelong_methods_come_from_the_registry_only():
    assert LIFELONG_METHODS[:6] == ("sidetune", "independent", "finetune", "features", "ewc", "pnn")
    assert defined_in("rules/sidetune.smk") == LIFELONG_METHODS[:6]
    defined = [p.relative_to(REPO).as_posix() for folder in ("workflow", "rules", "scripts", "Snakefile")
               for p in ([REPO / folder] if (REPO / folder).is_file() else (REPO / folder).rglob("*"))
               if p.suffix in (".py", ".smk", "") and p.is_file()
               and re.search(r"^\s*LIFELONG_METHODS\s*[:=]", p.read_text(errors="replace"), re.M)]
    assert defined == ["workflow/methods/registry.py"], defined
    assert "from workflow.methods.registry import LIFELONG_METHODS" in (REPO / "rules/common.smk").read_text()
    assert 'defined_in("rules/sidetune.smk")' in (REPO / "rules/sidetune.smk").read_text()
    assert "from ..registry import defined_in" in (REPO / "workflow/methods/sidetune/lifelong.py").read_text()


def test_claims_name_registered_methods():
    for claim in all_claims():
        assert claim.method in METHODS and set(claim.needs) <= set(METHODS), claim.claim


def test_every_declared_path_exists():
    paths = {*SHARED_RULES, *SHARED_CODE, *SHARED_SCRIPTS, *OTHER_SCRIPTS}
    for m in METHODS.values():
        paths |= {m.rules, *m.code, *m.scripts, *m.figure_scripts}
    missing = sorted(p for p in paths if not (REPO / p).exists())
    assert not missing, missing


def test_every_method_package_belongs_to_a_method():
    owned = {p for m in METHODS.values() for p in m.code} | set(SHARED_CODE)
    for path in sorted((REPO / "workflow/methods").iterdir()):
        rel = path.relative_to(REPO).as_posix()
        if path.name.startswith(("_", ".")) or path.name == "registry.py" or path.suffix not in (".py", ""):
            continue
        assert rel in owned, f"{rel} is no method's code: add it to a method's `code` in the registry"


def scripts_in(text: str) -> set[str]:
    return set(re.findall(r"\bscripts/\w+\.py", text))


def test_rules_files_run_the_declared_scripts():
    """Each rules file runs exactly the scripts its methods declare (tables and figures); every script in scripts/
    is declared somewhere."""
    by_rules: dict[str, set[str]] = {}
    for m in METHODS.values():
        by_rules.setdefault(m.rules, set()).update(m.scripts, m.figure_scripts)
    for rules, declared in by_rules.items():
        assert scripts_in((REPO / rules).read_text()) == declared, rules
    shared = scripts_in((REPO / "rules/summary.smk").read_text()) | scripts_in((REPO / "rules/data.smk").read_text())
    assert shared == set(SHARED_SCRIPTS) | OTHER_SCRIPTS
    on_disk = {p.relative_to(REPO).as_posix() for p in (REPO / "scripts").glob("*.py")}
    undeclared = on_disk - set().union(*by_rules.values()) - shared
    assert not undeclared, f"scripts no method declares: {sorted(undeclared)}"
    for m in METHODS.values():  # a table script is not a figure script (figures have their own DVC stage)
        assert not set(m.scripts) & set(m.figure_scripts), m.name


CONFIG_READ = re.compile(r"""config(?:\[\s*["'](\w+)["']\s*\]|\.get\(\s*["'](\w+)["'])""")


def test_rules_files_read_only_the_declared_config_keys():
    """The top-level config keys a method's rules file reads (config["k"], config.get("k")) are among its
    methods' params (what its DVC stage tracks); the shared helpers in rules/common.smk read suites and sections
    on their behalf."""
    by_rules: dict[str, set[str]] = {}
    for m in METHODS.values():
        by_rules.setdefault(m.rules, set()).update(m.params, ["methods"])
    for rules, declared in by_rules.items():
        read = {a or b for a, b in CONFIG_READ.findall((REPO / rules).read_text())}
        assert read, rules
        assert read <= declared, f"{rules} reads {sorted(read - declared)}, not in its methods' params"


def lookup(config: dict, dotted: str):
    node = config
    for part in dotted.split("."):
        node = node[part]
    return node


def section_suite_keys(config: dict, section: str) -> set[str]:
    """The keys of a method's section that name a suite or a dataset (as rules/common.smk's datasets_used
    scans them)."""
    found = set()

    def scan(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "dataset" or key == "suite" or key.endswith("_suite"):
                    found.add(".".join([*path, key]))
                else:
                    scan(value, [*path, key])

    scan(config.get(section, {}), [section])
    return found


@pytest.mark.parametrize("name", ["config.yaml", "test.yaml", "fashion.yaml", "paper.yaml"])
def test_suite_keys_name_suites_or_datasets(name):
    from snakemake.utils import update_config

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    update_config(config, yaml.safe_load((REPO / "config" / name).read_text()))
    for m in METHODS.values():
        declared = set(m.suite_keys)
        assert section_suite_keys(config, m.section) == declared - {"suite"}, m.name
        for key in declared:
            value = lookup(config, key)
            if key.split(".")[-1] == "dataset":
                assert isinstance(value, str), (m.name, key)
            else:
                assert value in config["suites"], (m.name, key, value)
        if "suite" in m.suite_keys or any(k.endswith("suite") for k in declared):
            assert "suites" in m.reads, f"{m.name} names suites but does not track `suites`"


def test_every_method_has_snakemake_targets_in_its_rules_file():
    """Each method registers its targets (METHOD_TARGETS[name], rules/common.smk) in the rules file the registry
    names; side-tuning and its baselines through the loop over SIDETUNE_RULE_METHODS in rules/sidetune.smk."""
    for m in METHODS.values():
        text = (REPO / m.rules).read_text()
        literal = re.search(rf"""METHOD_TARGETS\[["']{m.name}["']\]\s*=""", text)
        looped = m.rules == "rules/sidetune.smk" and re.search(
            r"for (\w+) in SIDETUNE_RULE_METHODS:\s*\n\s*METHOD_TARGETS\[\1\]", text)
        assert literal or looped, f"{m.rules} registers no targets for {m.name}"
