"""Shared CLI plumbing: store option, JSON output, error handling."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
import orjson

from .._exceptions import TraceVaultError
from ..config import default_store_path

__all__ = ["emit_json", "json_option", "open_vault", "store_option"]

F = TypeVar("F", bound=Callable[..., Any])


def store_option(f: F) -> F:
    """``--store PATH`` (env ``TRACEVAULT_STORE``)."""
    return click.option(
        "--store", "store", envvar="TRACEVAULT_STORE", default=None, metavar="PATH",
        help="Store: DuckDB file path, ducklake:postgres://... URL or server URL "
             "(default ~/.tracevault/tracevault.duckdb).",
    )(f)


def json_option(f: F) -> F:
    """``--json`` for machine-readable output."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Print JSON instead of a table.")(f)


def open_vault(store: str | None, read_only: bool = True) -> Any:
    """Open the store for a command (through the server when one holds the file)."""
    from ..query import open as tv_open

    path = store or default_store_path()
    if read_only and "://" not in path and path != ":memory:" \
            and not path.startswith("ducklake:") and not os.path.exists(path):
        raise click.UsageError(f"no store at {path} (ingest something first, or pass --store)")
    return tv_open(path, read_only=read_only)


def emit_json(data: Any) -> None:
    """Write JSON to stdout."""
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


class CLIGroup(click.Group):
    """Maps errors to exit code 2 and one line on stderr."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("aborted", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(2)
        except TraceVaultError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except BrokenPipeError:
            sys.exit(0)
