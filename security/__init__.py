"""Dependency audit: every pinned package checked against the advisories its index publishes."""
