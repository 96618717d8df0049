"""``verify``: check a store's integrity ledger, optionally against a signed head."""

from __future__ import annotations

from typing import Any

from .._exceptions import InputError
from ..store._verify import Problem, VerifyReport
from ._signing import check_head_signature

__all__ = ["verify"]


def verify(store: Any, head: dict[str, Any] | None = None,
           public_key: str | None = None) -> VerifyReport:
    """Recompute the ledger of ``store``.

    With a signed ``head``, also check that the signature is valid and that the store
    still holds that commit with that chain hash.
    """
    report = store.verify()
    if isinstance(report, dict):  # from a remote store
        problems = [Problem(p["kind"], p["table"], p["seq"], p["detail"], p["record"])
                    for p in report["problems"]]
        report = VerifyReport(report["commits"], report["rows"], problems, report["head"],
                              report.get("purges", []))
    if head is not None:
        try:
            check_head_signature(head, public_key)
        except InputError as exc:
            report.problems.append(Problem("chain", "ledger", head.get("seq"), str(exc)))
            return report
        chain = store.ledger_entry(head["node"], int(head["seq"]))
        if chain is None:
            report.problems.append(Problem("missing", "ledger", head["seq"],
                                           "the signed commit is not in this store"))
        elif chain != head["chain_hash"]:
            report.problems.append(Problem("chain", "ledger", head["seq"],
                                           "the chain differs from the signed head"))
        if store.store_id() != head.get("store_id"):
            report.problems.append(Problem("chain", "ledger", head["seq"],
                                           "the signed head belongs to another store"))
    return report
