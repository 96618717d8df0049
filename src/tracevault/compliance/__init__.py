"""Compliance: integrity verification, signed ledger heads, the reviewer report."""

from ._render import render_report_html, render_report_pdf
from ._report import ReviewReport, RunRecord, build_report, plain_sentence
from ._signing import check_head_signature, generate_key, head_message, load_head, sign_head
from ._verify import verify

__all__ = ["ReviewReport", "RunRecord", "build_report", "check_head_signature",
           "generate_key", "head_message", "load_head", "plain_sentence",
           "render_report_html", "render_report_pdf", "sign_head", "verify"]
