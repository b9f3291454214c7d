"""Customer 360 (the social-CRM view of one person): search, profile, value, open alerts, timeline across
channels, link history, and "link to a customer" from a prospect's page. Parameterized SQL only; e-mail
addresses are masked in everything these endpoints return (identities, authors, texts).

  GET  /api/customers?q=Q                 customer id, prospect id, handle (`@bob`, `twitter:bob`) or e-mail
  GET  /api/customers/{id}                the profile of a customer or a prospect
  POST /api/customers/{prospect}/link     {"customer_id": "C-1", "by": "ann", "force": false}
  GET  /api/advocates?days=30&limit=5     top advocates and detractors by advocacy (see docs/customer_value.md)
"""
from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Optional, Sequence

from aiohttp import web

from pipeline.adapters.clickhouse.feedback_sql import PERSON_VERDICTS_SQL
from pipeline.adapters.clickhouse.links import AUDIT_COLUMNS, HISTORY_SQL
from pipeline.adapters.clickhouse.value_sql import ADVOCATES_SQL
from pipeline.codec import encode
from pipeline.domain.identity import (EMAIL_CHANNEL, email_key, is_email, is_prospect_id, mask_email, mask_key,
                                      normalise_handle)
from pipeline.domain.mention import to_iso
from pipeline.web.api import ALERT_VIEW_COLUMNS, QUERIES, SETTINGS, alert_view_from_row, int_param, iso, query_error

log = logging.getLogger(__name__)

SEARCH_LIMIT = 20
TIMELINE_LIMIT = 200
LINK_HISTORY_LIMIT = 50
MIN_PREFIX = 3
_ID_RE = re.compile(r"^[\x21-\x7e]{1,256}$")
_EMAIL_IN_TEXT_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

SEARCH_SQL = """
WITH m AS
(
    -- each branch reads a key range: identities by key, by customer id (skip index), identities_by_handle by handle
    SELECT customer_id, is_prospect, identity_key AS matched FROM identities FINAL WHERE identity_key = %(key)s
    UNION ALL
    SELECT customer_id, is_prospect, identity_key FROM identities FINAL WHERE customer_id = %(q)s
    UNION ALL
    SELECT customer_id, is_prospect, identity_key
    FROM identities_by_handle FINAL
    WHERE handle = %(handle)s OR (%(prefix)s != '' AND channel != 'email' AND startsWith(handle, %(prefix)s))
    UNION ALL
    SELECT customer_id, false, '' FROM customers FINAL WHERE customer_id = %(q)s
)
SELECT m.customer_id, max(m.is_prospect) AS is_prospect, groupUniqArray(m.matched) AS matched,
       any(c.name) AS name, any(c.tier) AS tier, any(c.lifetime_value) AS lifetime_value
FROM m
LEFT JOIN (SELECT customer_id, name, tier, lifetime_value FROM customers FINAL
           WHERE customer_id IN (SELECT customer_id FROM m)) AS c ON c.customer_id = m.customer_id
GROUP BY m.customer_id
ORDER BY is_prospect, m.customer_id
LIMIT %(limit)s
"""
PROFILE_SQL = """
SELECT name, tier, lifetime_value, followers, influence, updated_at FROM customers FINAL WHERE customer_id = %(id)s
"""
IDENTITIES_SQL = """
SELECT identity_key, channel, handle, is_prospect, updated_at
FROM identities FINAL
WHERE customer_id = %(id)s
ORDER BY channel, identity_key
"""
#: The ids whose mentions are this person's: the id itself and, for a customer, the prospects linked to it.
IDS_SQL = """
SELECT prospect_id FROM prospect_links FINAL WHERE customer_id = %(id)s AND prospect_id != ''
"""
LINKED_TO_SQL = """
SELECT customer_id FROM prospect_links FINAL WHERE prospect_id = %(id)s AND customer_id != ''
"""
#: The copy may hold a mention under two of the person's ids (replayed under the customer's id after its prospect
#: id was linked: docs/analytics.md); the latest version counts, once.
STATS_SQL = """
SELECT count(), min(created_at), max(created_at), max(influence), max(author_followers)
FROM
(
    SELECT created_at, influence, author_followers
    FROM mentions_by_customer FINAL
    WHERE customer_id IN %(ids)s
    ORDER BY processed_at DESC
    LIMIT 1 BY mention_id
)
"""
VALUE_SQL = """
SELECT referral_value, advocacy, reach, mentions, positive, negative
FROM v_customer_value_of(customer_id = %(id)s)
"""
OPEN_ALERTS_SQL = f"""
SELECT {', '.join(ALERT_VIEW_COLUMNS)}
FROM alerts_by_customer FINAL
WHERE customer_id IN %(ids)s AND status != 'resolved'
ORDER BY created_at DESC
LIMIT 50
"""
TIMELINE_COLUMNS = ("at", "kind", "ref_id", "channel", "brand", "author", "text", "sentiment_label",
                    "sentiment_compound", "is_complaint", "detail", "status")
