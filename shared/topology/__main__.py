"""``python -m topology``: the same as ``sanlian-stack``."""

from topology.cli import app

app(prog_name="sanlian-stack")
