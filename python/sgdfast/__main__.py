"""``python -m sgdfast``: the same as the ``sgdfast`` command."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
