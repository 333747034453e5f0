"""``python -m leadgate`` runs the command line."""

from __future__ import annotations

from leadgate.cli import main

main()
