from workflow.paths import PAPER_CLAIMS

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
    script:
        "../scripts/collect_metrics.py"


rule claims:
    input:
        results=result_targets,
        # a paper-config run's claims table, when one was committed (workflow.claims.PAPER_CLAIMS)
        paper=lambda wc: [PAPER_CLAIMS] if Path(PAPER_CLAIMS).exists() else [],
    output:
        report(
            "results/claims.csv",
            caption="../report/claims.rst",
            category="Paper claims",
        ),
    params:
        methods=config["methods"],
    log:
        "logs/claims/claims.log",
    benchmark:
        "benchmarks/rules/claims/claims.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../scripts/claims.py"
