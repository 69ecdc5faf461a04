"""``python -m servicekit``: the same as ``sanlian-spine``."""

from servicekit.cli import app

if __name__ == "__main__":
    app()
