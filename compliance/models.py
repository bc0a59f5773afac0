"""Compliance: requirements, documents, checks, the gate, data rights (models arrive with their issue)."""
