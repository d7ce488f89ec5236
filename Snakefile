# The continual- and transfer-learning laboratory.
#   snakemake --cores all                               # every method in config `methods`, on the default config
#   snakemake --cores all --configfile config/paper.yaml # the papers' settings (GPUs)
# Paths: resources/data/<dataset>/ (datasets), results/<method>/<suite>/seed<S>/ (results),
#        results/figures/ (figures), logs/<rule>/ (logs), benchmarks/rules/<rule>/ (Snakemake benchmarks).
import sys

from snakemake.utils import min_version

min_version("9.0")

# The default config, checked before Snakemake reads it: a YAML error gets the file, the line and the fix, not
# Snakemake's generic message. (--configfile files are read by Snakemake before this file: `make` checks them.)
from workflow.config import config_file_error

_problem = config_file_error("config/config.yaml", "the workflow's default config")
if _problem:
    print(f"Cannot start, nothing was run: {_problem}", file=sys.stderr)
    sys.exit(1)


configfile: "config/config.yaml"


report: "report/workflow.rst"


# Jobs find the environment's `python` through PATH (also inside cluster jobs).
envvars:
    "PATH",


include: "rules/common.smk"


localrules:
    all,
    results,
    figures,
    datasets,


rule all:
    default_target: True
    input:
        all_targets,


# Target-only rules: the tables (what DVC's per-method stages run) and the figures, separately.
rule results:
    input:
        result_targets,


rule figures:
    input:
        figure_targets,


rule datasets:
    input:
        datasets_used,


include: "rules/data.smk"
include: "rules/summary.smk"


# Each method's rules file, as the method registry names them (workflow/methods/registry.py): a new method adds
# its record there and its rules/<name>.smk, and nothing here.
for _rules in RULE_FILES:

    include: _rules
