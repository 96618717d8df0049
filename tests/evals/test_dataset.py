"""Sampling and de-duplication of dataset items."""

import pytest

from tracevault._exceptions import InputError
from tracevault.evals._dataset import dedupe, read_items_jsonl, sample


def _items(specs):
    return [{"id": str(i), "input": text, "metadata": {"status": status, "start_time_ns": i}}
            for i, (text, status) in enumerate(specs)]


def test_samplers() -> None:
    items = _items([(f"task {i}", "error" if i % 4 == 0 else "ok") for i in range(20)])
    assert [i["id"] for i in sample(items, 3, "recent")] == ["19", "18", "17"]
    first = [i["id"] for i in sample(items, 5, "random", seed=3)]
    assert first == [i["id"] for i in sample(items, 5, "random", seed=3)]
    assert first != [i["id"] for i in sample(items, 5, "random", seed=4)]
    failures = sample(items, 6, "failures-first")
    assert [i["metadata"]["status"] for i in failures] == ["error"] * 5 + ["ok"]
    strat = sample(items, 4, "stratified", by="status")
    assert sorted(i["metadata"]["status"] for i in strat) == ["error", "ok", "ok", "ok"]
    assert len(sample(items, None, "stratified", by="status")) == 20
    with pytest.raises(InputError, match="needs a field"):
        sample(items, 4, "stratified")
    with pytest.raises(InputError, match="unknown sampling"):
        sample(items, 4, "best")


def test_dedupe_drops_near_identical_inputs() -> None:
    items = _items([("Book a flight to Paris on Monday", "ok"),
                    ("book a flight to paris on monday!", "ok"),
                    ("Book a flight to Paris on Monday please", "ok"),
                    ("Cancel my hotel", "ok")])
    assert [i["id"] for i in dedupe(items, 1.0)] == ["0", "2", "3"]
    assert [i["id"] for i in dedupe(items, 0.8)] == ["0", "3"]
    with pytest.raises(InputError):
        dedupe(items, 0)


def test_jsonl_items_need_an_input(tmp_path) -> None:
    from tracevault._exceptions import DecodeError

    path = tmp_path / "items.jsonl"
    path.write_text('{"input": "a", "expected_output": "b"}\n\n{"output": 1}\n')
    with pytest.raises(DecodeError, match="line 3: an item is an object with an 'input'"):
        read_items_jsonl(path)
    path.write_text('{"input": "a", "expected_output": "b"}\n')
    (item,) = read_items_jsonl(path)
    assert item["expected_output"] == "b" and len(item["id"]) == 16
