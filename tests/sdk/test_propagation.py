"""Causal ids follow threads, asyncio tasks, processes and messages."""

import asyncio
from concurrent.futures import ProcessPoolExecutor

from tracevault import sdk


def _child_work(store: str) -> str:
    sdk.configure(store=store, shared_store=True, batch=False, service_name="child")
    with sdk.agent_span("child-agent"):
        pass
    sdk.shutdown()
    return "done"


def test_threads_and_asyncio_keep_the_parent(recorded) -> None:
    @sdk.traced_tool
    def work(n: int) -> int:
        return n * 2

    async def task(n: int) -> int:
        await asyncio.sleep(0)
        return work(n)

    async def many() -> list:
        return await asyncio.gather(*(task(i) for i in range(3)))

    with sdk.agent_span("boss"):
        with sdk.ContextThreadPoolExecutor(2) as pool:
            assert list(pool.map(work, [10, 11])) == [20, 22]
        assert asyncio.run(many()) == [0, 2, 4]
    (trace,) = recorded()
    root = trace.roots()[0]
    tools = [s for s in trace.spans if s.kind == "tool"]
    assert len(tools) == 5 and all(s.parent_span_id == root.span_id for s in tools)


def test_process_pool_and_links(recorded, tmp_path) -> None:
    store = str(tmp_path / "sdk.duckdb")
    with sdk.agent_span("parent") as span:
        carrier = sdk.inject()
        headers = sdk.inject({"content-type": "application/json"})
    assert carrier["traceparent"] == headers["traceparent"]
    sdk.flush()
    sdk.shutdown()  # let the child process open the store
    with ProcessPoolExecutor(1) as pool:
        assert pool.submit(sdk.run_with_carrier, carrier, _child_work, store).result() == "done"
    sdk.configure(store=store, shared_store=True, batch=False)
    with sdk.continue_trace(carrier, link=True, name="later"):
        pass
    traces = recorded()
    parent_tid = format(span.get_span_context().trace_id, "032x")
    joined = next(t for t in traces if t.trace_id == parent_tid)
    child = next(s for s in joined.spans if s.agent and s.agent.name == "child-agent")
    assert child.parent_span_id == joined.roots()[0].span_id
    assert child.resource.service_name == "child"
    linked = next(t for t in traces if t.trace_id != parent_tid)
    assert linked.spans[0].links[0].trace_id == parent_tid
