"""The architecture's rules, checked: every rule logs and benchmarks; imports run one way."""

import ast
import re

import pytest

from tests.conftest import REPO

RULE = re.compile(r"^(rule|checkpoint) (\w+):\s*$", re.M)


def rule_blocks():
    for smk in sorted((REPO / "rules").glob("*.smk")):
        text = smk.read_text()
        starts = [(m.start(), m.group(2)) for m in RULE.finditer(text)]
        for k, (pos, name) in enumerate(starts):
            end = starts[k + 1][0] if k + 1 < len(starts) else len(text)
            yield smk.name, name, text[pos:end]


def test_every_rule_has_log_and_benchmark():
    blocks = list(rule_blocks())
    assert blocks
    for file, name, body in blocks:
        assert "    log:" in body, f"rule {name} in {file} has no log:"
        assert "    benchmark:" in body, f"rule {name} in {file} has no benchmark:"
        assert "    threads:" in body and "    resources:" in body, f"rule {name} in {file} lacks threads/resources"


def imports_of(path):
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the package
                pkg = path.relative_to(REPO).with_suffix("").parts[:-node.level]
                base = ".".join([*pkg, base] if base else pkg)
            names.add(base)
    return names


# package -> packages it must never import
FORBIDDEN = {
    "workflow/training": ("workflow.methods", "workflow.plots", "scripts"),
    "workflow/models": ("workflow.training", "workflow.methods", "workflow.plots", "scripts"),
    "workflow/data": ("workflow.training", "workflow.methods", "workflow.models", "workflow.plots", "scripts"),
    "workflow/plots": ("workflow.training", "workflow.methods", "workflow.models", "scripts"),
    "workflow/methods": ("workflow.plots", "scripts"),
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_run_one_way(package):
    for path in (REPO / package).rglob("*.py"):
        bad = [n for n in imports_of(path) if n.startswith(FORBIDDEN[package])]
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_nothing_in_workflow_imports_scripts():
    for path in (REPO / "workflow").rglob("*.py"):
        assert not [n for n in imports_of(path) if n.split(".")[0] == "scripts"], path