#: The newest `limit` rows of v_customer_timeline, each side cut to its own newest `limit` first (same rows, same
#: order as the view sorted and cut: a row of the top `limit` is in the top `limit` of its side), read from the
#: customer-ordered tables by the primary key (schemas/clickhouse/007_customer_paths.sql).
TIMELINE_SQL = f"""
SELECT {', '.join(TIMELINE_COLUMNS)}
FROM
(
    SELECT created_at AS at, 'mention' AS kind, mention_id AS ref_id, channel, brand, author, text, sentiment_label,
           sentiment_compound, is_complaint, arrayStringConcat(complaint_cues, ',') AS detail, '' AS status
    FROM mentions_by_customer FINAL
    WHERE customer_id IN %(ids)s
    ORDER BY at DESC, ref_id, processed_at DESC
    LIMIT 1 BY ref_id
    LIMIT %(limit)s
    UNION ALL
    SELECT created_at AS at, 'alert' AS kind, alert_id AS ref_id, channel, brand, '' AS author, text,
           sentiment_label, sentiment_compound, true AS is_complaint, concat(type, ' / ', severity) AS detail, status
    FROM alerts_by_customer FINAL
    WHERE customer_id IN %(ids)s
    ORDER BY at DESC, ref_id
    LIMIT %(limit)s
)
ORDER BY at DESC, kind = 'alert' DESC, ref_id
LIMIT %(limit)s
"""


def mask_text(text: str) -> str:
    """E-mail addresses inside free text (signatures, quoted mails) masked like identities."""
    return _EMAIL_IN_TEXT_RE.sub(lambda m: mask_email(m.group(0)), text)


def search_params(q: str) -> dict[str, Any]:
    """What the search box means: an e-mail address, a `channel:handle` key, a handle (`@bob`) or an id."""
    q = q.strip()[:256]
    if is_email(q):
        addr = email_key(q).split(":", 1)[1]
        return {"q": q, "key": email_key(q), "handle": addr, "prefix": "", "limit": SEARCH_LIMIT}
    channel, sep, rest = q.partition(":")
    if sep and channel and channel.isalnum() and channel != EMAIL_CHANNEL and rest:
        handle = normalise_handle(rest)
        return {"q": q, "key": f"{channel.lower()}:{handle}", "handle": "\x00", "prefix": "", "limit": SEARCH_LIMIT}
    handle = normalise_handle(q)
    prefix = handle if len(handle) >= MIN_PREFIX else ""
    return {"q": q, "key": "\x00", "handle": handle or "\x00", "prefix": prefix, "limit": SEARCH_LIMIT}


