"""Micro-task tasks (lease expiry, ...)."""
