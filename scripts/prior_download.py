"""Rule `prior_download`: the paper's downstream datasets (registered by workflow.methods.prior.datasets)."""

from pathlib import Path

from workflow.cli import log, parser, run
from workflow.data import fetch_dataset, save_arrays
from workflow.methods.prior import datasets  # noqa: F401  (registers oxford_pets, flowers102)


def main(args):
    data = fetch_dataset(args.dataset, args.raw, args.params)
    save_arrays(args.out, data)
    log.info("%s: %d train / %d test images of shape %s", args.dataset, len(data.y_train), len(data.y_test),
             data.image_shape)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--dataset", required=True)
    p.add_argument("--raw", type=Path, required=True, help="folder for raw downloads")
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
