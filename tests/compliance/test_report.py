"""The reviewer report of the demo's failing run: HTML with no external references, and
PDF whose rendered pages carry the run's timeline."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pypdfium2 as pdfium
import pytest

import tracevault
from tracevault.compliance import build_report, render_report_html

pytestmark = pytest.mark.slow

# The failing run's story, in order, as a reviewer reads it.
TIMELINE = [
    "Which config schema must parse_config accept?",
    "Used the tool search_docs",
    "which answered: Use config schema version 1",
    "Used the tool write_file",
    "This action changes data or the outside world.",
    "it failed: test runner timed out after 600s",
    "Retried step 2 (retry 1)",
    "2 failed, 1 passed",
    "invoke_agent planner failed",
]


@pytest.fixture(scope="module")
def failing(demo_store):
    store, runs = demo_store
    return store, next(r for r in runs if r.variant == "bad_research").trace_id


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracevault", *args], capture_output=True,
                          text=True, timeout=300)


def _in_order(text: str, phrases: list[str]) -> None:
    flat = re.sub(r"\s+", " ", text)
    at = 0
    for phrase in phrases:
        found = flat.find(phrase, at)
        assert found >= 0, f"{phrase!r} missing (or out of order) after position {at}"
        at = found + len(phrase)


def test_html_report_is_self_contained_and_tells_the_run(failing, tmp_path) -> None:
    store, trace_id = failing
    out = tmp_path / "report.html"
    r = _cli("report", "--store", str(store), "--filter", f'trace_id = "{trace_id}"',
             "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "1 run(s) of 1 in scope" in r.stderr and "integrity verified" in r.stderr
    page = out.read_text()
    for external in ("http://", "https://", "<script", " src=", "<link", "url(", "@import"):
        assert external not in page, external
    import html

    _in_order(html.unescape(page), TIMELINE)
    for heading in ("Scope", "Systems and model versions", "Record-keeping duties",
                    "Risk-relevant events", "Integrity of the record",
                    "Retention and redaction", "Access to the record"):
        assert f"<h2>{heading}" in page
    for duty in ("Art. 12(1)", "Art. 12(3)(a)", "Art. 12(3)(b)", "Art. 12(3)(c)",
                 "Art. 12(3)(d)", "Art. 19(1)"):
        assert duty in page
    assert "demo-model-bad_research" in page and "demo-coder" in page
    assert "verified: the record is complete and unaltered" in page


def test_pdf_pages_render_to_png_and_carry_the_timeline(failing, tmp_path) -> None:
    store, trace_id = failing
    pdf = tmp_path / "report.pdf"
    r = _cli("report", "--store", str(store), "--filter", f'trace_id = "{trace_id}"',
             "--format", "pdf", "-o", str(pdf))
    assert r.returncode == 0, r.stderr
    doc = pdfium.PdfDocument(str(pdf))
    texts = []
    try:
        assert len(doc) >= 2
        for i in range(len(doc)):
            page = doc[i]
            image = page.render(scale=1.5).to_pil()
            png = tmp_path / f"page-{i + 1}.png"
            image.save(png)
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            gray = image.convert("L")
            ink = sum(gray.histogram()[:128])
            assert ink > 1000, f"page {i + 1} renders blank"
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
    finally:
        doc.close()
    _in_order(" ".join(texts), ["Record of AI agent activity", *TIMELINE])


def test_report_shows_purges_access_and_a_broken_ledger(demo_store, tmp_path) -> None:
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_store[0], path)
    with tracevault.open(str(path)) as vault:
        store = vault.store
        store.set_retention_policy("all", keep_days=0, agent="researcher")
        store.add_legal_hold("keep-one", reason="audit 2026-07",
                             filter="trace.status = error")
        store.apply_retention()
        store.log_access("key ops #1a2b3c4d", "read.trace", "abc", "default")
        page = render_report_html(build_report(vault))
    assert "audit 2026-07" in page and "SHORTER than six months" in page
    assert "key ops #1a2b3c4d" in page and "ledger commit" in page
    assert "verified: the record is complete and unaltered" in page
    with tracevault.open(str(path)) as vault:
        vault.store.cursor().execute(
            "UPDATE spans SET tool_error = 'nothing happened' WHERE tool_error IS NOT NULL")
        page = render_report_html(build_report(vault))
    assert "NOT verified" in page and "values differ from their row_hash" in page


def test_bad_report_arguments_exit_2_with_one_line(failing, tmp_path) -> None:
    store, _ = failing
    r = _cli("report", "--store", str(store), "--filter", "kind = = llm",
             "-o", str(tmp_path / "x.html"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "column" in r.stderr
    r = _cli("report", "--store", str(store), "--format", "docx", "-o", str(tmp_path / "x"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1
