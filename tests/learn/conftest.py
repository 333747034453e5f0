"""Fixtures of the learning tests."""

from __future__ import annotations

from typing import Any

import pytest

from learn.messy import build_messy_export


@pytest.fixture(scope="session")
def messy_export(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build_messy_export(tmp_path_factory.mktemp("messy"))
