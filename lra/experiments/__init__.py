"""Experiments beyond the paper's tables: per-run records, the ListOps regime map."""
