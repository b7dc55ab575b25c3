"""Tests for the demo scripts (each runs a demo in quick mode and checks its numbers)."""
