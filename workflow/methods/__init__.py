"""One module per method; each builds on workflow.training, workflow.models and workflow.data."""
