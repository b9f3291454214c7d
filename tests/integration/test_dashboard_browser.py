"""The dashboard in a real headless Chromium against the running stack (real Kafka, ClickHouse and worker):
a complaint produced to mentions.raw appears on the open page by SSE (no reload), its hostile text is shown as
text, and Ack reaches ClickHouse through alerts.actions and the worker's sink."""
from __future__ import annotations

import contextlib
import re
import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

from pipeline.codec import encode
from pipeline.contract import topics
from pipeline.domain.escalation import alert_id as make_alert_id
from pipeline.domain.identity import author_key
from pipeline.domain.mention import to_iso
from pipeline.settings import Settings

from .conftest import produce, wait_for_rows
from .dashboard_thread import debian_tool_or_skip

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HOSTILE_TAIL = "<img src=x onerror=alert(1)>"


def chromium_or_skip() -> str:
    """/usr/bin/chromium, installing Debian's package once if it is missing and we are root; else skip."""
    return debian_tool_or_skip(CHROMIUM, "chromium")


@contextlib.contextmanager
def signed_in_page(login_url: str, width: int = 1440, *, self_signed: bool = False) -> Iterator[Any]:
    """A headless Chromium page that opened `login_url` (…/?token=…: the session cookie is set) and has the live
    page's first snapshot; the browser is closed on exit. `self_signed`: accept the test proxy's certificate."""
    chromium = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        flags = CHROMIUM_FLAGS + (["--ignore-certificate-errors"] if self_signed else [])
        browser = pw.chromium.launch(executable_path=chromium, args=flags)
        try:
            page = browser.new_page(viewport={"width": width, "height": 1000}, ignore_https_errors=self_signed)
            page.goto(login_url)
            page.wait_for_selector("body[data-snapshot]", timeout=30_000)
            yield page
        finally:
            browser.close()


def mention(brand: str, text: str, author: str, created_at: datetime, *, channel: str = "twitter",
            followers: int | None = None) -> dict:
    doc = {"id": uuid.uuid4().hex, "channel": channel, "author": author, "text": text, "brand": brand,
           "created_at": to_iso(created_at)}
    if followers is not None:
        doc["author_followers"] = followers
    return doc


def send(s: Settings, docs: list[dict]) -> None:
    produce(s, topics.RAW, [(author_key(d["channel"], d["author"]).encode(), encode(d)) for d in docs])


POSITIVE = ["Loved the crew today, thank you!", "Smooth check-in and a great lounge, well done",
            "Best flight I've had in years, amazing service", "Quick boarding, friendly staff, happy customer"]
NEUTRAL = ["Flying out tomorrow morning", "Which terminal is the evening flight from?", "On board now",
           "Changed my seat in the app"]
# Negative but not complaints (per the shipped model), so the history moves the chart without flooding the alerts.
NEGATIVE = ["The food was bad and the seat was uncomfortable", "So sad to leave Lisbon today",
            "Missing the beach already :("]


def background_mentions(brands: dict[str, float], now: datetime) -> list[dict]:
    """A day of mentions per brand (share of negatives per brand), so the chart and KPIs have something to show."""
    docs = []
    for brand, negative_share in brands.items():
        for hour in range(14, -1, -1):
            for k in range(4):
                pool = NEGATIVE if (hour * 4 + k) % 10 < negative_share * 10 else (POSITIVE if k % 2 else NEUTRAL)
                text = pool[(hour + k) % len(pool)]
                at = now - timedelta(hours=hour, minutes=7 * k + 1)
                docs.append(mention(brand, text, f"fan{k}_{brand}", at))
    return docs


