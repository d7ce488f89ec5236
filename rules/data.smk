# Datasets: fetch once (download or local copy), store as checksummed arrays under resources/data/<dataset>/.


rule download:
    output:
        arrays=f"{config['data']['root']}/{{dataset}}/arrays.npz",
        manifest=f"{config['data']['root']}/{{dataset}}/manifest.json",
    params:
        raw=f"{config['data']['root']}/raw",
        options=lambda wc: config["data"].get("options", {}).get(wc.dataset, {}),
    log:
        "logs/download/{dataset}.log",
    benchmark:
        "benchmarks/rules/download/{dataset}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../scripts/download.py"
