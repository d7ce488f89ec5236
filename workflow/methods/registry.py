"""One record per method: the single place that names the methods and what each is made of.

A method is what `config["methods"]` lists: it owns a results folder ``results/<name>/`` (the contract:
``<suite or dataset>/seed<S>/{accuracy.csv,summary.json}``) and a metrics file ``metrics/<name>.json``. Its record
says where its jobs are defined (the rules file), what code those jobs run (packages and modules under
``workflow/``, scripts under ``scripts/``), which config keys its results depend on, and which other methods'
results it reads. Derived from it:

- the schema's ``methods`` enum (filled in by workflow.config.load_schema; ``methods: all`` means every method
  here, in this order) and, for a method that declares ``schema``, its config section's schema and defaults,
- the rules files the Snakefile includes (RULE_FILES),
- ``LIFELONG_METHODS`` (rules/sidetune.smk, workflow.methods.sidetune, the side-tuning figures),
- the claims table (workflow.claims: its own claims plus each method's ``claims`` module),
- ``dvc.yaml`` (``python -m workflow.dvcgen``): one stage per method whose deps are its rules, code, scripts and
  the results it reads, and whose ``params:`` are its config section plus the keys in ``reads``.

Plain data, no imports from the project: the Snakefile and workflow.config import it while parsing (no torch).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    name: str
    section: str                         # its config section, config[section] (one section may serve several)
    rules: str                           # the rules file that defines its jobs
    code: tuple[str, ...]                # packages / modules under workflow/ its jobs import (beyond SHARED_CODE)
    scripts: tuple[str, ...]             # scripts/ its table jobs run (the `results` target)
    figure_scripts: tuple[str, ...] = ()  # scripts/ its figure jobs run (the `figures` target)
    suite_keys: tuple[str, ...] = ()     # dotted config keys naming a suite (a key of `suites`) or a dataset it reads
    reads: tuple[str, ...] = ("compute",)  # top-level config keys beyond `section` that its results depend on
    figure_keys: tuple[str, ...] = ()    # config keys beyond methods/suite/seeds that pick its figures' inputs
    needs: tuple[str, ...] = ()          # methods whose results its jobs read
    lifelong: bool = False               # side-tuning and the lifelong baselines compared with it
    schema: str | None = None            # YAML file with its section's JSON schema and `default` (else: schema.yaml)
    claims: str | None = None            # module whose CLAIMS list it adds to the claims table

    @property
    def results(self) -> str:
        """Its result folder (every file its jobs write, but figures and metrics)."""
        return f"results/{self.name}"

    @property
    def metrics(self) -> str:
        return f"metrics/{self.name}.json"

    @property
    def params(self) -> tuple[str, ...]:
        """The config keys its results depend on: its section, then `reads`."""
        return (self.section, *self.reads)


# What every method's jobs run besides their own code: the Snakefile's shared rules, the training core, the data
# and model registries, metrics, file helpers, and the per-method metrics file (rules/summary.smk).
SHARED_RULES = ("Snakefile", "rules/common.smk", "rules/data.smk", "rules/summary.smk")
SHARED_CODE = ("workflow/__init__.py", "workflow/paths.py", "workflow/training", "workflow/models", "workflow/data",
               "workflow/metrics.py", "workflow/io.py", "workflow/stage.py", "workflow/errors.py", "workflow/provenance.py",
               "workflow/summary.py", "workflow/methods/__init__.py", "workflow/methods/common.py")
SHARED_SCRIPTS = ("scripts/collect_metrics.py",)

_CPG = dict(rules="rules/cpg.smk", code=("workflow/methods/cpg",),
            scripts=("scripts/cpg_finetune.py", "scripts/cpg_grow.py", "scripts/cpg_prune.py", "scripts/cpg_choose.py",
                     "scripts/cpg_retrain.py", "scripts/cpg_collect.py"),
            suite_keys=("suite",), reads=("suite", "suites", "seeds", "compute"), needs=("baseline",))
_SIDETUNE = dict(section="sidetune", rules="rules/sidetune.smk",
                 code=("workflow/methods/sidetune", "workflow/methods/baseline.py",
                       "workflow/config.py"),  # the base's check that source and tasks share no image
                 scripts=("scripts/sidetune_pretrain.py", "scripts/sidetune_distil.py", "scripts/sidetune_cache.py",
                          "scripts/sidetune_train.py"),
                 suite_keys=("sidetune.suite", "sidetune.source_suite"), reads=("suites", "seeds", "compute"),
                 lifelong=True)
# The lifelong baselines reuse side-tuning's frozen base (and side network) from results/sidetune/.../shared/;
# `independent` trains from scratch and reads neither.
_LIFELONG_BASELINE = dict(_SIDETUNE, figure_scripts=(), needs=("sidetune",))

METHODS: dict[str, Method] = {m.name: m for m in [
    Method("baseline", section="baseline", rules="rules/baseline.smk",
           code=("workflow/methods/baseline.py", "workflow/methods/baseline_paths.py"),
           scripts=("scripts/baseline_train.py", "scripts/baseline_collect.py"),
           figure_scripts=("scripts/plot_per_task_accuracy.py",),
           suite_keys=("suite",), reads=("suite", "suites", "seeds", "compute")),
    Method("cpg", section="cpg", figure_scripts=("scripts/cpg_plot.py",), **_CPG),
    Method("packnet", section="packnet", **_CPG),
    Method("sidetune", figure_scripts=("scripts/sidetune_plot.py",), figure_keys=("sidetune.suite",), **_SIDETUNE),
    Method("independent", **dict(_LIFELONG_BASELINE, needs=())),
    Method("finetune", **_LIFELONG_BASELINE),
    Method("features", **_LIFELONG_BASELINE),
    Method("ewc", **_LIFELONG_BASELINE),
    Method("pnn", **_LIFELONG_BASELINE),
    Method("bsp", section="bsp", rules="rules/bsp.smk",
           code=("workflow/methods/bsp", *_SIDETUNE["code"]),  # its job runs side-tuning's run_sequence, load_base
           scripts=("scripts/bsp_train.py",),  # suite_keys: none in its own section (it reads sidetune.suite)
           reads=("sidetune", "suites", "seeds", "compute"), needs=("sidetune",), lifelong=True,
           schema="workflow/methods/bsp/schema.yaml", claims="workflow.methods.bsp.claims"),
    Method("prior", section="prior", rules="rules/prior.smk", code=("workflow/methods/prior",),
           scripts=("scripts/prior_pretrain.py", "scripts/prior_fit.py", "scripts/prior_transfer.py",
                    "scripts/prior_collect.py"),
           figure_scripts=("scripts/prior_figure.py",),
           suite_keys=("prior.source_suite", "prior.target_suite"), reads=("suites", "compute"),
           figure_keys=("prior.target_suite", "prior.seeds")),
    Method("subspace", section="subspace", rules="rules/subspace.smk", code=("workflow/methods/subspace",),
           scripts=("scripts/subspace_train.py", "scripts/subspace_eval.py"),
           figure_scripts=("scripts/subspace_plot.py",),
           suite_keys=("subspace.dataset",), reads=("compute",),
           figure_keys=("subspace.dataset", "subspace.seeds")),
    Method("dpnas", section="dpnas", rules="rules/dpnas.smk", code=("workflow/methods/dpnas",),
           scripts=("scripts/dpnas_search.py", "scripts/dpnas_select.py", "scripts/dpnas_hypothesis.py",
                    "scripts/dpnas_export.py", "scripts/dpnas_collect.py"),
           figure_scripts=("scripts/dpnas_plot.py",),
           suite_keys=("dpnas.dataset",), reads=("seeds", "compute"),
           figure_keys=("dpnas.dataset", "dpnas.plot_window")),
]}

NAMES: tuple[str, ...] = tuple(METHODS)
RULE_FILES: tuple[str, ...] = tuple(dict.fromkeys(m.rules for m in METHODS.values()))
LIFELONG_METHODS: tuple[str, ...] = tuple(name for name, m in METHODS.items() if m.lifelong)
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(m.section for m in METHODS.values()))


def defined_in(rules: str) -> tuple[str, ...]:
    """The methods whose jobs the rules file ``rules`` defines (e.g. side-tuning's and its baselines')."""
    return tuple(name for name, m in METHODS.items() if m.rules == rules)
