"""The synthetic year of `pipeline.tools.bench.year`, generated inside ClickHouse (`bench --analytics --fill sql`).

`--fill writer` sends every row through `ClickHouseWriter` (~4,500 mentions/s: 100M mentions take 6+ hours). This
fill writes the same year with `INSERT … SELECT … FROM numbers(…)`: every draw of year.py is a hash-based uniform of
(seed, row number, salt) — `cityHash64(seed, i, salt)`, 53 bits — put through the same distributions (hour profile,
1/rank brands, channel weights, `_zipf_rank`, `customer_handles`, `customer_record` with log-normals by Box–Muller,
`_sentiment`, COMPLAINT_P, `_alert_type`, `_act`), so a row is a function of (seed, i) alone and any chunk can be
generated on its own. Same shapes, other random numbers: the values are not those of the Python fill.

Written state, as the sink leaves it: the CRM (identities, customers, prospect_links) first, then one chunk of
`chunk_rows` mentions at a time (many inserts → many parts; the materialized views of 007–010 fire on each insert as
on the sink's): mentions, the chunk's prospect authors (one `identities` row per author per chunk, as
`upsert_prospects` per batch), the alerts' open versions; the rows of year.py's replayed batches a second time
(processed_at / updated_at + 90 s, one extra insert per chunk); the actions (ack, resolve) in `alert_actions` and
the alert versions they leave (acked with acked_at at the ack, resolved with resolved_at at the resolve: versions
carry event times, where the writer's carry the fill's wall clock); the verdicts in `complaint_feedback`. Then
`rollups.rebuild` as the refresher would have done over the year.

Not mirrored: prospect ids are `P-` + 16 hex chars of cityHash64 of the identity key, not BLAKE2b (ClickHouse has
no BLAKE2b; the ids are opaque, and customers' prospect links use the same function so they stay consistent)."""
from __future__ import annotations

import itertools
import time
from typing import Callable, Optional, Sequence

from pipeline.adapters.clickhouse.columns import (ACTION_COLUMNS, ALERT_COLUMNS, CUSTOMER_COLUMNS, FEEDBACK_COLUMNS,
                                                  IDENTITY_COLUMNS, LINK_COLUMNS, MENTION_COLUMNS)
from pipeline.contract.records import SCHEMA_VERSION
from pipeline.tools.bench.year import (_TEXTS, BRANDS, CHANNEL_WEIGHTS, CHANNELS, COMPLAINT_P, CUES, HOUR_WEIGHTS,
                                       LABELS, TIERS, YearShape, replayed_batches)

CHUNK_ROWS = 250_000  # mentions per INSERT … SELECT: ~one day of a 100M year, a part or two per insert
REPLAY_DELAY_S = 90  # a replay re-processes its rows this much later (year.replay_copy)
STAGE = "year_chunk"  # the session's temporary table holding one chunk's generated rows
_TIER_BASE = {"standard": 400.0, "gold": 6000.0, "platinum": 25000.0}
#: Every draw of year.py, by name → its salt (row draws hash (seed, i, salt), customer draws (seed, k, salt)).
_DRAWS = ("hour", "second", "processed", "brand", "who", "customer", "handle", "prospect", "prospect_channel",
          "label", "sentiment", "complaint", "cue", "score", "text", "alert_kind", "severity", "prior", "agent",
          "ack", "roll", "resolve", "verdict", "verdict_kind", "tier", "ltv_radius", "ltv_angle")
_SALT = {name: n for n, name in enumerate(_DRAWS, 1)}


