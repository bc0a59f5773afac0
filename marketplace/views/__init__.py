"""Marketplace pages; one module per area. URL patterns are in marketplace/urls.py."""
