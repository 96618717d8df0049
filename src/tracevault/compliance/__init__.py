"""Compliance: integrity verification and signed ledger heads."""

from ._signing import check_head_signature, generate_key, head_message, load_head, sign_head
from ._verify import verify

__all__ = ["check_head_signature", "generate_key", "head_message", "load_head", "sign_head",
           "verify"]
