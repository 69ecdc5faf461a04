"""The roster service."""
