"""Where ``leadgate.scoring`` finds the SQL executors: re-exported from ``leadgate.batch``.

The engine itself stays pure (no I/O); running the compiled query on files lives in
``leadgate/batch/``. This module only keeps the import path ``leadgate.engine.batch`` working.
"""

from __future__ import annotations

from leadgate.batch import ENGINES, iter_batch_scores, score_file_records, score_files

__all__ = ["ENGINES", "iter_batch_scores", "score_file_records", "score_files"]
