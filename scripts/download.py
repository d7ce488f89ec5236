"""Rule `download`: fetch a dataset through the registry and store it as checksummed arrays."""

from workflow.data import fetch_dataset, save_arrays
from workflow.stage import log, run


def main(job):
    dataset = job.wildcards.dataset
    data = fetch_dataset(dataset, job.params.raw, job.params.options)
    save_arrays(job.output.manifest.parent, data)
    log.info("%s: %d train / %d test images of shape %s", dataset, len(data.y_train), len(data.y_test),
             data.image_shape)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
