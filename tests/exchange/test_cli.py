"""The CLI: export to a file, import it into another store, errors as one line."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import tracevault

from .conftest import add_demo_scores, scores_of, stats_of, traces_of


def _tv(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracevault", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_bundle_export_and_import_between_stores(demo, tmp_path) -> None:
    path, runs = demo
    add_demo_scores(path, runs)
    key = tmp_path / "k.pem"
    keygen = _tv("ledger", "keygen", str(key))
    assert keygen.returncode == 0, keygen.stderr
    public = keygen.stdout.split()[-1]
    out = tmp_path / "demo.tvbundle"
    done = _tv("export", "--store", str(path), "--format", "bundle", "-o", str(out),
               "--sign-key", str(key))
    assert done.returncode == 0, done.stderr
    assert "bundle of 3 traces (129 spans, 0 log records, 6 scores)" in done.stdout
    checked = _tv("bundle", "verify", str(out), "--public-key", public)
    assert checked.returncode == 0 and checked.stdout.startswith("ok: 3 traces")
    target = tmp_path / "target.duckdb"
    loaded = _tv("bundle", "import", str(out), "--store", str(target), "--public-key", public,
                 "--json")
    assert loaded.returncode == 0, loaded.stderr
    report = json.loads(loaded.stdout)
    assert (report["stored_spans"], report["stored_scores"], report["mismatched"]) == \
        (129, 6, [])
    assert traces_of(target) == traces_of(path)
    assert scores_of(target) == scores_of(path)
    verified = _tv("verify", "--store", str(target))
    assert verified.returncode == 0 and verified.stdout.startswith("ok:")

    before = stats_of(target)
    bad = tmp_path / "bad.tvbundle"
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(bad, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "traces.jsonl.zst":
                data = data[:-1] + bytes([data[-1] ^ 0x01])
            zout.writestr(name, data)
    refused = _tv("bundle", "import", str(bad), "--store", str(target))
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("error: bundle member traces.jsonl.zst was altered")
    assert stats_of(target) == before


def test_otlp_export_reads_back_with_tracevault_import(demo_store, tmp_path) -> None:
    out = tmp_path / "demo.jsonl"
    done = _tv("export", "--store", str(demo_store[0]), "--format", "otlp-json", "-o", str(out),
               "--filter", "trace.status = ok")
    assert done.returncode == 0, done.stderr
    target = tmp_path / "copy.duckdb"
    loaded = _tv("import", str(out), "--store", str(target))
    assert loaded.returncode == 0, loaded.stderr
    with tracevault.open(str(demo_store[0]), read_only=True) as vault:
        ok = {t.trace_id for t in vault.traces(filter="trace.status = ok")}
    copied = traces_of(target)
    assert set(copied) == ok
    original = traces_of(demo_store[0])
    assert all(copied[t]["spans"] == original[t]["spans"] for t in ok)


def test_other_formats_and_usage_errors(demo_store, tmp_path) -> None:
    store = str(demo_store[0])
    chat = _tv("export", "--store", store, "--format", "chat-jsonl", "-o",
               str(tmp_path / "c.jsonl"), "--per", "run", "--redact", "email", "--json")
    assert chat.returncode == 0, chat.stderr
    assert json.loads(chat.stdout)["examples"] == 9
    parquet = _tv("export", "--store", store, "--format", "parquet", "-o",
                  str(tmp_path / "s.parquet"), "--from", "2000-01-01", "--project", "default")
    assert parquet.returncode == 0 and "129 spans" in parquet.stdout
    for args, message in (
            (["--format", "parquet", "--redact", "all"], "--redact applies"),
            (["--format", "chat-jsonl", "--redact", "bogus"], "unknown redaction detector"),
            (["--format", "bundle", "--filter", "kind ="], "error: "),
            (["--format", "bundle", "--trace", "f" * 32], "not found")):
        failed = _tv("export", "--store", store, "-o", str(tmp_path / "x"), *args)
        assert failed.returncode == 2, (args, failed.stderr)
        assert message in failed.stderr and failed.stderr.count("\n") == 1, failed.stderr
    missing = _tv("bundle", "import", str(tmp_path / "c.jsonl"), "--store",
                  str(tmp_path / "t.duckdb"))
    assert missing.returncode == 2 and "is not a tracevault bundle" in missing.stderr
