"""``tracevault import`` recognises bundles (and still reads zipped Inspect AI logs)."""

import shutil
import subprocess
import sys

import tracevault


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracevault", *args], capture_output=True,
                          text=True, timeout=120)


def test_import_verifies_and_loads_a_bundle(tmp_path, demo_store) -> None:
    source = tmp_path / "a.duckdb"
    shutil.copy(demo_store[0], source)
    bundle = tmp_path / "runs.tvbundle"
    r = _cli("export", "--format", "bundle", "-o", str(bundle), "--store", str(source))
    assert r.returncode == 0, r.stderr
    target = tmp_path / "b.duckdb"
    r = _cli("import", str(bundle), "--store", str(target))
    assert r.returncode == 0 and "(tracevault-bundle)" in r.stdout, r.stderr
    with tracevault.open(str(source), read_only=True) as a, \
            tracevault.open(str(target), read_only=True) as b:
        ids = [t.trace_id for t in a.traces(limit=100)]
        assert [t.trace_id for t in b.traces(limit=100)] == ids
        assert all(a.store.get_trace(None, i) == b.store.get_trace(None, i) for i in ids)
    assert " 0 spans" in _cli("import", str(bundle), "--store", str(target)).stdout
    r = _cli("import", str(bundle), "--project", "p", "--store", str(target))
    assert r.returncode == 2 and "does not apply to bundles" in r.stderr
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bundle.write_bytes(bytes(data))
    r = _cli("import", str(bundle), "--store", str(tmp_path / "c.duckdb"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1
