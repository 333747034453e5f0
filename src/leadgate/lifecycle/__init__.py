"""The lead lifecycle: stages and allowed transitions, dispositions, SLAs and recycling.

Pure rules, no I/O: ``store`` records what these rules decide and ``service`` applies them.
"""

from __future__ import annotations

from leadgate.lifecycle.stages import TRANSITIONS, Cause, Stage, can_move, check_move

__all__ = ["TRANSITIONS", "Cause", "Stage", "can_move", "check_move"]
