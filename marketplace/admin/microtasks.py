"""Admin for micro-task batches and units."""
