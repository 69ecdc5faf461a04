"""``python -m access``: the same as ``sanlian-access``."""

from access.cli import main

main()
