"""Model registry: backbones by name, each width-scalable and built from swappable layer factories."""

from .registry import MODELS, Classifier, Layers, build_backbone, build_classifier, register_model
from . import cnn, fcn, resnet, vgg  # noqa: F401  (registers the models)

__all__ = ["MODELS", "Classifier", "Layers", "build_backbone", "build_classifier", "register_model"]
