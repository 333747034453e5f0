"""The registry of executors (leadgate.executors): typed options per engine; an option that does
not apply to the chosen engine is an error naming the parameter, and the CLI names its flag."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from factories import REFERENCE_MODEL
from leadgate.batch import sql_options
from leadgate.errors import OptionError
from leadgate.executors import (
    ENGINES,
    DuckDBOptions,
    PythonOptions,
    SparkOptions,
    engine_name,
    options_for,
)


def test_every_engine_has_typed_options_and_a_name() -> None:
    assert list(ENGINES) == ["duckdb", "python", "sqlite", "postgres", "spark"]
    for name in ENGINES:
        assert engine_name(options_for(name)) == name
    assert options_for("spark", spark_master="local[2]") == SparkOptions("local[2]")
    assert options_for("duckdb", spark_master=None) == DuckDBOptions()


def test_an_option_for_another_engine_is_an_error() -> None:
    with pytest.raises(OptionError, match=r"^spark_master: does not apply to the duckdb engine"):
        options_for("duckdb", spark_master="spark://x:7077")
    with pytest.raises(OptionError, match=r"^pg_url: .* \(only to postgres\)"):
        options_for("sqlite", pg_url="postgresql://x")


def test_an_unknown_engine_names_the_parameter() -> None:
    with pytest.raises(OptionError, match=r"^engine: expected one of duckdb, python"):
        options_for("oracle")
    with pytest.raises(OptionError, match=r"^engine: .*got 'python'"):
        sql_options(PythonOptions())


def test_the_cli_names_the_flag(tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("lead_id\n1\n")
    args = ["-m", str(REFERENCE_MODEL), "--leads", str(leads), "--spark-master", "local[2]"]
    for command in (["score"], ["explain", "1"]):
        extra = ["--engine", "duckdb"] if command == ["score"] else ["--engine", "sqlite"]
        done = subprocess.run(
            [sys.executable, "-m", "leadgate", *command, *args, *extra],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 1
        assert "--spark-master: does not apply to the" in done.stderr
        assert "Traceback" not in done.stderr


def test_option_errors_name_parameters_and_adapters_spell_them() -> None:
    from leadgate.cli import message

    exc = OptionError("", "give either {db} or {leads_file} files", mentions=("db", "leads_file"))
    assert str(exc) == "give either db or leads_file files"
    assert message(exc) == "give either --db or --leads-file files"
    assert message(OptionError("chart_format", "expected png")) == "--chart-format: expected png"
