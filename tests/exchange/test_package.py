"""The package's public names."""

import tracevault.exchange as exchange


def test_all_is_sorted_and_complete() -> None:
    assert exchange.__all__ == sorted(exchange.__all__)
    public = {n for n in dir(exchange) if not n.startswith("_")
              and (getattr(getattr(exchange, n), "__module__", None) or "")
              .startswith("tracevault.exchange")}
    assert public <= set(exchange.__all__)
    assert all(hasattr(exchange, n) for n in exchange.__all__)