def lit(value: str) -> str:
    """A ClickHouse string literal (our own constants only; values from outside never reach these builders)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def arr(values: Sequence) -> str:
    return "[" + ", ".join(lit(v) if isinstance(v, str) else repr(v) for v in values) + "]"


def uniform(seed: int, key: str, draw: str) -> str:
    """A uniform in [0, 1) from a hash of (seed, key, the draw's salt): 53 bits, like random.random()."""
    return f"(bitShiftRight(cityHash64({int(seed)}, {key}, {_SALT[draw]}), 11) / 9007199254740992.)"


def pick_index(weights: Sequence[float], u: str) -> str:
    """1-based index drawn with `weights` from the uniform `u`: random.choices' bisect on the cumulative weights."""
    cum = list(itertools.accumulate(weights))
    return f"arrayFirstIndex(c -> c > {u} * {cum[-1]!r}, {arr(cum)})"


def pick(values: Sequence[str], weights: Sequence[float], u: str) -> str:
    return f"{arr(values)}[{pick_index(weights, u)}]"


def zipf_rank(population: int, u: str) -> str:
    """year._zipf_rank: min(population - 1, int(exp(u · ln(population + 1))) - 1)."""
    return f"toUInt64(least({int(population) - 1}, toUInt64(exp({u} * log({int(population) + 1}))) - 1))"


def prospect_id(key: str) -> str:
    """The prospect id of an identity key: 'P-' + 16 lowercase hex chars of cityHash64 (BLAKE2b in the sink)."""
    return f"concat('P-', leftPad(lower(hex(cityHash64({key}))), 16, '0'))"


def influence(followers: str) -> str:
    """pipeline.domain.identity.influence without engagement: round(min(1, log10(1 + f) / 6), 4)."""
    return f"round(least(1., log10(1 + {followers}) / 6), 4)"


def customer_fields(seed: int, k: str) -> list[str]:
    """WITH-expressions of year.customer_record for customer `k`: c_id, c_tier, c_ltv, c_followers."""
    radius = f"sqrt(-2 * log(1 - {uniform(seed, k, 'ltv_radius')}))"  # Box–Muller: two independent normals
    angle = f"2 * pi() * {uniform(seed, k, 'ltv_angle')}"
    base = "multiIf(" + ", ".join(f"c_tier = {lit(t)}, {b!r}" for t, b in list(_TIER_BASE.items())[:-1]) \
        + f", {list(_TIER_BASE.values())[-1]!r})"
    return [f"concat('C-', leftPad(toString({k}), 8, '0')) AS c_id",
            f"{pick([t for t, _ in TIERS], [w for _, w in TIERS], uniform(seed, k, 'tier'))} AS c_tier",
            f"round({base} * exp(0.6 * {radius} * cos({angle})), 2) AS c_ltv",
            f"toUInt64(exp(5 + 1.8 * {radius} * sin({angle}))) AS c_followers"]


def _author(channel: str, name: str) -> str:
    return f"if({channel} = 'email', concat({name}, '@mail.example.com'), concat('@', {name}))"


def _key(channel: str, name: str) -> str:
    """pipeline.domain.identity.author_key of `_author(channel, name)`: 'email:<address>' or '<channel>:<handle>'."""
    return f"lower(if({channel} = 'email', concat('email:', {name}, '@mail.example.com'), concat({channel}, ':', {name})))"


def stage_sql(shape: YearShape, lo: int, hi: int, replays: Sequence[tuple[int, int]] = ()) -> str:
    """CREATE TEMPORARY TABLE year_chunk AS the mentions lo … hi-1 of the year with everything the inserts need:
    the mention's columns, its alert's, the actions' and the verdict's (year.generate_batch, _alert, _act), and
    `replayed` for the rows of year.py's replayed batches (`replays`: row ranges)."""
    seed, n = shape.seed, shape.mentions

    def u(draw: str) -> str:
        return uniform(seed, "i", draw)

    start = shape.start.timestamp()
    midnight = shape.start.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    end = shape.end.timestamp()
    labels = [x for x, _ in LABELS]
    texts = "[" + ", ".join(arr(_TEXTS[x]) for x in labels) + "]"
    chance = "multiIf(" + ", ".join(f"label = {lit(x)}, {COMPLAINT_P[x]!r}" for x in labels[:-1]) \
        + f", {COMPLAINT_P[labels[-1]]!r})"
    replayed = " OR ".join(f"(i >= {a} AND i < {b})" for a, b in replays) or "false"
    with_ = [
        "number AS i",
        f"intDiv(i * {shape.days}, {n}) AS day",
        f"{midnight!r} + day * 86400 + ({pick_index(HOUR_WEIGHTS, u('hour'))} - 1) * 3600 + {u('second')} * 3600 "
        "AS at0",
        f"if(at0 < {start!r}, at0 + {shape.days * 86400}, at0) AS at_s",
        f"{uniform(seed, 'i', 'who')} < {shape.customer_share!r} AS is_customer",
        f"{zipf_rank(shape.customers, u('customer'))} AS k",
        *customer_fields(seed, "k"),
        f"k % 3 = 0 AND {u('handle')} >= 0.5 AS second_handle",  # rng.choice of customer_handles
        f"{zipf_rank(shape.prospects, u('prospect'))} AS p",
        f"if(p % 7 != 0, {pick(CHANNELS, CHANNEL_WEIGHTS, u('prospect_channel'))}, {arr(CHANNELS)}[p % 6 + 1]) "
        "AS p_channel",
        f"toUInt64(pow(10, ((p * 2654435761) % 1000) / 200)) AS p_followers",  # year._prospect_followers
        f"{pick_index([w for _, w in LABELS], u('label'))} AS label_index",
        f"{arr(labels)}[label_index] AS label",
        f"multiIf(label = 'negative', -(0.05 + 0.9 * {u('sentiment')}), label = 'positive', "
        f"0.05 + 0.92 * {u('sentiment')}, -0.04 + 0.08 * {u('sentiment')}) AS compound",
        "abs(compound) * 0.6 AS strength",
        f"if(is_customer AND c_tier = 'platinum', 4, {pick_index([10, 25, 65], u('alert_kind'))}) AS kind_index",
        f"{end!r} - at_s AS age",
        f"at_s + 60 * (2 + 238 * {u('ack')}) AS ack_s",
        f"{u('roll')} AS roll",
        f"age > {3 * 86400} AND roll < 0.9 AS will_resolve",
        f"ack_s + 3600 * (0.5 + 47.5 * {u('resolve')}) AS resolve_s",
    ]
    cols = [
        "i", "toDateTime64(at_s, 3, 'UTC') AS created_at",
        f"toDateTime64(at_s + 0.2 + 2.8 * {u('processed')}, 3, 'UTC') AS processed_at",
        f"{pick(BRANDS, [1 / (r + 1) for r in range(len(BRANDS))], u('brand'))} AS brand",
        f"if(is_customer, if(second_handle, {arr(CHANNELS)}[(k + 1) % 6 + 1], {arr(CHANNELS)}[k % 6 + 1]), p_channel)"
        " AS channel",
        "if(is_customer, concat(if(second_handle, 'cx', 'c'), toString(k)), concat('p', toString(p))) AS name",
        f"{_author('channel', 'name')} AS author", f"{_key('channel', 'name')} AS identity_key",
        f"if(is_customer, c_id, {prospect_id('identity_key')}) AS customer_id", "NOT is_customer AS is_prospect",
        "if(is_customer, c_tier, 'prospect') AS tier", "if(is_customer, c_ltv, 0.) AS ltv",
        "if(is_customer, c_followers, p_followers) AS followers", f"{influence('followers')} AS influence",
        "label", "round(compound, 4) AS sentiment_compound",
        "round(if(compound > 0, strength, 0.), 3) AS sentiment_pos",
        "round(if(compound < 0, strength, 0.), 3) AS sentiment_neg",
        "round(1 - sentiment_pos - sentiment_neg, 3) AS sentiment_neu",
        f"{u('complaint')} < {chance} AS is_complaint",
        f"if(is_complaint, [{arr(CUES)}[toUInt32({u('cue')} * {len(CUES)}) + 1]], []) AS complaint_cues",
        f"round(if(is_complaint, 0.6 + 0.4 * {u('score')}, 0.59 * {u('score')}), 4) AS complaint_score",
        f"replaceOne({texts}[label_index][toUInt32({u('text')} * 4) + 1], '{{b}}', concat('@', brand)) AS text",
        f"concat('y{int(seed)}-', toString(i)) AS source_id", "concat(channel, ':', source_id) AS mention_id",
        f"{replayed} AS replayed",
        # year._alert / _alert_type: platinum → vip; else 10 % cross-channel, 25 % repeat, 65 % plain complaint
        "['cross_channel_complaint', 'repeat_complaint', 'complaint', 'vip_complaint'][kind_index] AS kind",
        f"['high', 'high', ['low', 'medium', 'medium', 'high'][toUInt32({u('severity')} * 4) + 1], 'critical']"
        "[kind_index] AS severity",
        f"if(kind_index <= 2, 1 + toUInt32({u('prior')} * 5), 0) AS prior",
        "concat(kind, ':', mention_id) AS alert_id", "created_at + toIntervalSecond(1) AS alert_at",
        # year._act: old alerts mostly resolved, recent ones partly acked; a verdict on ~2 %
        f"concat('agent', toString(1 + toUInt32({u('agent')} * 12))) AS agent",
        f"(will_resolve OR (roll < 0.95 AND age > {6 * 3600}) OR roll < 0.3) AND ack_s < {end!r} AS has_ack",
        "toDateTime64(ack_s, 3, 'UTC') AS acked_at",
        f"will_resolve AND resolve_s < {end!r} AS has_resolve", "toDateTime64(resolve_s, 3, 'UTC') AS resolved_at",
        f"{u('verdict')} < 0.02 AND ack_s < {end!r} AS has_verdict",
        f"if({u('verdict_kind')} < 0.2, 'not_complaint', 'complaint') AS verdict",
    ]
    return (f"CREATE TEMPORARY TABLE {STAGE} ENGINE = Memory AS\nWITH {', '.join(with_)}\n"
            f"SELECT {', '.join(cols)}\nFROM numbers({int(lo)}, {int(hi) - int(lo)})")


def _insert(table: str, columns: Sequence[str], exprs: dict[str, str], where: str) -> str:
    """INSERT INTO table (columns) SELECT exprs FROM the staged chunk WHERE …; a column missing from `exprs` is
    read under its own name from the stage."""
    select = ", ".join(f"{exprs.get(c, c)} AS `{c}`" for c in columns)
    return f"INSERT INTO {table} ({', '.join(f'`{c}`' for c in columns)})\nSELECT {select}\nFROM {STAGE}\nWHERE {where}"


_MENTION_EXPRS = {"author_name": "''", "author_followers": "followers", "author_email": "''", "url": "''",
                  "lang": "'en'", "in_reply_to": "''", "metadata": "''", "sentiment_label": "label",
                  "customer_tier": "tier", "customer_lifetime_value": "ltv", "schema_version": str(SCHEMA_VERSION)}


def mentions_sql(replay: bool = False) -> str:
    """The chunk's mentions; `replay`: its replayed rows again, processed REPLAY_DELAY_S later (year.replay_copy)."""
    if not replay:
        return _insert("mentions", MENTION_COLUMNS, _MENTION_EXPRS, "true")
    later = {**_MENTION_EXPRS, "processed_at": f"processed_at + toIntervalSecond({REPLAY_DELAY_S})"}
    return _insert("mentions", MENTION_COLUMNS, later, "replayed")


def prospects_sql() -> str:
    """One identities row per prospect author of the chunk (writer.upsert_prospects; a prospect row's version is
    the epoch, so any customer row for the key outranks it)."""
    return (f"INSERT INTO identities ({', '.join(IDENTITY_COLUMNS)})\n"
            "SELECT identity_key, any(channel), any(substring(identity_key, position(identity_key, ':') + 1)), "
            "any(customer_id), true, "
            f"min(processed_at)\nFROM {STAGE}\nWHERE is_prospect\nGROUP BY identity_key")


#: Alert versions as the sink leaves them: open at creation, the replay's open copy, acked, resolved.
ALERT_VERSIONS = {
    "open": ("is_complaint", "'open'", "NULL", "NULL", "alert_at"),
    "replay": ("is_complaint AND replayed", "'open'", "NULL", "NULL", f"alert_at + toIntervalSecond({REPLAY_DELAY_S})"),
    "acked": ("is_complaint AND has_ack", "'acked'", "acked_at", "NULL", "acked_at"),
    "resolved": ("is_complaint AND has_resolve", "'resolved'", "acked_at", "resolved_at", "resolved_at"),
}
#: The alert columns these inserts write (window_start and top_mentions: a spike's; NULL / [] by default).
ALERT_INSERT_COLUMNS = tuple(c for c in ALERT_COLUMNS if c not in ("window_start", "top_mentions"))


def alerts_sql(version: str) -> str:
    """One version (ALERT_VERSIONS) of the chunk's alerts (year._alert; alert_columns' prospect rules)."""
    where, status, acked, resolved, updated = ALERT_VERSIONS[version]
    exprs = {"type": "kind", "reasons": "[concat(replaceAll(kind, '_', ' '), ' detected')]",
             "sentiment_label": "label", "prior_complaints": "prior", "prior_window_days": "30",
             "channels_complained_on": "[channel]", "customer_tier": "tier", "customer_lifetime_value": "ltv",
             "influence": "if(is_prospect, 0., influence)", "created_at": "alert_at", "status": status,
             "assignee": "''", "acked_at": acked, "resolved_at": resolved, "updated_at": updated,
             "schema_version": str(SCHEMA_VERSION)}
    return _insert("alerts", ALERT_INSERT_COLUMNS, exprs, where)


def actions_sql() -> str:
    """The ack and resolve actions of the chunk's alerts (year._act)."""
    act = "arrayJoin(arrayFilter(x -> x.1, [(has_ack, 'ack', acked_at), (has_resolve, 'resolve', resolved_at)]))"
    exprs = {"action": f"{act}.2", "by": "agent", "assignee": "''", "note": "''", "at": f"{act}.3"}
    return _insert("alert_actions", ACTION_COLUMNS, exprs, "is_complaint AND has_ack")


def feedback_sql() -> str:
    """The verdicts (~2 % of alerts) with the sink's feedback_id: sha256 of the four fields, 32 hex chars."""
    fid = "substring(lower(hex(SHA256(concat(alert_id, '\\x1f', mention_id, '\\x1f', verdict, '\\x1f', agent)))), 1, 32)"
    return _insert("complaint_feedback", FEEDBACK_COLUMNS, {"feedback_id": fid, "at": "acked_at", "by": "agent"},
                   "is_complaint AND has_verdict")


def crm_sql(shape: YearShape, lo: int, hi: int) -> list[str]:
    """Customers lo … hi-1 as the CRM load writes them (writer.upsert_identities): their handles in `identities`
    (year.customer_handles), a `customers` row each, and the prospect links of their keys; all at the year's start."""
    at = f"toDateTime64({shape.start.timestamp()!r}, 3, 'UTC')"
    customer = ["number AS k", *customer_fields(shape.seed, "k")]
    handles = [f"{arr(CHANNELS)}[k % 6 + 1] AS channel1", f"{arr(CHANNELS)}[(k + 1) % 6 + 1] AS channel2",
               "arrayJoin(if(k % 3 = 0, [(channel1, concat('c', toString(k))), (channel2, concat('cx', toString(k)))],"
               " [(channel1, concat('c', toString(k)))])) AS handle", f"{_key('handle.1', 'handle.2')} AS key"]
    source = f"FROM numbers({int(lo)}, {int(hi) - int(lo)})"
    keyed = f"WITH {', '.join(customer + handles)}\n"
    return [
        f"INSERT INTO identities ({', '.join(IDENTITY_COLUMNS)})\n{keyed}"
        f"SELECT key, handle.1, substring(key, position(key, ':') + 1), c_id, false, {at}\n{source}",
        f"INSERT INTO customers ({', '.join(CUSTOMER_COLUMNS)})\nWITH {', '.join(customer)}\n"
        f"SELECT c_id, concat('Customer ', toString(k)), c_tier, c_ltv, c_followers, {influence('c_followers')}, "
        f"{at}\n{source}",
        f"INSERT INTO prospect_links ({', '.join(LINK_COLUMNS)})\n{keyed}SELECT {prospect_id('key')}, c_id, {at}\n{source}",
    ]


def chunks(rows: int, chunk_rows: int = CHUNK_ROWS) -> list[tuple[int, int]]:
    """Row ranges [lo, hi) of the inserts of `rows` rows, in order."""
    return [(lo, min(lo + chunk_rows, rows)) for lo in range(0, rows, max(1, chunk_rows))]


def replay_ranges(shape: YearShape, lo: int, hi: int) -> list[tuple[int, int]]:
    """The rows of year.py's replayed batches (`replayed_batches`, sink-sized) within [lo, hi), as row ranges:
    the same 2 % of the rows as the writer's fill replays, inserted again with the chunk."""
    out = []
    for b in sorted(replayed_batches(shape)):
        a, z = max(lo, b * shape.batch_size), min(hi, (b + 1) * shape.batch_size, shape.mentions)
        if a < z:
            out.append((a, z))
    return out


def chunk_sql(shape: YearShape, lo: int, hi: int) -> list[tuple[str, str]]:
    """(name, statement) of one chunk, in the order the sink would leave them: stage, mentions, prospects, open
    alerts, the replay (mentions and alerts again), actions, acked and resolved versions, verdicts."""
    replays = replay_ranges(shape, lo, hi)
    out = [("drop", f"DROP TEMPORARY TABLE IF EXISTS {STAGE}"), ("stage", stage_sql(shape, lo, hi, replays)),
           ("mentions", mentions_sql()), ("prospects", prospects_sql()), ("alerts", alerts_sql("open"))]
    if replays:
        out += [("mentions-replay", mentions_sql(replay=True)), ("alerts-replay", alerts_sql("replay"))]
    return out + [("actions", actions_sql()), ("alerts-acked", alerts_sql("acked")),
                  ("alerts-resolved", alerts_sql("resolved")), ("feedback", feedback_sql())]


def fill_sql(s, shape: YearShape, progress: bool, chunk_rows: int = CHUNK_ROWS, *,
             echo: Optional[Callable[[str], None]] = None,
             rates: Optional[Callable[[list[tuple[float, int]]], tuple[float, float]]] = None) -> dict:
    """Fill the scratch database of `s` with the year (see the module docstring); returns the counts of
    `analytics.fill` plus `rollup_rebuild_seconds`. The progress bar advances per chunk; `rates` (analytics.
    tenth_rates) turns the (time, mentions written) marks of the chunks into the first / last tenth's speed."""
    from pipeline.adapters.clickhouse.client import client
    from pipeline.adapters.clickhouse.rollups import rebuild
    from pipeline.ops.progress import progress_bar

    c = client(s, send_receive_timeout=3600)
    token = f"year-sql-{shape.seed}"
    dup_mentions = dup_alerts = 0
    try:
        for lo, hi in chunks(shape.customers, chunk_rows):
            for n, sql in enumerate(crm_sql(shape, lo, hi)):
                c.execute(sql, settings={"insert_deduplication_token": f"{token}-crm-{lo}-{n}"})
        marks: list[tuple[float, int]] = [(time.perf_counter(), 0)]
        with progress_bar("filling a year (sql)", shape.mentions, enabled=progress) as bar:
            for lo, hi in chunks(shape.mentions, chunk_rows):
                for name, sql in chunk_sql(shape, lo, hi):
                    c.execute(sql, settings={"insert_deduplication_token": f"{token}-{name}-{lo}"}
                              if sql.startswith("INSERT") else None)
                if replay_ranges(shape, lo, hi):
                    (m, a), = c.execute(f"SELECT count(), countIf(is_complaint) FROM {STAGE} WHERE replayed")
                    dup_mentions, dup_alerts = dup_mentions + m, dup_alerts + a
                marks.append((time.perf_counter(), hi))
                bar.advance(hi - lo)
        c.execute(f"DROP TEMPORARY TABLE IF EXISTS {STAGE}")
        started = time.perf_counter()
        rebuild(c, settle_seconds=0)  # what the refresher would have done over the year
        rebuilt = time.perf_counter() - started
        if echo:
            echo(f"   rollups rebuilt in {rebuilt:,.1f} s")
        (alerts, prospects), = c.execute("SELECT (SELECT uniqExact(alert_id) FROM alerts), "
                                         "(SELECT uniqExact(identity_key) FROM identities WHERE is_prospect)")
        actions, verdicts = (int(c.execute(f"SELECT count() FROM {t} FINAL")[0][0])
                             for t in ("alert_actions", "complaint_feedback"))
    finally:
        c.disconnect()
    first, last = rates(marks) if rates else (0.0, 0.0)
    return {"alerts": int(alerts), "alert_actions": actions, "verdicts": verdicts,
            "identities": shape.customers + (shape.customers + 2) // 3, "duplicate_mention_rows": dup_mentions,
            "duplicate_alert_rows": dup_alerts, "prospects": int(prospects), "fill_first_tenth_mentions_per_s": first,
            "fill_last_tenth_mentions_per_s": last, "rollup_rebuild_seconds": round(rebuilt, 1)}
