"""Every package's ``__all__`` is complete and sorted (as in httpx)."""

import importlib

import pytest

PACKAGES = ["tracevault", "tracevault.schema", "tracevault.ingest", "tracevault.store",
            "tracevault.query", "tracevault.server", "tracevault.testing",
            "tracevault.ingest.otlp", "tracevault.ingest.conventions",
            "tracevault.ingest.files", "tracevault.compliance", "tracevault.sdk",
            "tracevault.demo", "tracevault.analysis", "tracevault.replay",
            "tracevault.evals", "tracevault.exchange", "tracevault.ui"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported), f"{name}.__all__ is not sorted"
    public = {n for n in dir(module) if not n.startswith("_")
              and (getattr(getattr(module, n), "__module__", None) or "").startswith(name)}
    public -= {n for n in public if isinstance(getattr(module, n), type(importlib))}
    missing = public - set(exported)
    assert not missing, f"{name} exports {missing} without listing them in __all__"
    for n in exported:
        assert hasattr(module, n), f"{name}.__all__ lists missing {n}"