def search_view(rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    return [{"customer_id": cid, "is_prospect": bool(prospect), "matched": sorted(mask_key(k) for k in keys if k),
             "name": name or "", "tier": "prospect" if prospect else (tier or ""),
             "lifetime_value": float(ltv or 0.0)} for cid, prospect, keys, name, tier, ltv in rows]


def timeline_view(rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        v = dict(zip(TIMELINE_COLUMNS, row))
        v["at"] = iso(v["at"])
        v["author"] = mask_email(v["author"]) if is_email(v["author"]) else v["author"]
        v["text"] = mask_text(v["text"])
        v["sentiment_compound"] = round(float(v["sentiment_compound"]), 3)
        v["is_complaint"] = bool(v["is_complaint"])
        detail = v.pop("detail") or ""
        if v["kind"] == "alert":  # detail is "<type> / <severity>" for an alert, the cues for a mention
            v["cues"] = []
            v["alert_type"], _, v["severity"] = detail.partition(" / ")
        else:
            v["cues"] = [c for c in detail.split(",") if c]
        out.append(v)
    return out


def _identity_view(row: Sequence[Any]) -> dict[str, Any]:
    key, channel, handle, prospect, updated = row
    return {"key": mask_key(key), "channel": channel, "handle": mask_email(handle) if is_email(handle) else handle,
            "is_prospect": bool(prospect), "since": iso(updated) if not prospect else None}


def _link_view(row: Sequence[Any]) -> dict[str, Any]:
    v = dict(zip(AUDIT_COLUMNS, row))
    return {"at": iso(v["at"]), "action": v["action"], "identity": mask_key(v["identity_key"]),
            "customer_id": v["customer_id"], "previous_customer_id": v["previous_customer_id"],
            "prospect_id": v["prospect_id"], "by": v["by"], "source": v["source"]}


async def profile(q: Any, cid: str) -> Optional[dict[str, Any]]:
    """Everything the customer page shows about `cid` (a customer or a prospect id); None if nothing is known."""
    prospect = is_prospect_id(cid)
    p = {"id": cid}
    customer, idents, linked, linked_to = await asyncio.gather(
        q.execute(PROFILE_SQL, p), q.execute(IDENTITIES_SQL, p), q.execute(IDS_SQL, p), q.execute(LINKED_TO_SQL, p))
    ids = (cid, *sorted(r[0] for r in linked))
    params = {"id": cid, "ids": ids, "limit": TIMELINE_LIMIT}
    stats, value, alerts, timeline, links, verdicts = await asyncio.gather(
        q.execute(STATS_SQL, params), q.execute(VALUE_SQL, params), q.execute(OPEN_ALERTS_SQL, params),
        q.execute(TIMELINE_SQL, params), q.execute(HISTORY_SQL, {**params, "limit": LINK_HISTORY_LIMIT}),
        q.execute(PERSON_VERDICTS_SQL, params))
    n, first, last, max_influence, max_followers = stats[0] if stats else (0, None, None, 0.0, 0)
    if not customer and not idents and not n:
        return None
    name, tier, ltv, followers, influence, _ = customer[0] if customer else ("", "prospect", 0.0, 0, 0.0, None)
    referral, advocacy, reach, v_mentions, positive, negative = value[0] if value else (0.0, 0, 0, 0, 0, 0)
    return {
        "customer_id": cid, "is_prospect": prospect and not customer, "name": name,
        "tier": "prospect" if prospect and not customer else tier, "lifetime_value": float(ltv),
        "followers": int(max(followers or 0, max_followers or 0)),
        "influence": round(float(max(influence or 0.0, max_influence or 0.0)), 3),
        "referral_value": round(float(referral), 2), "advocacy": int(advocacy), "reach": int(reach),
        "mentions": int(n), "positive": int(positive), "negative": int(negative),
        "first_seen": iso(first) if n else None, "last_seen": iso(last) if n else None,
        "identities": [_identity_view(r) for r in idents],
        "prospect_ids": list(ids[1:]), "linked_to": linked_to[0][0] if linked_to else None,
        "open_alerts": with_verdicts([_masked_alert(alert_view_from_row(r)) for r in alerts], "alert_id", verdicts),
        "timeline": with_verdicts(timeline_view(timeline), "ref_id", verdicts),
        "links": [_link_view(r) for r in links],
    }


def with_verdicts(items: list[dict[str, Any]], key: str, verdicts: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Each item gets `verdict` / `verdict_by` from rows (ref_id, verdict, by) of PERSON_VERDICTS_SQL (None: none)."""
    found = {ref: (verdict, by) for ref, verdict, by in verdicts}
    for item in items:
        item["verdict"], item["verdict_by"] = found.get(item[key], (None, None))
    return items


def _masked_alert(view: dict[str, Any]) -> dict[str, Any]:
    view["text"] = mask_text(view["text"])
    return view


def _dumps(obj: Any) -> str:
    return encode(obj).decode()


async def search(request: web.Request) -> web.Response:
    q = request.query.get("q", "").strip()
    if not q:
        return web.json_response({"error": "give q: a customer id, a handle (@bob or twitter:bob) or an e-mail"},
                                 status=400)
    try:
        rows = await request.app[QUERIES].execute(SEARCH_SQL, search_params(q))
    except Exception as exc:  # noqa: BLE001
        return query_error(exc)
    return web.json_response({"q": mask_email(q) if is_email(q) else q, "results": search_view(rows)},
                             dumps=_dumps)


async def customer(request: web.Request) -> web.Response:
    cid = request.match_info["customer_id"]
    if not _ID_RE.match(cid):
        return web.json_response({"error": "invalid customer id"}, status=400)
    try:
        view = await profile(request.app[QUERIES], cid)
    except Exception as exc:  # noqa: BLE001
        return query_error(exc)
    if view is None:
        return web.json_response({"error": f"no customer or prospect {cid}"}, status=404)
    return web.json_response(view, dumps=_dumps)


async def link(request: web.Request) -> web.Response:
    """The prospect page's "link to a customer" (the same path as `socialpulse customers link`)."""
    from pipeline.adapters.identity_links import LinkError, link_prospect

    prospect = request.match_info["customer_id"]
    if not is_prospect_id(prospect) or not _ID_RE.match(prospect):
        return web.json_response({"error": "only a prospect (P-…) can be linked to a customer"}, status=400)
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return web.json_response({"error": 'body must be JSON: {"customer_id": "C-1"}'}, status=400)
    target = body.get("customer_id") if isinstance(body, dict) else None
    if not isinstance(target, str) or not _ID_RE.match(target.strip()):
        return web.json_response({"error": 'give "customer_id": the customer to link this prospect to'}, status=400)
    by = body.get("by") if isinstance(body.get("by"), str) and body["by"].strip() else "dashboard"
    try:
        results = await asyncio.to_thread(link_prospect, request.app[SETTINGS], prospect, target.strip(),
                                          by=by.strip()[:80], force=body.get("force") is True)
    except LinkError as exc:
        return web.json_response({"error": str(exc)}, status=409)
    except Exception as exc:  # noqa: BLE001 - Kafka or ClickHouse down
        log.warning("dashboard could not link a prospect: %s", type(exc).__name__)
        return web.json_response({"error": "Kafka or ClickHouse unavailable, try again"}, status=503)
    return web.json_response({"linked": [{"identity": mask_key(r.key), "customer_id": r.customer_id,
                                          "previous_customer_id": r.previous_customer_id} for r in results],
                              "customer_id": target.strip()}, status=202)


ADVOCATE_COLUMNS = ("customer_id", "is_prospect", "tier", "lifetime_value", "referral_value", "advocacy",
                    "mentions", "positive", "negative", "reach")


async def advocates(request: web.Request) -> web.Response:
    days = int_param(request, "days", 30, 1, 365)
    limit = int_param(request, "limit", 5, 1, 50)

    end = datetime.now(timezone.utc)
    params = {"start": _ch_time(end - timedelta(days=days)), "end": _ch_time(end), "limit": limit}
    try:
        rows = await request.app[QUERIES].execute(ADVOCATES_SQL, params)
    except Exception as exc:  # noqa: BLE001
        return query_error(exc)
    people = [dict(zip(ADVOCATE_COLUMNS, r)) for r in rows]
    for v in people:
        v["is_prospect"] = bool(v["is_prospect"])
        v["lifetime_value"], v["referral_value"] = float(v["lifetime_value"]), round(float(v["referral_value"]), 2)
    return web.json_response({"days": days, "at": to_iso(end),
                              "advocates": [v for v in people if v["advocacy"] > 0][:limit],
                              "detractors": sorted((v for v in people if v["advocacy"] < 0),
                                                   key=lambda v: v["advocacy"])[:limit]}, dumps=_dumps)


def _ch_time(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S")
