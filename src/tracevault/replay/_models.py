"""Models a replay can talk to: any OpenAI-compatible endpoint, or a Python callable.

The protocol is one method: ``complete(request) -> completion``, where ``request`` is an
OpenAI chat-completions request (``model``, ``messages``, ``tools``, parameters) and the
answer an OpenAI ``chat.completion`` dict. A provider with another API is replayed by
wrapping its client in a class with that method (translate the request, call, translate
the answer back), or by putting an OpenAI-compatible proxy in front of it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from .._exceptions import ConfigError
from .._fakemodel import make_completion

__all__ = ["CallableModel", "OpenAIModel", "ReplayModel", "resolve_model"]


@runtime_checkable
class ReplayModel(Protocol):
    """A chat model a replay sends recorded contexts to."""

    name: str
    """The model's name, recorded on the replay's spans."""

    def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer an OpenAI chat-completions request with a ``chat.completion`` dict."""
        ...


class OpenAIModel:
    """An OpenAI-compatible endpoint, through the ``openai`` client.

    ``base_url`` defaults to ``OPENAI_BASE_URL``; the key comes from ``api_key``,
    ``TRACEVAULT_REPLAY_API_KEY`` or ``OPENAI_API_KEY`` (``unused`` when none: local
    servers do not check it). Without ``model``, the first model the endpoint lists.
    """

    def __init__(self, base_url: str | None = None, model: str | None = None,
                 api_key: str | None = None, timeout: float = 120.0) -> None:
        from openai import OpenAI

        key = api_key or os.environ.get("TRACEVAULT_REPLAY_API_KEY") \
            or os.environ.get("OPENAI_API_KEY") or "unused"
        self.client = OpenAI(base_url=base_url or os.environ.get("OPENAI_BASE_URL"),
                             api_key=key, timeout=timeout, max_retries=1)
        if model is None:
            from .._llm import first_model

            model = first_model(self.client, str(base_url))
        self.name = model

    def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send the request (with this model's name) and return the completion."""
        response = self.client.chat.completions.create(**{**request, "model": self.name})
        return response.model_dump(exclude_none=True)


class CallableModel:
    """A Python callable as a model.

    ``fn(request)`` returns a ``chat.completion`` dict, or an answer in the fake model's
    script form: a string (text), or ``{"content": ..., "tool_calls": [{"name",
    "arguments"}]}``.
    """

    def __init__(self, fn: Callable[[dict[str, Any]], Any], name: str | None = None) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "callable")
        self._ids = itertools.count(1)

    def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        """Call ``fn`` and shape its answer as a completion."""
        answer = self.fn(request)
        if isinstance(answer, dict) and "choices" in answer:
            return answer
        return make_completion(answer, self.name, request, self._ids)


def resolve_model(spec: Any, model: str | None = None) -> ReplayModel:
    """A ``ReplayModel`` from a model object, a callable, a base URL or a model name.

    A string starting with ``http`` is an OpenAI-compatible base URL (``model`` names the
    model; default: the first listed); another string is a model name at
    ``OPENAI_BASE_URL``.
    """
    if isinstance(spec, ReplayModel):
        return spec
    if callable(spec):
        return CallableModel(spec, model)
    if isinstance(spec, str) and spec.startswith(("http://", "https://")):
        return OpenAIModel(spec, model)
    if isinstance(spec, str) and spec:
        if not os.environ.get("OPENAI_BASE_URL"):
            raise ConfigError(f"model {spec!r} needs OPENAI_BASE_URL, or give a base URL "
                              "such as http://127.0.0.1:8000/v1")
        return OpenAIModel(None, spec)
    raise ConfigError(f"cannot use {spec!r} as a model: give a base URL, a name or a callable")
