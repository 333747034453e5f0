"""The engine: one semantics, compiled once (``compile``), run per lead (``python``) or in SQL."""

from __future__ import annotations

from leadgate.engine.compile import compile_model
from leadgate.engine.event import Event, as_utc
from leadgate.engine.ir import Plan
from leadgate.engine.python import score_lead
from leadgate.engine.result import Explanation, Score

__all__ = ["Event", "Explanation", "Plan", "Score", "as_utc", "compile_model", "score_lead"]
