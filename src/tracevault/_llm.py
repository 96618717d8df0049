"""One chat completion over an OpenAI-compatible endpoint, with errors in one line."""

from __future__ import annotations

from typing import Any

from ._exceptions import QueryError

__all__ = ["chat", "first_model"]


def chat(client: Any, model: str, messages: list[dict[str, Any]], *, who: str,
         where: str) -> Any:
    """``client.chat.completions.create`` at temperature 0.

    Endpoint failures become ``QueryError("<who>: <where> ...")``: HTTP status with the
    server's message, unreachable, or any other client error.
    """
    import openai

    try:
        return client.chat.completions.create(model=model, messages=messages, temperature=0)
    except openai.APIStatusError as exc:
        detail = exc.message if isinstance(exc.message, str) else str(exc)
        raise QueryError(f"{who}: {where} answered HTTP {exc.status_code}: "
                         f"{detail[:300]}") from None
    except openai.APIConnectionError as exc:
        raise QueryError(f"{who}: cannot reach {where}: {exc}") from None
    except openai.OpenAIError as exc:
        raise QueryError(f"{who}: {where} failed: {exc}") from None


def first_model(client: Any, where: str) -> str:
    """The first model an OpenAI-compatible endpoint lists (``QueryError`` if none)."""
    try:
        listed = client.models.list().data
    except Exception as exc:  # noqa: BLE001 - any failure means: name the model
        raise QueryError(f"cannot list the models of {where}: {exc}; name the model") from None
    if not listed:
        raise QueryError(f"{where} lists no models; name the model")
    return str(listed[0].id)
