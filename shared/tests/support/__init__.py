"""Helpers shared by the event platform's tests."""
