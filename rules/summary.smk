# Cross-method tables: one metrics file per method (mean and spread over seeds), tracked by DVC as metrics.


rule method_metrics:
    input:
        method_summaries,
    output:
        "metrics/{method}.json",
    log:
        "logs/method_metrics/{method}.log",
    benchmark:
        "benchmarks/rules/method_metrics/{method}.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "python scripts/collect_metrics.py --method {wildcards.method} --summaries {input} --out {output} "
        "--log {log}"


rule claims:
    input:
        result_targets,
    output:
        report(
            "results/claims.csv",
            caption="../report/claims.rst",
            category="Paper claims",
        ),
    params:
        methods=" ".join(config["methods"]),
    log:
        "logs/claims/claims.log",
    benchmark:
        "benchmarks/rules/claims/claims.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "python scripts/claims.py --inputs {input} --methods {params.methods} --out {output} --log {log}"
