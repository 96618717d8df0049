"""Policy rules checked at ingest, in the background, on the trace groups spans arrive in.

With ``policy_rules`` set, the server reads the newest ``trace_parts`` rows (by commit
``seq``) a few times a second, waits until a touched trace has been quiet for a moment
(debounce; at most ``MAX_WAIT_S`` for a busy one), joins its group and checks the rules.
The result is stored as ``policy.<rule>`` scores with ``source="online"`` in a commit of
its own, between ingest commits; the newest result of a group is the one that counts.
Ingest never waits for it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

from starlette.concurrency import run_in_threadpool

from .._exceptions import NotFound
from ..analysis import Policy, evaluate_policies, load_policy, policy_scores
from ..config import Settings

__all__ = ["OnlinePolicy"]

log = logging.getLogger("tracevault.server.policy")

POLL_S = 0.25
"""How often the newest commits are looked at."""
DEBOUNCE_S = 1.0
"""How long a trace must be quiet before its group is checked."""
MAX_WAIT_S = 10.0
"""A trace receiving spans all the time is still checked this often."""
_REMEMBERED = 10_000


class OnlinePolicy:
    """The rules, the last commit seen and the traces waiting to be checked."""

    def __init__(self, policy: Policy, source: str, *, debounce_s: float = DEBOUNCE_S,
                 poll_s: float = POLL_S, max_wait_s: float = MAX_WAIT_S) -> None:
        self.policy = policy
        self.source = source
        self.debounce_s, self.poll_s, self.max_wait_s = debounce_s, poll_s, max_wait_s
        self.seq: int | None = None
        self.pending: dict[tuple[str, str], tuple[float, float]] = {}
        self._last: OrderedDict[tuple[str, tuple[str, ...]], Any] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> OnlinePolicy | None:
        """The online checker the settings ask for (None when ``policy_rules`` is empty).

        A bad rule file raises ``PolicyError`` (one line naming the rule and field).
        """
        if not settings.policy_rules:
            return None
        return cls(load_policy(settings.policy_rules), settings.policy_rules)

    # -- store reads (in a worker thread) ----------------------------------------------------
    @staticmethod
    def _head(store: Any) -> int:
        row = store.cursor().execute("SELECT coalesce(max(seq), 0) FROM trace_parts").fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def _touched(store: Any, after: int) -> list[tuple[str, str, int]]:
        rows = store.cursor().execute(
            "SELECT project, trace_id, max(seq) FROM trace_parts WHERE seq > ? "
            "GROUP BY project, trace_id ORDER BY 3", [after]).fetchall()
        return [(str(p), str(t), int(s)) for p, t, s in rows]

    def check(self, store: Any, due: list[tuple[str, str]]
              ) -> tuple[list[dict[str, Any]], dict[Any, Any]]:
        """Score rows for the groups of the ``due`` traces, and the results they record.

        A group whose result is the one stored last time gets no new rows.
        """
        from ..query._api import Vault

        vault = Vault(store)
        done: set[tuple[str, str]] = set()
        rows: list[dict[str, Any]] = []
        results: dict[Any, Any] = {}
        for project, trace_id in due:
            if (project, trace_id) in done:
                continue
            try:
                group = vault.group(trace_id, project=project)
            except NotFound:
                continue  # purged meanwhile
            done |= {(project, t) for t in group.trace_ids}
            violations = evaluate_policies(group.spans, self.policy)
            key = (project, tuple(sorted(group.trace_ids)))
            result = sorted((v.rule, v.span_id or "", v.message) for v in violations)
            if self._last.get(key) == result:
                continue
            results[key] = result
            if violations:
                log.info("policy: %d violation(s) in the group of %s (%s)", len(violations),
                         group.trace_ids[0], ", ".join(sorted({v.rule for v in violations})))
            rows += [s.to_dict() for s in policy_scores(
                violations, self.policy, group.trace_ids, project=project, source="online")]
        return rows, results

    def _remember(self, results: dict[Any, Any]) -> None:
        for key, result in results.items():
            self._last[key] = result
            self._last.move_to_end(key)
        while len(self._last) > _REMEMBERED:
            self._last.popitem(last=False)

    # -- the loop ---------------------------------------------------------------------------
    def _take_due(self, now: float) -> list[tuple[str, str]]:
        due = [k for k, (first, last) in self.pending.items()
               if now - last >= self.debounce_s or now - first >= self.max_wait_s]
        for k in due:
            del self.pending[k]
        return due

    async def step(self, st: Any) -> int:
        """Look at new commits once; check the groups that are due. Returns scores written."""
        if self.seq is None:
            self.seq = await run_in_threadpool(self._head, st.store)
        now = time.monotonic()
        for project, trace_id, seq in await run_in_threadpool(self._touched, st.store,
                                                              self.seq):
            self.seq = max(self.seq, seq)
            first = self.pending.get((project, trace_id), (now, now))[0]
            self.pending[(project, trace_id)] = (first, now)
        due = self._take_due(now)
        if not due:
            return 0
        try:
            rows, results = await run_in_threadpool(self.check, st.store, due)
            written = int(await run_in_threadpool(
                st.pipeline.exclusive, lambda: st.store.write_scores(rows), False)) \
                if rows else 0
        except BaseException:
            for key in due:  # check them again next time
                self.pending.setdefault(key, (now, now))
            raise
        self._remember(results)
        return written

    async def run(self, st: Any) -> None:
        """Check groups as spans arrive until cancelled; failures are logged and retried."""
        log.info("policy: checking %d rule(s) from %s at ingest", len(self.policy.rules),
                 self.source)
        while True:
            try:
                await self.step(st)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep serving; the traces are checked next time
                log.warning("policy check failed: %s", exc)
            await asyncio.sleep(self.poll_s)
