"""The social-CRM side on the running stack (real Kafka, ClickHouse and worker): manual identity links from the
CLI (history moves, audit rows, clear errors, unlink), and the customer 360 page in a real headless Chromium
(search by e-mail, masked addresses, timeline across channels, ack from the page, a prospect linked from its
page, alert cards and the advocates panel linking to customers, a complaint posted over HTTP shown live)."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.codec import encode
from pipeline.contract import topics
from pipeline.domain.escalation import alert_id as make_alert_id
from pipeline.domain.identity import author_key, prospect_id
from pipeline.domain.mention import to_iso
from pipeline.ops.stack import settings_env
from pipeline.settings import Settings

from .conftest import produce, wait_for_rows
from .dashboard_thread import DashboardThread
from .test_dashboard_browser import ARTIFACTS, chromium_or_skip, signed_in_page

pytestmark = pytest.mark.integration


def mention(brand: str, text: str, author: str, *, channel: str = "twitter", followers: int | None = None,
            minutes_ago: float = 1.0) -> dict:
    doc = {"id": uuid.uuid4().hex, "channel": channel, "author": author, "text": text, "brand": brand,
           "created_at": to_iso(datetime.now(timezone.utc) - timedelta(minutes=minutes_ago))}
    if followers is not None:
        doc["author_followers"] = followers
    return doc


def send(s: Settings, docs: list[dict]) -> None:
    produce(s, topics.RAW, [(author_key(d["channel"], d["author"]).encode(), encode(d)) for d in docs])


def load_customer(s: Settings, tmp_path, cid: str, handle: str, email: str, *, ltv: float = 4000.0,
                  followers: int = 900) -> None:
    from pipeline.ops.customers import load_customers

    path = tmp_path / f"{cid}.jsonl"
    path.write_text(json.dumps({"customer_id": cid, "name": "Robin Example", "emails": [email], "tier": "gold",
                                "lifetime_value": ltv, "followers": followers,
                                "identities": [{"channel": "twitter", "handle": handle}]}) + "\n")
    assert load_customers(s, path, progress=False).sent == 2
    assert wait_for_rows(s, "SELECT count() FROM identities FINAL WHERE customer_id = %(c)s AND NOT is_prospect",
                         {"c": cid}, [(2,)], timeout=60) == [(2,)]


def cli(s: Settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], env=settings_env(s), capture_output=True,
                          text=True, timeout=120)


def owner_of_next_mention(s: Settings, brand: str, author: str, expected: str, timeout: float = 45.0) -> str:
    """Post probes from `author` until one is attributed to `expected` (the worker applies identity changes for
    the next mention, not at a given instant); returns the last attribution seen."""
    from pipeline.adapters.clickhouse.client import client

    c = client(s)
    seen = ""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            probe = mention(brand, "just checking in", author, minutes_ago=0)
            send(s, [probe])
            rows: list = []
            for _ in range(40):
                rows = c.execute("SELECT customer_id FROM mentions FINAL WHERE mention_id = %(m)s",
                                 {"m": f"twitter:{probe['id']}"})
                if rows:
                    break
                time.sleep(0.25)
            seen = rows[0][0] if rows else seen
            if seen == expected:
                return seen
        return seen
    finally:
        c.disconnect()


def post_mentions(url: str, token: str, docs: list[dict]) -> tuple[int, dict]:
    """POST /api/mentions as an integrating service would (JSON array, ingest token)."""
    req = urllib.request.Request(url + "api/mentions", data=json.dumps(docs).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, json.load(r)


def test_cli_link_moves_a_prospects_history_is_audited_and_unlinks(s, brand, tmp_path):
    cid = "C-" + uuid.uuid4().hex[:8]
    fan = f"Fan_{brand}"
    pid = prospect_id(f"twitter:{fan.lower()}")
    load_customer(s, tmp_path, cid, f"own_{brand}", f"{brand}@example.com")
    send(s, [mention(brand, "Loving the new lounge, great job!", fan, followers=20_000, minutes_ago=30),
             mention(brand, "Quick boarding today, thanks", fan, followers=20_000, minutes_ago=20)])
    assert wait_for_rows(s, "SELECT count() FROM mentions FINAL WHERE customer_id = %(p)s", {"p": pid},
                         [(2,)]) == [(2,)]

    # Mistakes get one line and exit 2, no traceback.
    for args, fragment in ((("twitter", fan, "C-nobody"), "unknown customer 'C-nobody'"),
                           (("twitter", fan, pid), "is not a customer id"),
                           (("Twit ter", fan, cid), "lowercase word"),
                           (("email", "not-an-address", cid), "e-mail address")):
        out = cli(s, "customers", "link", *args)
        assert out.returncode == 2 and fragment in out.stderr and "Traceback" not in out.stderr, out.stderr
    out = cli(s, "customers", "unlink", "twitter", f"nobody_{brand}")
    assert out.returncode == 2 and "belongs to no customer" in out.stderr, out.stderr

    out = cli(s, "customers", "link", "twitter", "@" + fan.upper(), cid, "--by", "ann")
    assert out.returncode == 0, out.stderr
    assert f"linked twitter:{fan.lower()} to {cid}" in out.stdout and pid in out.stdout
    # The prospect's past is the customer's now (timeline, and the audit says who did it).
    assert wait_for_rows(s, "SELECT customer_id FROM prospect_links FINAL WHERE prospect_id = %(p)s", {"p": pid},
                         [(cid,)]) == [(cid,)]
    assert wait_for_rows(s, "SELECT count() FROM v_customer_timeline(customer_id = %(c)s) WHERE kind = 'mention'",
                         {"c": cid}, [(2,)]) == [(2,)]
    audit = wait_for_rows(s, "SELECT action, identity_key, customer_id, previous_customer_id, prospect_id, `by`, "
                             "source FROM identity_links FINAL WHERE prospect_id = %(p)s ORDER BY at", {"p": pid},
                          [("link", f"twitter:{fan.lower()}", cid, "", pid, "ann", "cli")])
    assert audit == [("link", f"twitter:{fan.lower()}", cid, "", pid, "ann", "cli")]
    assert owner_of_next_mention(s, brand, fan, cid) == cid

    out = cli(s, "customers", "link", "twitter", fan, cid)
    assert out.returncode == 2 and "already belongs" in out.stderr

    out = cli(s, "customers", "unlink", "twitter", fan, "--by", "bo")
    assert out.returncode == 0 and f"unlinked twitter:{fan.lower()} from {cid}" in out.stdout, out.stderr
    assert wait_for_rows(s, "SELECT count() FROM prospect_links FINAL WHERE prospect_id = %(p)s", {"p": pid},
                         [(0,)]) == [(0,)]
    assert wait_for_rows(s, "SELECT action, `by` FROM identity_links FINAL WHERE prospect_id = %(p)s ORDER BY at",
                         {"p": pid}, [("link", "ann"), ("unlink", "bo")]) == [("link", "ann"), ("unlink", "bo")]
    assert owner_of_next_mention(s, brand, fan, pid) == pid


def test_customer_page_search_timeline_ack_and_link_in_chromium(s, brand, tmp_path):
    chromium_or_skip()  # before loading data: a machine without Chromium skips at once

    cid = "C-" + uuid.uuid4().hex[:8]
    handle, email = f"robin_{brand}", f"robin.{brand}@example.com"
    stranger = f"stranger_{brand}"
    pid = prospect_id(f"twitter:{stranger}")
    load_customer(s, tmp_path, cid, handle, email, ltv=7500.0)
    complaint = mention(brand, f"@aerolux cancelled my flight and lost my bag, I want a refund now! Write to {email}",
                        email, channel="support", minutes_ago=5)
    alert_id = make_alert_id("complaint", f"support:{complaint['id']}")
    send(s, [
        # An influential customer who loves the brand: the 30-day advocates panel's top entry.
        mention(brand, "Absolutely love this airline, best crew ever, thank you!", handle, followers=80_000_000,
                minutes_ago=50),
        mention(brand, "Great flight again, wonderful service", handle, followers=80_000_000, minutes_ago=40),
        mention(brand, "Nice seats on the new plane", stranger, minutes_ago=10),
    ])
    assert wait_for_rows(s, "SELECT count() FROM mentions FINAL WHERE brand = %(b)s", {"b": brand},
                         [(3,)]) == [(3,)]

    token, ingest = "test-" + uuid.uuid4().hex, "ingest-" + uuid.uuid4().hex
    dashboard = DashboardThread(dataclasses.replace(s, dashboard_token=token, ingest_token=ingest), token)
    dashboard.start()
    try:
        with signed_in_page(f"{dashboard.url}?token={dashboard.token}", width=1280) as page:
            # The live page: the advocates panel leads to the customer; a complaint posted over HTTP arrives
            # as a card (by SSE, no reload) that leads there too.
            page.locator(f'#advocates li[data-customer-id="{cid}"]').wait_for(timeout=30_000)
            assert post_mentions(dashboard.url, ingest, [complaint]) == (202, {"accepted": 1, "rejected": []})
            card = page.locator(f'article.alert[data-alert-id="{alert_id}"]')
            card.wait_for(timeout=90_000)
            wait_for_rows(s, "SELECT count() FROM mentions FINAL WHERE brand = %(b)s", {"b": brand}, [(4,)])
            wait_for_rows(s, "SELECT count() FROM alerts FINAL WHERE alert_id = %(a)s", {"a": alert_id}, [(1,)])
            card.locator("a.customer-link").click()
            page.wait_for_selector(f'body[data-profile="{cid}"]', timeout=30_000)

            # Search by e-mail (any case): one match opens the profile.
            page.goto(f"{dashboard.url}customer")
            page.fill("#q", email.upper())
            page.click("#search-go")
            page.wait_for_selector(f'body[data-profile="{cid}"]', timeout=30_000)
            content = page.locator("main").inner_text()
            assert email not in content and "r***@example.com" in content  # masked, also inside the text
            assert page.locator("#p-tier").inner_text() == "gold"
            assert page.locator("#p-ltv").inner_text().replace(",", "").replace("\u202f", "") == "7500"
            assert page.locator("#p-advocacy").inner_text().startswith("+")
            assert page.locator("#p-first").inner_text() != "–"
            channels = set(page.locator("#p-identities tbody td:first-child").all_inner_texts())
            assert channels == {"email", "twitter"}
            kinds = page.locator("#p-timeline li.tl").evaluate_all("els => els.map(e => e.dataset.kind)")
            assert kinds.count("mention") == 3 and kinds.count("alert") == 1, kinds
            times = page.locator("#p-timeline li.tl time").evaluate_all("els => els.map(e => e.dateTime)")
            assert times == sorted(times, reverse=True)  # newest first

            # Ack from the customer page reaches ClickHouse.
            own = page.locator(f'#p-alerts article.alert[data-alert-id="{alert_id}"]')
            own.locator("button.ack").click()
            own.locator(".status-chip.status-acked").wait_for(timeout=15_000)
            assert wait_for_rows(s, "SELECT status FROM alerts FINAL WHERE alert_id = %(a)s", {"a": alert_id},
                                 [("acked",)], timeout=90) == [("acked",)]

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "customer.png"), full_page=True)

            # A prospect's page links it to the customer (the same path as `customers link`).
            page.goto(f"{dashboard.url}customer#{pid}")
            page.wait_for_selector(f'body[data-profile="{pid}"]', timeout=30_000)
            assert page.locator("#p-kind").text_content() == "prospect"
            page.fill("#f-by", "ann")
            page.fill("#link-target", cid)
            page.click("#link-go")
            page.wait_for_selector(f'#link-result[data-linked="{cid}"]', timeout=30_000)
            page.goto(f"{dashboard.url}")
            page.wait_for_selector("body[data-advocates]", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "dashboard-advocates.png"))
    finally:
        dashboard.stop()
    assert wait_for_rows(s, "SELECT customer_id, `by`, source FROM identity_links FINAL WHERE prospect_id = %(p)s",
                         {"p": pid}, [(cid, "ann", "dashboard")]) == [(cid, "ann", "dashboard")]
    assert wait_for_rows(s, "SELECT customer_id FROM prospect_links FINAL WHERE prospect_id = %(p)s", {"p": pid},
                         [(cid,)]) == [(cid,)]
