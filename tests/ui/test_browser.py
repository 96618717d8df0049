"""The web UI in headless Debian Chromium, driven by Playwright, against a real server."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright

import tracevault
from tests.conftest import RunningServer
from tests.ui._bigtrace import big_trace

pytestmark = pytest.mark.slow

BIG = "b1" * 16
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("the UI tests need Debian's Chromium (apt-get install chromium); "
                    "scripts/test.sh installs it")
    return path


@pytest.fixture(scope="module")
def ui_store(demo_store, tmp_path_factory) -> tuple[Path, list]:
    """The demo's runs and a 10,000-span trace."""
    path = tmp_path_factory.mktemp("ui") / "ui.duckdb"
    shutil.copy(demo_store[0], path)
    big = path.parent / "big.json"
    big.write_text(json.dumps(big_trace(BIG, time.time_ns() - 3_600 * 10**9)))
    with tracevault.open(str(path)) as vault:
        assert vault.import_file(big)["spans"] == 10_000
    return path, demo_store[1]


@pytest.fixture(scope="module")
def server(ui_store):
    with RunningServer(ui_store[0], grpc=False) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A page that records every request it makes and every script error."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    p = context.new_page()
    p.requests, p.errors = [], []
    p.on("request", lambda r: p.requests.append(r.url))
    p.on("pageerror", lambda e: p.errors.append(str(e)))
    p.base = server.url
    yield p
    hosts = {urlsplit(u).hostname for u in p.requests if not u.startswith(("data:", "blob:"))}
    assert hosts <= {"127.0.0.1"}, f"requests left localhost: {hosts}"
    assert not p.errors, p.errors
    context.close()


def _shot(page: Page, path: Path) -> None:
    """Screenshot, checked to show something: many non-white pixels, several colours."""
    page.screenshot(path=str(path))
    image = Image.open(path).convert("RGB")
    gray = image.convert("L").histogram()
    inked = sum(gray[:200])
    assert inked > 0.01 * image.width * image.height, f"{path.name} is blank"
    colours = image.quantize(colors=64).getcolors()
    assert len(colours) >= 8, f"{path.name} has {len(colours)} colours"


def _run(runs, variant):
    return next(r for r in runs if r.variant == variant).trace_id


def test_find_open_expand_and_read_a_model_call(page, server, ui_store, tmp_path) -> None:
    store, runs = ui_store
    page.goto(page.base + "/")
    expect(page.locator(".trace-row")).to_have_count(4)  # three demo runs, the big trace
    _shot(page, tmp_path / "list.png")

    # The filter language, with the API's own error message and the column marked.
    page.fill("#filter", "kind = = llm")
    page.click("#apply")
    api = httpx.get(page.base + "/api/traces", params={"filter": "kind = = llm"}).json()
    expect(page.locator("#filter-error")).to_contain_text(api["message"])
    assert page.inner_text("#filter-error").splitlines()[-1] == " " * 7 + "^"
    page.fill("#filter", "trace.status = error")
    page.click("#apply")
    expect(page.locator(".trace-row")).to_have_count(1)
    bad = _run(runs, "bad_research")
    assert page.get_attribute(".trace-row", "data-trace-id") == bad

    page.click(".trace-row")
    expect(page.locator(".view[data-ready]")).to_have_count(1)
    shown = page.locator(".row").count()
    collapsed = page.locator('.row .toggle[aria-expanded="false"]').first
    collapsed.click()
    expect(page.locator(".row")).not_to_have_count(shown)
    assert page.locator(".row").count() > shown

    # The researcher's wrong answer: every input message, roles rendered.
    trace = httpx.get(f"{page.base}/api/traces/{bad}").json()
    llm = next(s for s in trace["spans"] if s["kind"] == "llm"
               and "version 1" in json.dumps(s["detail"]["output_messages"]))
    page.goto(f"{page.base}/#/trace/{bad}?span={llm['span_id']}")
    messages = page.locator(".span-detail .input-messages .msg")
    expect(messages).to_have_count(len(llm["detail"]["input_messages"]))
    roles = [m["role"] for m in llm["detail"]["input_messages"]]
    assert [r.lower() for r in page.locator(".input-messages .msg .role").all_inner_texts()] \
        == roles
    expect(page.locator(".input-messages")).to_contain_text("version 2 (current)")
    expect(page.locator(".output-messages")).to_contain_text("Use config schema version 1")
    expect(page.locator(f'.row.selected[data-span-id="{llm["span_id"]}"]')).to_have_count(1)
    _shot(page, tmp_path / "trace.png")

    # Reads through the UI are in the access log as such.
    log = httpx.get(page.base + "/api/audit").json()["entries"]
    assert any(e["action"] == "read.span" and e["via"] == "ui" and llm["span_id"] in e["target"]
               for e in log)


