"""The ``leadgate`` command line: a thin adapter over the library.

Each command module registers its commands on ``app``; commands parse options, call one library
function and render the result. ``main`` is the one place where library errors become exit codes
(0 ok, 1 user error, 2 usage, 3 not found or conflict), printed as one line without a traceback;
``--debug`` (or ``LEADGATE_DEBUG=1``) re-raises instead.
"""

from __future__ import annotations

import importlib
import os
import sys

import typer
from rich.console import Console
from rich.markup import escape

from leadgate.errors import ConflictError, LeadgateError, NotFoundError, OptionError

app = typer.Typer(
    name="leadgate",
    help="Open, explainable MQL scoring: models, scores, lifecycle, reports.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
err_console = Console(stderr=True)

# Modules that register commands on ``app``; each owns one group of commands.
COMMAND_MODULES = [
    "leadgate.cli.model_cmds",
    "leadgate.cli.score_cmds",
    "leadgate.cli.sql_cmds",
    "leadgate.cli.api_cmds",
    "leadgate.cli.store_cmds",
    "leadgate.cli.reasons_cmds",
    "leadgate.cli.privacy_cmds",
    "leadgate.cli.report_cmds",
    "leadgate.cli.synth_cmds",
    "leadgate.cli.demo_cmds",
    "leadgate.cli.learn_cmds",
    "leadgate.cli.crm_cmds",
    "leadgate.cli.accounts_cmds",
]

_DEBUG = {"on": bool(os.environ.get("LEADGATE_DEBUG"))}


@app.callback()
def _root(
    debug: bool = typer.Option(
        False, "--debug", help="Show tracebacks instead of one-line errors."
    ),
    verbose: bool = typer.Option(
        False, "--verbose", help="Show engines' own log lines (Spark's JVM warnings)."
    ),
) -> None:
    if debug:
        _DEBUG["on"] = True
    if verbose:
        set_verbose()


def set_verbose() -> None:
    """``--verbose``: engines show their own log lines (the Spark runner reads LEADGATE_VERBOSE,
    so the flag reaches it however deep the call)."""
    os.environ["LEADGATE_VERBOSE"] = "1"


def exit_code(exc: LeadgateError) -> int:
    """The exit code for a library error: 3 for not found / conflict, else 1."""
    return 3 if isinstance(exc, NotFoundError | ConflictError) else 1


def message(exc: LeadgateError) -> str:
    """A library error as the CLI says it: a parameter named as its flag (``--spark-master``)."""
    if isinstance(exc, OptionError):
        return exc.render(lambda name: "--" + name.replace("_", "-"))
    return str(exc)


_REGISTERED: list[str] = []


def _register() -> None:
    # Once a process: tests run ``main`` many times in one process, and typer keeps every
    # registration (the app would grow by a set of commands a run).
    for name in COMMAND_MODULES:
        if name not in _REGISTERED:
            importlib.import_module(name).register(app)
            _REGISTERED.append(name)


def main() -> None:
    """Entry point of the ``leadgate`` script."""
    _register()
    if "--debug" in sys.argv[1:]:
        _DEBUG["on"] = True
    try:
        app()
    except LeadgateError as exc:
        if _DEBUG["on"]:
            raise
        # escape: a hint such as pip install 'leadgate[learn]' must keep its brackets
        err_console.print(
            f"[bold red]error:[/] {escape(message(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(exit_code(exc))
    except OSError as exc:
        # The file system refused (a folder given as a file, no permission, disk full): the
        # user's to fix, so one line naming the path; --debug shows where it came from.
        if _DEBUG["on"]:
            raise
        path = exc.filename2 or exc.filename  # a rename names its target second
        where = f"{path}: " if path else ""
        err_console.print(
            f"[bold red]error:[/] {escape(where)}{escape(str(exc.strerror or exc))}",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
