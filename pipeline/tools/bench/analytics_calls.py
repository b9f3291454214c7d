"""What `socialpulse bench --analytics` times (pure): every ClickHouse call of the dashboard's API, of the customer
page, and every question of docs/queries.md, each with the parameters the code passes at run time. The SQL is
imported from where the code keeps it, so the benchmark always times the shipped queries."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Mapping, Sequence

from pipeline.adapters.clickhouse.feedback_sql import ALERT_VERDICTS_SQL, PERSON_VERDICTS_SQL, PRECISION_SQL
from pipeline.adapters.clickhouse.links import HISTORY_SQL
from pipeline.adapters.clickhouse.queries import QUERIES, _param
from pipeline.adapters.clickhouse.value_sql import ADVOCATES_SQL
from pipeline.domain.feedback import ALERT_VERDICTS, COMPLAINT_ALERT_TYPES, PRECISION_DAYS
from pipeline.web import api, customers

DASHBOARD, CUSTOMER_PAGE, ANALYST = "dashboard", "customer_page", "analyst"
#: The latest example date in docs/queries.md: example periods are moved by whole days to end with the year.
_EXAMPLES_END = date(2026, 12, 1)
_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@dataclass(frozen=True)
class Call:
    """One ClickHouse call: its group (dashboard, customer_page, analyst), a name saying where it comes from, SQL
    and parameters."""

    group: str
    name: str
    sql: str
    params: Mapping[str, Any]


def _ch_time(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def dashboard_calls(now: datetime, brand: str, snapshot_ids: Sequence[str]) -> list[Call]:
    """The live page's API calls (pipeline/web/api.py, feedback.py, customers.py), as the server runs them at `now`:
    the alert list and its verdicts, the KPIs (all brands and one brand), the sentiment chart, precision, advocates,
    and the ack check of one alert."""
    ids = tuple(snapshot_ids) or ("",)
    advocates = {"start": _ch_time(now - timedelta(days=30)), "end": _ch_time(now), "limit": 5}
    return [
        Call(DASHBOARD, "GET /api/alerts: snapshot", api.SNAPSHOT_SQL, {"limit": api.SNAPSHOT_LIMIT}),
        Call(DASHBOARD, "GET /api/alerts: verdicts", ALERT_VERDICTS_SQL, {"ids": ids}),
        Call(DASHBOARD, "GET /api/kpis: mentions", api.KPI_MENTIONS_SQL, {"brand": ""}),
        Call(DASHBOARD, "GET /api/kpis: alerts", api.KPI_ALERTS_SQL, {"brand": ""}),
        Call(DASHBOARD, "GET /api/kpis?brand: mentions", api.KPI_MENTIONS_SQL, {"brand": brand}),
        Call(DASHBOARD, "GET /api/kpis?brand: alerts", api.KPI_ALERTS_SQL, {"brand": brand}),
        Call(DASHBOARD, "GET /api/sentiment (24 h)", api.SENTIMENT_SQL, {"hours": 24, "brand": ""}),
        Call(DASHBOARD, "GET /api/sentiment?brand (24 h)", api.SENTIMENT_SQL, {"hours": 24, "brand": brand}),
        Call(DASHBOARD, "GET /api/precision (7 d)", PRECISION_SQL,
             {"days": PRECISION_DAYS, "types": COMPLAINT_ALERT_TYPES, "verdicts": ALERT_VERDICTS}),
        Call(DASHBOARD, "GET /api/advocates (30 d)", ADVOCATES_SQL, advocates),
        Call(DASHBOARD, "POST /api/alerts/{id}/ack: exists", api.ALERT_EXISTS_SQL, {"id": ids[0]}),
    ]


def customer_page_calls(who: str, person_id: str, linked: Sequence[str], handle: str) -> list[Call]:
    """The customer page's calls for `person_id` (`who`: "customer" or "prospect"): the search box on its
    `handle`, then every query of `GET /api/customers/{id}` (pipeline/web/customers.py `profile`), with the
    person's linked prospect ids as the server computes them."""
    p = {"id": person_id}
    params = {"id": person_id, "ids": (person_id, *sorted(linked)), "limit": customers.TIMELINE_LIMIT}
    named = [("search", customers.SEARCH_SQL, customers.search_params(handle)),
             ("profile", customers.PROFILE_SQL, p), ("identities", customers.IDENTITIES_SQL, p),
             ("linked prospects", customers.IDS_SQL, p), ("linked to", customers.LINKED_TO_SQL, p),
             ("stats", customers.STATS_SQL, params), ("value", customers.VALUE_SQL, params),
             ("open alerts", customers.OPEN_ALERTS_SQL, params), ("timeline", customers.TIMELINE_SQL, params),
             ("link history", HISTORY_SQL, {**params, "limit": customers.LINK_HISTORY_LIMIT}),
             ("verdicts", PERSON_VERDICTS_SQL, params)]
    return [Call(CUSTOMER_PAGE, f"{who}: {name}", sql, prm) for name, sql, prm in named]


def shift_examples(params: Mapping[str, Any], year_end: datetime) -> dict[str, Any]:
    """A question's example parameters with every time moved by the same whole number of days, so that the
    examples' latest date (2026-12-01) falls on the year's last day: the periods keep their lengths and order."""
    days = (year_end.date() - _EXAMPLES_END).days
    out = {}
    for k, v in params.items():
        if isinstance(v, str) and _TIME_RE.match(v):
            v = _ch_time(datetime.strptime(v, "%Y-%m-%d %H:%M:%S") + timedelta(days=days))
        out[k] = v
    return out


def analyst_calls(year_end: datetime, brand: str, customer_id: str) -> list[Call]:
    """Every question of docs/queries.md with its example parameters (periods moved to the end of the year, the
    benchmark's busiest brand and a real customer)."""
    out = []
    for q in QUERIES:
        params = shift_examples(q.params, year_end)
        if "brand" in params:
            params["brand"] = brand
        if "customer_id" in params:
            params["customer_id"] = customer_id
        out.append(Call(ANALYST, q.name, q.sql, {k: _param(v) for k, v in params.items()}))
    return out
