"""The federation's contact rule, the one definition the contacts and reports services share."""

from compliance.rule import ContactRule, LinkStanding, Period

__all__ = ["ContactRule", "LinkStanding", "Period"]
