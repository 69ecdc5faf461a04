"""Sanlian event platform: envelope, event types, stores, relay, consumers."""