def test_alert_arrives_live_escaped_and_ack_reaches_clickhouse(s, dashboard):
    chromium = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    suffix = uuid.uuid4().hex[:5]
    brand, other, third = f"aerolux-{suffix}", f"skyway-{suffix}", f"nimbus-{suffix}"
    now = datetime.now(timezone.utc)

    # Some history first: it reaches the page through the ClickHouse snapshot, the KPIs and the chart.
    send(s, background_mentions({brand: 0.3, other: 0.1, third: 0.5}, now))
    # An influential author complaining again and again escalates (high, then critical past the cooldown).
    escalating = [
        "@skyway you lost my luggage AGAIN and nobody answers the phone. Worst airline ever, I want my money back",
        "@skyway still no bag, still no answer. Your support is useless and I want a refund",
        "@skyway day three without my luggage. Nobody calls back. This is a disgrace, refund me now",
        "@skyway I have complained four times now and you keep ignoring me. Terrible, unacceptable service",
    ]
    earlier = [
        *(mention(other, text, f"frequentflyer_{suffix}", now - timedelta(minutes=26 - 3 * i), followers=2_500_000)
          for i, text in enumerate(escalating)),
        mention(third, "My refund is three weeks late and support keeps closing my ticket. Unacceptable.",
                f"angrycustomer_{suffix}", now - timedelta(minutes=12), channel="facebook"),
        mention(brand, "the app crashed twice while I was trying to check in, annoying",
                f"commuter_{suffix}", now - timedelta(minutes=8)),
    ]
    send(s, earlier)
    wait_for_rows(s, "SELECT count() >= 3 FROM alerts FINAL WHERE brand IN %(b)s", {"b": (brand, other, third)},
                  [(True,)], timeout=60)  # best effort: which of them the model calls complaints is its business

    # On the support channel: addressed to the brand by construction (this session's worker has no brands file,
    # so "@aerolux" on twitter would be a handle of nobody's brand, a conversation, not a complaint).
    hostile = mention(brand, f"@aerolux cancelled my flight and lost my bag, I want a refund now! {HOSTILE_TAIL}",
                      f"traveller_{suffix}", datetime.now(timezone.utc), channel="support", followers=120)
    expected_id = make_alert_id("complaint", f"{hostile['channel']}:{hostile['id']}")

    ARTIFACTS.mkdir(exist_ok=True)
    dialogs: list[str] = []
    console_errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

            page.goto(f"{dashboard.url}?token={dashboard.token}")
            assert "token" not in page.url  # traded for the HttpOnly cookie, gone from the address bar
            page.wait_for_selector("#conn.conn-live", timeout=30_000)
            page.wait_for_selector("body[data-snapshot]", timeout=30_000)  # the snapshot from ClickHouse
            page.evaluate("window.__noReload = 'still-here'")

            send(s, [hostile])
            card = page.locator(f'article.alert[data-alert-id="{expected_id}"]')
            card.wait_for(state="visible", timeout=90_000)
            assert page.evaluate("window.__noReload") == "still-here"  # arrived by SSE, no reload

            # Hostile text is shown as text: no element was created from it and no script ran.
            text = card.locator(".alert-text").inner_text()
            assert text.endswith(HOSTILE_TAIL), text
            assert card.locator("img").count() == 0
            assert page.locator("img").count() == 0
            assert dialogs == []
            assert card.locator(".alert-brand").inner_text() == brand
            assert card.locator(".sev-chip").inner_text().lower() in {"low", "medium", "high", "critical"}

            # Filter by brand: only this brand's cards remain.
            page.select_option("#f-brand", brand)
            brands_shown = set(page.locator("article.alert .alert-brand").all_inner_texts())
            assert brands_shown == {brand}
            page.select_option("#f-brand", "")

            card.locator("button.ack").click()
            card.locator(".status-chip.status-acked").wait_for(timeout=15_000)
            rows = wait_for_rows(s, "SELECT status FROM alerts FINAL WHERE alert_id = %(id)s", {"id": expected_id},
                                 [("acked",)], timeout=90)
            assert rows == [("acked",)]

            # Let the KPI strip and chart finish, then keep a screenshot for people to look at.
            # The KPI strip counts our ack once the sink has written it (refreshed after the action).
            # (locators, not wait_for_function: the page's CSP forbids the eval that a string predicate needs)
            page.locator("#k-acked").filter(has_text=re.compile(r"^[1-9][0-9]*$")).wait_for(timeout=30_000)
            page.wait_for_selector("#chart svg path.series", timeout=30_000)
            page.locator(f"#legend li:has-text('{brand}')").wait_for(timeout=15_000)
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"))
            page.screenshot(path=str(ARTIFACTS / "dashboard-full.png"), full_page=True)
            assert dialogs == []
            csp = [e for e in console_errors if "Content Security Policy" in e]
            assert csp == [], csp
        finally:
            browser.close()


