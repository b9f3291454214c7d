"""Complaint feedback in a real headless Chromium against the running stack (real Kafka, ClickHouse and worker):
"Not a complaint" and "Is a complaint" on live alert cards are recorded (the card says so, ClickHouse has the rows),
the precision panel shows the brand, "Missed complaint" on the customer page's timeline is recorded, and the
banner warns when the dashboard has no brands configured (and only then)."""
from __future__ import annotations

import dataclasses
import re
import uuid

import pytest

from .conftest import wait_for_rows
from .dashboard_thread import DashboardThread
from .test_complaint_feedback import case, publish
from .test_dashboard_browser import ARTIFACTS, chromium_or_skip, signed_in_page

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def unbranded_dashboard(s, tmp_path):
    """The dashboard with no brands configured (no SOCIALPULSE_BRANDS_FILE, no brands.yml in its data dir)."""
    token = "test-" + uuid.uuid4().hex
    d = DashboardThread(dataclasses.replace(s, dashboard_token=token, brands_file="", data_dir=tmp_path), token)
    d.start()
    yield d
    d.stop()


def test_verdicts_from_cards_and_timeline_precision_panel_and_no_brands_banner(s, unbranded_dashboard, brand):
    chromium_or_skip()
    d = unbranded_dashboard
    cid, (false_alarm, real, missed), (a_false, a_real, spike) = case(brand)
    ARTIFACTS.mkdir(exist_ok=True)
    with signed_in_page(f"{d.url}?token={d.token}") as page:
        console_errors: list[str] = []
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.wait_for_selector("#conn.conn-live", timeout=30_000)

        # the banner: this dashboard has no brands
        banner = page.locator("#config-warning")
        banner.wait_for(state="visible", timeout=30_000)
        assert banner.inner_text().startswith("No brands configured: complaints at brand handles not in brands.yml")
        assert "socialpulse brands suggest" in banner.inner_text()

        # the alerts arrive live; a spike gets no verdict buttons
        publish(s, [false_alarm, real, missed], [a_false, a_real, spike])
        cards = {a.alert_id: page.locator(f'article.alert[data-alert-id="{a.alert_id}"]')
                 for a in (a_false, a_real, spike)}
        for card in cards.values():
            card.wait_for(state="visible", timeout=60_000)
        assert cards[spike.alert_id].locator("button.verdict").count() == 0

        page.fill("#f-by", "ann")
        cards[a_false.alert_id].locator("button.verdict-not").click()
        chip = cards[a_false.alert_id].locator(".verdict-chip")
        chip.wait_for(timeout=15_000)
        assert chip.inner_text() == "Recorded: not a complaint · by ann"
        assert cards[a_false.alert_id].locator("button.verdict-not").is_disabled()
        cards[a_real.alert_id].locator("button.verdict-yes").click()
        cards[a_real.alert_id].locator(".verdict-chip").filter(has_text="Recorded: a complaint").wait_for(
            timeout=15_000)
        rows = wait_for_rows(s, "SELECT alert_id, verdict, `by` FROM complaint_feedback FINAL WHERE brand = %(b)s "
                                "ORDER BY verdict", {"b": brand},
                             [(a_real.alert_id, "complaint", "ann"), (a_false.alert_id, "not_complaint", "ann")])
        assert rows == [(a_real.alert_id, "complaint", "ann"), (a_false.alert_id, "not_complaint", "ann")]

        # the precision panel: this brand, 2 of 2 complaint alerts reviewed, one false alarm, few reviews
        row = page.locator(f'#precision tr[data-brand="{brand}"]')
        # refreshed two seconds after each verdict (and every minute): wait for the second one's
        row.locator(".reviewed").filter(has_text=re.compile(r"^2 of 2$")).wait_for(timeout=75_000)
        assert row.locator(".precision").inner_text() == "50%"
        assert "noisy" in (row.get_attribute("class") or "")
        assert "noisy" in page.locator("#precision-note").inner_text()
        page.screenshot(path=str(ARTIFACTS / "dashboard-feedback.png"), full_page=True)

        # after a reload the cards still show the verdicts (from ClickHouse)
        page.reload()
        page.wait_for_selector("body[data-snapshot]", timeout=30_000)
        page.locator(f'article.alert[data-alert-id="{a_false.alert_id}"] .verdict-chip').filter(
            has_text="not a complaint").wait_for(timeout=30_000)

        # the customer page: "Missed complaint" on the mention the model did not flag, none on the flagged ones
        page.goto(f"{d.url}customer#{cid}")
        page.wait_for_selector(f'body[data-profile="{cid}"]', timeout=30_000)
        item = page.locator(f'#p-timeline li.tl-mention[data-ref="{missed.mention_id}"]')
        assert page.locator(f'#p-timeline li.tl-mention[data-ref="{real.mention_id}"] button.missed').count() == 0
        item.locator("button.missed").click()
        item.locator(".verdict-chip").filter(has_text=re.compile(r"^Recorded: missed complaint")).wait_for(
            timeout=15_000)
        assert wait_for_rows(s, "SELECT verdict, alert_id FROM complaint_feedback FINAL WHERE mention_id = %(m)s",
                             {"m": missed.mention_id}, [("missed_complaint", "")]) == [("missed_complaint", "")]
        # the open alert cards of the customer page carry the verdicts too
        assert "not a complaint" in page.locator(
            f'#p-alerts article.alert[data-alert-id="{a_false.alert_id}"] .verdict-chip').inner_text()
        page.screenshot(path=str(ARTIFACTS / "customer-feedback.png"), full_page=True)
        assert [e for e in console_errors if "Content Security Policy" in e] == []


def test_no_banner_when_brands_are_configured(s):
    chromium_or_skip()
    assert s.brands_file  # the session's stack runs with the sample brands
    token = "test-" + uuid.uuid4().hex
    d = DashboardThread(dataclasses.replace(s, dashboard_token=token), token)
    d.start()
    try:
        with signed_in_page(f"{d.url}?token={d.token}") as page:
            page.locator("#k-updated").filter(has_text=re.compile(r"\d")).wait_for(timeout=30_000)  # KPIs answered
            assert page.locator("#config-warning").is_hidden()
    finally:
        d.stop()
