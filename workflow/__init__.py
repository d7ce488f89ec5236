"""cl-lab: methods, data, models and the shared training core of the continual-learning laboratory.

Import direction (enforced by review, tested in tests/test_layout.py):
scripts/ -> workflow.methods -> workflow.{training, models, data}, workflow.metrics; workflow.plots reads tables only.
"""

__version__ = "0.1.0"
