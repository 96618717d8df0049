"""SDK overhead: the per-span cost of recording an agent loop, against the bare loop.

A loop of tool calls and model calls (responses from a local stub, 12-message contexts)
runs bare and then recorded with ``tracevault.sdk.Recorder`` (spans batched to a no-op
exporter, so export cost off the hot path is excluded). Prints microseconds per span of
instrumentation and the ratio to the bare loop, measured in the same run.

    python bench/sdk_overhead.py [--iterations 20000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from tracevault import sdk


class _Null(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


MESSAGES = [{"role": "system", "content": "You are a careful agent. " * 10}] + [
    {"role": "user" if i % 2 else "assistant", "content": f"message {i} " * 20}
    for i in range(11)]
RESPONSE = {"id": "r1", "model": "stub", "usage": {"prompt_tokens": 900,
                                                    "completion_tokens": 40,
                                                    "total_tokens": 940},
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "done " * 20}}]}


def model(**kwargs: object) -> dict:
    return RESPONSE


def tool(x: int) -> int:
    return x + 1


def bare(n: int) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        model(model="stub", messages=MESSAGES)
        tool(x=i)
    return time.perf_counter() - t0


def recorded(n: int) -> float:
    rec = sdk.Recorder("bench")
    t0 = time.perf_counter()
    for i in range(n):
        rec.model_call(model, model="stub", messages=MESSAGES)
        rec.tool_call("tool", tool, {"x": i})
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=20_000)
    args = parser.parse_args()
    sdk.configure(exporter=_Null(), set_global=False)
    n = args.iterations
    bare(n // 10), recorded(n // 10)  # warm up
    base = min(bare(n) for _ in range(3))
    rec = min(recorded(n) for _ in range(3))
    spans = 2 * n
    per_span = (rec - base) / spans * 1e6
    print(f"bare loop:      {base / spans * 1e6:8.2f} µs per action")
    print(f"recorded loop:  {rec / spans * 1e6:8.2f} µs per action")
    print(f"instrumentation {per_span:8.2f} µs per span  (ratio recorded/bare "
          f"{rec / base:.1f}x; target < 50 µs per span)")
    sdk.shutdown()


if __name__ == "__main__":
    main()
