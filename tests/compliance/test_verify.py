"""Tampering is detectable: verify recomputes the ledger and every row digest."""

import json
import subprocess
import sys

import duckdb
import pytest

from tracevault import InputError
from tracevault.compliance import check_head_signature, generate_key, sign_head, verify
from tracevault.ingest import prepare_spans
from tracevault.ingest.otlp import decode_traces_protobuf
from tracevault.store import DuckDBStore
from tracevault.testing import workload_requests


@pytest.fixture
def filled(tmp_path):
    path = tmp_path / "s.duckdb"
    store = DuckDBStore(path)
    for body, _ in workload_requests(400, batch_size=100, seed=2):
        store.write(prepare_spans(decode_traces_protobuf(body)[0])[0])
    store.close()
    return path


def _verify_cli(path, *extra):
    return subprocess.run([sys.executable, "-m", "tracevault", "verify", "--store", str(path),
                           *extra], capture_output=True, text=True)


def _tamper(path, sql: str) -> None:
    con = duckdb.connect(str(path))
    con.execute(sql)
    con.close()


def test_an_untouched_store_verifies(filled) -> None:
    proc = _verify_cli(filled)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith("ok: 4 commits (400 spans")


def test_an_altered_value_is_reported(filled) -> None:
    _tamper(filled, "UPDATE spans SET name = 'innocent' WHERE rowid = 17")
    proc = _verify_cli(filled, "--json")
    assert proc.returncode == 1
    problems = json.loads(proc.stdout)["problems"]
    altered = [p for p in problems if p["kind"] == "altered" and p["table"] == "spans"]
    assert len(altered) == 1 and altered[0]["record"]["span_id"]


def test_a_deleted_row_is_reported(filled) -> None:
    con = duckdb.connect(str(filled))
    trace, seq = con.execute("SELECT trace_id, seq FROM spans WHERE rowid = 40").fetchone()
    con.execute("DELETE FROM spans WHERE rowid = 40")
    con.close()
    proc = _verify_cli(filled)
    assert proc.returncode == 1
    assert f"missing: spans (commit {seq})" in proc.stdout
    assert trace in proc.stdout  # the trace summary pinpoints which trace lost a span


def test_an_inserted_row_is_reported(filled) -> None:
    _tamper(filled, "INSERT INTO spans SELECT * REPLACE ('feedfacefeedface' AS span_id) "
                    "FROM spans WHERE rowid = 3")
    proc = _verify_cli(filled)
    assert proc.returncode == 1 and "inserted: spans" in proc.stdout
    assert "feedfacefeedface" in proc.stdout  # its row digest no longer fits either


def test_an_altered_blob_is_reported(filled) -> None:
    _tamper(filled, "UPDATE blobs SET data = '\"forged\"' WHERE rowid = 5")
    proc = _verify_cli(filled)
    assert proc.returncode == 1 and "altered: blobs" in proc.stdout


def test_a_rewritten_chain_is_reported(filled) -> None:
    _tamper(filled, "UPDATE ledger SET content_hash = 'x' WHERE seq = 2")
    report = verify(DuckDBStore(filled, read_only=True))
    kinds = {(p.kind, p.table, p.seq) for p in report.problems}
    assert ("chain", "ledger", 2) in kinds and report.first().seq == 2


def test_signed_heads(filled, tmp_path) -> None:
    key = tmp_path / "key.pem"
    public = generate_key(key)
    store = DuckDBStore(filled)
    signed = sign_head(store.ledger_head(), key)
    check_head_signature(signed, public)
    assert verify(store, signed, public).ok
    forged = {**signed, "seq": 3}
    with pytest.raises(InputError, match="not valid"):
        check_head_signature(forged)
    assert not verify(store, forged).ok
    other = tmp_path / "other.pem"
    with pytest.raises(InputError, match="different key"):
        check_head_signature(signed, generate_key(other))
    store.close()


def test_sign_and_verify_from_the_cli(filled, tmp_path) -> None:
    key = tmp_path / "k.pem"
    out = subprocess.run([sys.executable, "-m", "tracevault", "ledger", "keygen", str(key)],
                         capture_output=True, text=True)
    public = out.stdout.split()[-1]
    head = tmp_path / "head.json"
    subprocess.run([sys.executable, "-m", "tracevault", "ledger", "sign", "--key", str(key),
                    "--store", str(filled), "-o", str(head)], check=True, capture_output=True)
    ok = _verify_cli(filled, "--head", str(head), "--public-key", public)
    assert ok.returncode == 0 and "matches the signed head" in ok.stdout
    _tamper(filled, "DELETE FROM ledger WHERE seq = 4")
    bad = _verify_cli(filled, "--head", str(head))
    assert bad.returncode == 1 and "not in this store" in bad.stdout
