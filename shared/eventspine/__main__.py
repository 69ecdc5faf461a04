"""``python -m eventspine``: the same as ``sanlian-spine``."""

from eventspine.cli import app

if __name__ == "__main__":
    app()
