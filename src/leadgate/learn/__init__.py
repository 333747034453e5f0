"""Points scorecards learned from outcomes (``leadgate fit``), written as ordinary leadgate models.

The flow: ``tables`` (files -> learning table, via ``features`` and ``cleaning``) -> ``binning``
-> ``leakage`` -> ``scorecard`` -> ``rules`` (the YAML) -> ``threshold`` -> ``evaluate`` (held-out
split, gradient-boosted ceiling) -> ``report``; ``fit`` runs them in order and ``hybrid`` merges a
scorecard into an existing model. docs/learned-scorecards.md describes it for users.
"""

from __future__ import annotations

from leadgate.learn.fit import FitOptions, FitResult, fit_files, fit_table
from leadgate.learn.scorecard import Scaling

__all__ = ["FitOptions", "FitResult", "Scaling", "fit_files", "fit_table"]