def test_joined_view_has_lanes_per_agent_and_messages(page, ui_store, tmp_path) -> None:
    bad = _run(ui_store[1], "bad_research")
    page.goto(f"{page.base}/#/trace/{bad}")
    page.click("#joined-link")
    expect(page.locator("#lanes")).to_have_count(1)
    assert set(page.locator(".lane-name").all_inner_texts()) >= {"planner", "researcher",
                                                                "coder"}
    arrows = page.locator('.lane-entry[data-kind="message"]')
    pairs = {(arrows.nth(i).get_attribute("data-sender"),
              arrows.nth(i).get_attribute("data-receiver")) for i in range(arrows.count())}
    assert {("planner", "coder"), ("coder", "planner"), ("planner", "researcher")} <= pairs
    expect(page.locator('.lane-entry[data-agent="coder"]').first).to_be_visible()
    _shot(page, tmp_path / "joined.png")
    page.locator('.lane-entry[data-agent="coder"][data-kind="tool"]').first.click()
    expect(page.locator(".span-detail")).to_have_count(1)


def test_diff_view_shows_where_two_runs_differ(page, ui_store, tmp_path) -> None:
    good, bad = _run(ui_store[1], "good"), _run(ui_store[1], "bad_research")
    page.goto(f"{page.base}/#/traces?filter=trace.name%20%3D%20%22invoke_agent%20planner%22")
    rows = page.locator(".trace-row")
    expect(rows).to_have_count(3)
    for trace_id in (good, bad):
        page.locator(f'.trace-row[data-trace-id="{trace_id}"] .pick').check()
    page.click("#compare")
    expect(page.locator("#diff-steps")).to_have_count(1)
    api = httpx.get(page.base + "/api/diff", params={"a": good, "b": bad}).json()
    changed = [s for s in api["steps"] if not s["same"] or s["context_changed"]]
    expect(page.locator("#diff-steps tr.changed")).to_have_count(len(changed))
    expect(page.locator("#diff-steps")).to_contain_text("Use config schema version 1")
    _shot(page, tmp_path / "diff.png")


def test_a_10000_span_trace_opens_in_under_3_seconds(page) -> None:
    page.goto(page.base + "/")
    expect(page.locator(".trace-row").first).to_be_visible()
    started = time.perf_counter()
    page.goto(f"{page.base}/#/trace/{BIG}")
    navigated = time.perf_counter()
    page.wait_for_selector(".view[data-ready] .row", state="attached")
    elapsed = time.perf_counter() - started
    ready = page.get_attribute(".view", "data-ready")
    assert elapsed < 3.0, (f"{elapsed:.2f} s (navigation {navigated - started:.2f} s; the "
                           f"view was drawn {ready} ms after its route started)")
    expect(page.locator("#span-count")).to_contain_text("of 10,000 spans")
    page.click("#expand-all")
    expect(page.locator("#span-count")).to_have_text("10,000 of 10,000 spans shown")


def test_with_api_keys_the_ui_asks_for_one(browser, ui_store, tmp_path) -> None:
    path = tmp_path / "keys.duckdb"
    shutil.copy(ui_store[0], path)
    with RunningServer(path, "--api-keys", "ui-key-1=default", grpc=False) as srv:
        context = browser.new_context()
        p = context.new_page()
        p.goto(srv.url + "/")
        expect(p.locator("#api-key")).to_be_visible()
        p.fill("#api-key", "wrong")
        p.click("button[type=submit]")
        expect(p.locator(".login .error")).to_contain_text("unknown API key")
        p.fill("#api-key", "ui-key-1")
        p.click("button[type=submit]")
        expect(p.locator(".trace-row")).to_have_count(4)
        context.close()


def test_the_trace_view_shows_its_scores(page, ui_store) -> None:
    bad = _run(ui_store[1], "bad_research")
    r = httpx.post(page.base + "/api/scores", json={"scores": [
        {"name": "review", "label": "wrong schema", "trace_id": bad, "source": "human",
         "passed": False}]})
    assert r.status_code == 200, r.text
    page.goto(f"{page.base}/#/trace/{bad}")
    expect(page.locator("#scores")).to_contain_text("review: wrong schema")
    expect(page.locator("#scores .score-fail")).to_have_count(1)
