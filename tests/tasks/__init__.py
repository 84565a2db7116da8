"""Tests of the task types."""