def write_sample_copy(path: Path, suffix: str) -> dict[str, int]:
    """The bundled sample's valid mentions with their (past) created_at, brands renamed `<brand>-<suffix>` and ids
    made unique to this test, as JSONL.gz; returns distinct mentions per renamed brand (the sample repeats some)."""
    import gzip

    import msgspec

    from pipeline.domain.mention import Rejected, decode_mention
    from pipeline.tools.sample.generator import iter_lines, sample_dir

    per_brand: dict[str, set[str]] = {}
    with gzip.open(path, "wb") as out:
        for line in iter_lines(sample_dir() / "mentions.jsonl.gz"):
            try:
                decode_mention(line)
            except Rejected:
                continue  # the sample's deliberate junk: dead-lettered, not what this test looks at
            d = msgspec.json.decode(line)
            d["id"] = f"{suffix}-{d['id']}"
            if d.get("brand"):
                d["brand"] = f"{d['brand']}-{suffix}".lower()
                per_brand.setdefault(d["brand"], set()).add(f"{d['channel']}:{d['id']}")
            out.write(encode(d) + b"\n")
    return {brand: len(ids) for brand, ids in per_brand.items()}


def test_a_replay_shifted_to_now_fills_the_default_window(s, dashboard, tmp_path):
    """The demo's data is a week in the past; `replay --shift-to-now` ends it in the current hour, so the chart's
    default 24 h window shows every brand's last day instead of "no mentions in this period"."""
    import sys

    from pipeline.ops.stack import settings_env

    chromium_or_skip()  # before the replay: a machine without Chromium skips at once

    suffix = uuid.uuid4().hex[:5]
    path = tmp_path / "sample-copy.jsonl.gz"
    per_brand = write_sample_copy(path, suffix)
    assert len(per_brand) == 4
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "replay", "--shift-to-now", "--no-progress",
                          str(path)], env=settings_env(s), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert re.search(r"created_at shifted by \(hours\): [1-9][0-9]*", out.stdout), out.stdout
    expected = sorted(per_brand.items())
    rows = wait_for_rows(s, "SELECT brand, count() FROM mentions FINAL WHERE brand IN %(b)s GROUP BY brand "
                            "ORDER BY brand", {"b": tuple(per_brand)}, expected, timeout=300)
    assert rows == expected
    # In ClickHouse the copy now spans the five days up to the current hour.
    from pipeline.adapters.clickhouse.client import client

    c = client(s)
    try:
        first, last = (t.replace(tzinfo=None) for t in c.execute(
            "SELECT min(created_at), max(created_at) FROM mentions FINAL WHERE brand IN %(b)s",
            {"b": tuple(per_brand)})[0])
    finally:
        c.disconnect()
    hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    assert hour - timedelta(hours=1) <= last < hour + timedelta(hours=1)  # the previous hour if the clock turned
    assert timedelta(days=4, hours=23) < last - first < timedelta(days=5)

    ARTIFACTS.mkdir(exist_ok=True)
    with signed_in_page(f"{dashboard.url}?token={dashboard.token}") as page:
        assert page.locator("#f-hours").input_value() == "24"  # the default window, untouched
        for brand in per_brand:
            page.locator(f"#legend li:has-text('{brand}')").wait_for(timeout=30_000)
        assert page.locator("#chart text.nodata").count() == 0
        assert "no mentions in this period" not in page.locator("#chart").inner_text()
        # Every hour of the window has a point per brand (23 when the clock turned an hour since the replay).
        tips = page.locator("#chart svg circle title").all_text_contents()
        for brand in per_brand:
            hours = sum(1 for t in tips if t.startswith(brand + " · "))
            assert 23 <= hours <= 24, (brand, hours)
        page.screenshot(path=str(ARTIFACTS / "dashboard-shifted-sample.png"))

