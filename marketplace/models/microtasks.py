"""Micro-task batches and units (TaskBatch, TaskUnit, ...)."""
