# Binary Superposition (BSP; Cheung et al. 2019), side-tuning's lifelong baseline (workflow/methods/bsp): one trunk
# trained through all tasks, each layer seeing task k through a fixed random +-1 context, one head per task. It
# runs on side-tuning's suite and schedule from side-tuning's frozen base (rules/sidetune.smk makes it), and the
# side-tuning figures compare it with the other lifelong methods (LIFELONG_METHODS).

from workflow.methods.bsp import paths as bsp_paths


def bsp_inputs(wildcards):
    return bsp_paths.inputs(config, wildcards.suite, wildcards.seed)


rule bsp_train:
    input:
        unpack(bsp_inputs),
    output:
        accuracy="results/bsp/{suite}/seed{seed}/accuracy.csv",
        summary="results/bsp/{suite}/seed{seed}/summary.json",
        model="results/bsp/{suite}/seed{seed}/model.pt",
        history="results/bsp/{suite}/seed{seed}/history.csv",
    params:
        suite=lambda wc: suite_spec(wc.suite),
        # the keys its stage reads, declared once (bsp_paths.job_params): sidetune.train, sidetune.head_groups and
        # the bsp section (two sections, so not stage_params, which takes one)
        method=StageParams(bsp_paths.job_params(config)),
        compute=config["compute"],
    log:
        "logs/bsp_train/{suite}/seed{seed}.log",
    benchmark:
        "benchmarks/rules/bsp_train/{suite}/seed{seed}.tsv"
    threads: TRAIN_THREADS
    resources:
        **train_resources(),
    script:
        "../scripts/bsp_train.py"


METHOD_TARGETS["bsp"] = functools.partial(bsp_paths.targets, config)
