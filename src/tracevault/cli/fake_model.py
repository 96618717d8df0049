"""``tracevault fake-model``: serve a scripted OpenAI-compatible model for tests."""

from __future__ import annotations

import time
from pathlib import Path

import click

__all__ = ["fake_model_command"]


@click.command("fake-model")
@click.option("--script", "script_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON script: rules, responses in order, default (see docs/sdk.md).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def fake_model_command(script_file: Path, host: str, port: int) -> None:
    """Serve a scripted model speaking the OpenAI chat-completions API (no model access)."""
    import json

    from ..testing import FakeModel

    try:
        script = json.loads(script_file.read_text())
    except json.JSONDecodeError as exc:
        raise click.UsageError(f"{script_file} is not JSON: {exc}") from None
    with FakeModel(script, host=host, port=port) as model:
        click.echo(f"fake model {model.model!r} at {model.base_url} (Ctrl+C to stop)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
