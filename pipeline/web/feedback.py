"""Ops feedback on the complaint model: verdicts from the pages to `alerts.actions` (the sink writes them to ClickHouse
`complaint_feedback`), and measured alert precision per brand. Parameterized SQL only (feedback_sql).

  POST /api/alerts/{id}/not_complaint        the alert was not a complaint (a false alarm)
  POST /api/alerts/{id}/complaint            the alert was a complaint (confirmed)
  POST /api/mentions/{id}/missed_complaint   a mention the model did not flag was a complaint
  GET  /api/precision?days=7                 per brand: complaint alerts, reviewed, not complaints, precision

The POSTs take `{"by": "ann"}` (optional, as ack/resolve) and answer 202 with the action, 400 for a malformed id or
body, 404 for an id ClickHouse does not know (an alert seen live counts as known), 409 for a verdict that does not
fit (a spike alert; "missed" on a mention the model flagged), 503 when ClickHouse or Kafka is down.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Optional

from aiohttp import web

from pipeline.adapters.clickhouse.feedback_sql import ALERT_REF_SQL, MENTION_REF_SQL, PRECISION_SQL
from pipeline.codec import encode
from pipeline.contract.records import MAX_ID_LEN, AlertAction
from pipeline.domain.feedback import (ALERT_VERDICTS, COMPLAINT_ALERT_TYPES, MIN_REVIEWS, PRECISION_DAYS, Precision,
                                      precision_of)
from pipeline.domain.mention import to_iso
from pipeline.web.api import FEED, QUERIES, actor, int_param, query_error, send_action
from pipeline.web.feed import AlertRef

_ALERT_ID_RE = re.compile(r"^[\x21-\x7e]{1,256}$")
#: `<channel>:<source id>`: the channel pattern of RawMention, an id of printable characters (no control codes).
_MENTION_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}:[^\x00-\x1f\x7f]{1,%d}$" % MAX_ID_LEN)
NOISY_NOTE = (f"Precision over fewer than {MIN_REVIEWS} reviewed alerts is noisy: read the interval, not the "
              "percentage.")


def _error(message: str, status: int) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _now() -> str:
    return to_iso(datetime.now(timezone.utc))


async def alert_ref(request: web.Request, alert_id: str) -> Optional[AlertRef]:
    """The alert as the live feed saw it, else as ClickHouse has it; None when neither knows it (raises when
    ClickHouse cannot be asked)."""
    ref = getattr(request.app[FEED], "recall", lambda _: None)(alert_id)
    if ref is not None:
        return ref
    rows = await request.app[QUERIES].execute(ALERT_REF_SQL, {"id": alert_id})
    return AlertRef(*rows[0]) if rows else None


async def alert_verdict(request: web.Request) -> web.Response:
    alert_id, verdict = request.match_info["alert_id"], request.match_info["verdict"]
    if verdict not in ALERT_VERDICTS:
        raise web.HTTPNotFound()
    if not _ALERT_ID_RE.match(alert_id):
        return _error("invalid alert id", 400)
    by = await actor(request)
    try:
        ref = await alert_ref(request, alert_id)
    except Exception as exc:  # noqa: BLE001
        return query_error(exc)
    if ref is None:
        return _error(f"no alert {alert_id}", 404)
    if ref.type not in COMPLAINT_ALERT_TYPES:
        return _error(f"alert {alert_id} is a {ref.type} alert, not a complaint prediction: verdicts are for "
                      "complaint alerts", 409)
    record = AlertAction(alert_id=alert_id, action=verdict, by=by, at=_now(), mention_id=ref.mention_id,
                         customer_id=ref.customer_id, brand=ref.brand, channel=ref.channel)
    return await send_action(request, record)


async def mention_verdict(request: web.Request) -> web.Response:
    mention_id, verdict = request.match_info["mention_id"], request.match_info["verdict"]
    if verdict != "missed_complaint":
        raise web.HTTPNotFound()
    if not _MENTION_ID_RE.match(mention_id):
        return _error("invalid mention id: <channel>:<id>, e.g. twitter:1790000000000000001", 400)
    by = await actor(request)
    try:
        rows = await request.app[QUERIES].execute(MENTION_REF_SQL, {"id": mention_id})
    except Exception as exc:  # noqa: BLE001
        return query_error(exc)
    if not rows:
        return _error(f"no mention {mention_id}", 404)
    customer_id, brand, channel, is_complaint = rows[0]
    if is_complaint:
        return _error(f"mention {mention_id} is flagged as a complaint already: 'missed_complaint' is for mentions "
                      "the model did not flag (mark its alert 'not_complaint' if it is none)", 409)
    record = AlertAction(alert_id="", action=verdict, by=by, at=_now(), mention_id=mention_id,
                         customer_id=customer_id, brand=brand, channel=channel)
    return await send_action(request, record)


def precision_view(p: Precision) -> dict[str, Any]:
    def r(x: Optional[float]) -> Optional[float]:
        return None if x is None else round(x, 4)

    return {"brand": p.brand, "alerts": p.alerts, "reviewed": p.reviewed, "not_complaint": p.not_complaint,
            "confirmed": p.confirmed, "precision": r(p.precision), "low": r(p.low), "high": r(p.high),
            "noisy": p.noisy}


def precision_answer(rows: list[tuple], days: int) -> dict[str, Any]:
    """Rows of PRECISION_SQL → the /api/precision answer: per brand, and `overall` over every brand."""
    brands = [precision_of(b, int(a), int(r), int(n)) for b, a, r, n in rows]
    overall = precision_of("", sum(p.alerts for p in brands), sum(p.reviewed for p in brands),
                           sum(p.not_complaint for p in brands))
    return {"days": days, "at": _now(), "min_reviews": MIN_REVIEWS, "note": NOISY_NOTE,
            "overall": precision_view(overall), "brands": [precision_view(p) for p in brands]}


async def precision(request: web.Request) -> web.Response:
    days = int_param(request, "days", PRECISION_DAYS, 1, 90)
    params = {"days": days, "types": COMPLAINT_ALERT_TYPES, "verdicts": ALERT_VERDICTS}
    try:
        rows = await request.app[QUERIES].execute(PRECISION_SQL, params)
    except Exception as exc:  # noqa: BLE001
        return query_error(exc)
    return web.json_response(precision_answer(rows, days), dumps=lambda o: encode(o).decode())
