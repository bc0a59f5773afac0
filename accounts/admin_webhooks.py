"""Ops admin of webhook subscriptions and deliveries (imported by accounts/admin.py)."""
