"""Figures as pure functions from tidy tables to matplotlib figures (they never import training code)."""
