"""The notify service: reminders — who must be told what, when, on which channel."""
