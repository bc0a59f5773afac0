"""Bundled compliance data: the sample sanctions list (sanctions.csv) and its parser (sanctions_file.py)."""
