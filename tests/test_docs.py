"""Every setting, command and route is documented; generated references are current."""

import re
from pathlib import Path

import click
import pytest

from tracevault._docgen import render_configuration, render_filter_fields, render_schema
from tracevault.cli import main
from tracevault.cli._docs import render_cli
from tracevault.config import SETTINGS, Settings
from tracevault.server import create_app

ROOT = Path(__file__).resolve().parents[1]


def _generated(name: str) -> str:
    text = (ROOT / "docs" / name).read_text()
    m = re.search(r"<!-- generated:start -->\n(.*?)<!-- generated:end -->", text, re.S)
    assert m, f"docs/{name} has no generated section"
    return m.group(1)


@pytest.mark.parametrize("name, render", [("schema.md", render_schema),
                                          ("configuration.md", render_configuration),
                                          ("cli.md", render_cli),
                                          ("query.md", render_filter_fields)])
def test_generated_references_are_current(name, render) -> None:
    assert _generated(name) == render(), \
        f"docs/{name} is stale: run `python -m tracevault._docgen .`"


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    for s in SETTINGS:
        assert f"`{s.name}`" in text and s.env in text


def test_every_command_is_documented() -> None:
    cli_doc = (ROOT / "docs" / "cli.md").read_text()
    readme = (ROOT / "README.md").read_text()

    def walk(cmd, path):
        yield path
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                yield from walk(sub, [*path, name])

    for path in walk(main, ["tracevault"]):
        if len(path) > 1:
            assert f"`{' '.join(path)}`" in cli_doc
    for name in main.commands:
        assert f"tracevault {name}" in readme


def test_every_route_is_documented(tmp_path) -> None:
    api = (ROOT / "docs" / "api.md").read_text()
    app = create_app(Settings.load(store=str(tmp_path / "s.duckdb")))
    for route in app.routes:
        path = getattr(route, "path", "")
        if path.startswith(("/v1/", "/api/")):
            documented = re.sub(r"\{[^}]+\}", "{", path)
            in_doc = re.sub(r"\{[^}]+\}", "{", api)
            assert documented in in_doc, f"{path} is not in docs/api.md"


def test_readme_quickstart_is_two_commands_matching_ci() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["pip install -e . && tracevault serve", "bash scripts/test.sh"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in ci
