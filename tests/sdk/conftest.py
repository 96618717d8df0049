from collections.abc import Callable, Iterator

import pytest

import tracevault
from tracevault import sdk
from tracevault.testing import FakeModel

WEATHER = {
    "model": "fake-weather",
    "rules": [{"when": {"last_role": "tool"}, "respond": "It is sunny in Paris."},
              {"when": {"contains": "weather"},
               "respond": {"tool_calls": [{"name": "get_weather",
                                           "arguments": {"city": "Paris"}}]}}],
    "default": "Hello.",
}


@pytest.fixture
def recorded(tmp_path) -> Iterator[Callable[[], list]]:
    """SDK configured into a fresh store; call the fixture to read back every trace."""
    path = tmp_path / "sdk.duckdb"
    sdk.configure(store=str(path), batch=False, service_name="sdk-test")

    def read() -> list:
        sdk.shutdown()
        with tracevault.open(str(path)) as vault:
            return [vault.trace(t.trace_id) for t in vault.traces(limit=1000)]

    yield read
    sdk.shutdown()


@pytest.fixture
def weather_model() -> Iterator[FakeModel]:
    with FakeModel(WEATHER) as model:
        yield model
