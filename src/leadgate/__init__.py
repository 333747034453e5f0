"""leadgate: open, explainable MQL scoring and lead lifecycle.

The package follows the data flow: ``model`` (YAML -> spec) -> ``engine`` (spec + events ->
Score + Explanation) -> ``lifecycle`` -> ``store`` -> ``report`` / ``learn``; adapters (``cli``,
``api``, ``web``) sit at the edge.
"""

from __future__ import annotations

__version__ = "0.1.0"
