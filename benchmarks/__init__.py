"""Reproducible quality and speed measurements for painbot (`make eval`, `make bench`)."""
