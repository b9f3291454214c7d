"""POST /api/mentions without Kafka (a stand-in feed that records what would be produced): body formats and line
numbers, the worker's validation, dead letters, the ingest token (never the dashboard's), the body/item caps, the
per-token rate limit, Kafka failing; and the token bucket on a fake clock."""
from __future__ import annotations

import asyncio
import json
import logging
import math
import stat

import msgspec
import pytest
from aiohttp.test_utils import TestClient, TestServer

from pipeline.contract import topics
from pipeline.domain.identity import author_key
from pipeline.settings import Settings
from pipeline.web import ingest
from pipeline.web.feed import FanOut
from pipeline.web.ingest import BadBody, Item, match_token, split_body, triage
from pipeline.web.ratelimit import RateLimiter, TokenBucket, retry_after
from pipeline.web.server import COOKIE_NAME, create_web_app

DASHBOARD = "dash-" + "d" * 20
INGEST_A, INGEST_B = "ing-a-" + "a" * 20, "ing-b-" + "b" * 20
NOW = "2026-01-01T00:00:00.000Z"


def doc(i: int = 1, **extra) -> dict:
    return {"id": f"m{i}", "channel": "twitter", "author": f"@Author{i}", "text": f"hello {i}", **extra}


def line(d: dict) -> bytes:
    return json.dumps(d).encode()


class RecordingFeed(FanOut):
    """The real fan-out without Kafka: records what `send_many` would produce, or fails like a broker down."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.ready = asyncio.Event()
        self.records: list[tuple] = []
        self.fail = fail

    async def start(self) -> None:
        self.ready.set()

    async def stop(self) -> None:
        self.close_all()

    async def send_action(self, action) -> None:
        raise AssertionError("no actions here")

    async def send_many(self, records) -> None:
        if self.fail:
            from aiokafka.errors import KafkaConnectionError

            raise KafkaConnectionError("broker down")
        self.records.extend(records)


class NoQueries:
    async def execute(self, sql, params):
        raise AssertionError("no ClickHouse here")

    def close(self) -> None:
        pass


def run(scenario, *, fail: bool = False, **settings):
    settings.setdefault("ingest_token", f"{INGEST_A}, {INGEST_B}")

    async def main():
        feed = RecordingFeed(fail)
        app = create_web_app(Settings(**settings), DASHBOARD, feed=feed, queries=NoQueries())
        async with TestClient(TestServer(app)) as client:
            return await scenario(client, feed)
    return asyncio.run(main())


def bearer(token: str, content_type: str = "application/json") -> dict:
    return {"Authorization": f"Bearer {token}", "Content-Type": content_type}


async def post(client, body: bytes, token: str = INGEST_A, content_type: str = "application/json"):
    r = await client.post("/api/mentions", data=body, headers=bearer(token, content_type))
    return r.status, await r.json(), r.headers


# --- parsing (pure) ----------------------------------------------------------------------------------------------

def test_an_object_is_one_item_on_line_1():
    body = b'  {"id": "1",\n "channel": "twitter", "author": "a", "text": "t"}\n'
    assert split_body(body) == [Item(1, body.strip())]


def test_an_array_numbers_its_items_from_1_and_keeps_their_bytes():
    body = b'[{"id":"1"} ,\n  {"id": "2"}, 7, "x"]'
    assert split_body(body) == [Item(1, b'{"id":"1"}'), Item(2, b'{"id": "2"}'), Item(3, b"7"), Item(4, b'"x"')]
    assert split_body(b"[]") == []


@pytest.mark.parametrize("content_type", ["application/x-ndjson", "application/ndjson", "application/jsonl",
                                          "application/json", "text/plain"])
def test_ndjson_lines_are_numbered_blank_lines_included(content_type):
    body = b'{"id":"1"}\r\n\n   \n{"id":"2"}\nnot json\n{"id":"4"}\n\n'
    assert split_body(body, content_type) == [Item(1, b'{"id":"1"}'), Item(4, b'{"id":"2"}'),
                                              Item(5, b"not json"), Item(6, b'{"id":"4"}')]


def test_ndjson_content_type_splits_even_a_pretty_printed_object():
    items = split_body(b'{\n"id": "1"\n}', "application/x-ndjson")
    assert [i.line for i in items] == [1, 2, 3]  # each line is then rejected on its own (invalid JSON)


@pytest.mark.parametrize("body, says", [
    (b"", "empty body"), (b"  \n\t\n", "empty body"), (b"hello world", "not a JSON object, array or NDJSON"),
    (b'[{"id": 1},', "not a JSON object"), (b'{"id": \n"1"\n{"id": "2"}', "not a JSON object"),
    (b'"just a string"', "expected a JSON object"), (b"42", "expected a JSON object"),
    (b"[" * 100_000, "nested too deeply"),
])
def test_bodies_that_hold_no_mentions_say_why_in_one_line(body, says):
    with pytest.raises(BadBody) as info:
        split_body(body)
    assert says in info.value.reason and "\n" not in info.value.reason


def test_a_leading_byte_order_mark_is_ignored():
    assert split_body(b'\xef\xbb\xbf{"id": "1"}') == [Item(1, b'{"id": "1"}')]


def test_triage_is_the_workers_validation_with_dead_letters_for_the_rest():
    good, blank = line(doc(1)), line({**doc(2), "author": "   "})
    missing = line({"id": "3", "channel": "twitter", "author": "a"})
    out = triage([Item(1, good), Item(2, b"{oops"), Item(3, missing), Item(5, blank)], NOW)
    assert out.accepted == 1
    assert out.records[0] == (topics.RAW, author_key("twitter", "@Author1").encode(), good)  # the original bytes
    assert [r["line"] for r in out.rejected] == [2, 3, 5]
    assert "invalid JSON" in out.rejected[0]["reason"] and "text" in out.rejected[1]["reason"]
    assert out.rejected[2]["reason"] == "schema: author is blank"
    letters = [msgspec.json.decode(v) for t, k, v in out.records[1:]]
    assert {t for t, _, _ in out.records[1:]} == {topics.DEADLETTER}
    assert [(d["stage"], d["topic"], d["partition"], d["offset"]) for d in letters] == [
        ("http", "http", -1, 2), ("http", "http", -1, 3), ("http", "http", -1, 5)]
    assert letters[0]["value"] == "{oops" and letters[1]["value"] == missing.decode()
    assert letters[0]["failed_at"] == NOW and letters[0]["reason"] == out.rejected[0]["reason"]


# --- tokens ------------------------------------------------------------------------------------------------------

def test_match_token_compares_every_token_in_constant_time(monkeypatch):
    import hmac

    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(ingest.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    tokens = [b"first", b"second", b"third"]
    assert match_token("Bearer first", tokens) == 0
    assert len(calls) == 3  # no early exit: the time says nothing about which token matched
    assert match_token("bearer  third ", tokens) == 2
    assert match_token("Bearer fourth", tokens) is None
    assert match_token("Basic Zmlyc3Q=", tokens) is None and match_token("", tokens) is None
    assert match_token("Bearer \udcff", tokens) is None  # surrogate-escaped input does not raise


def test_ingest_tokens_are_comma_separated():
    assert ingest.ingest_tokens(" a, b ,,c ") == ["a", "b", "c"] and ingest.ingest_tokens("") == []


# --- the endpoint ------------------------------------------------------------------------------------------------

def test_a_mixed_ndjson_body_is_accepted_with_its_rejects_listed():
    body = b"\n".join([line(doc(1)), b"", b"{not json", line({"id": "x", "channel": "twitter", "author": "a"}),
                       line(doc(5, brand="acme"))])

    async def scenario(client, feed):
        return await post(client, body, content_type="application/x-ndjson"), feed.records

    (status, reply, _), records = run(scenario)
    assert status == 202
    assert reply["accepted"] == 2
    assert [r["line"] for r in reply["rejected"]] == [3, 4]
    assert reply["rejected"][0]["reason"].startswith("invalid JSON")
    assert "text" in reply["rejected"][1]["reason"]
    assert [(t, k) for t, k, _ in records if t == topics.RAW] == [
        (topics.RAW, b"twitter:author1"), (topics.RAW, b"twitter:author5")]
    assert [t for t, _, _ in records] == [topics.RAW, topics.DEADLETTER, topics.DEADLETTER, topics.RAW]


def test_an_array_and_an_object():
    async def scenario(client, feed):
        array = await post(client, encode_array([doc(1), {"id": 2}, doc(3)]))
        single = await post(client, line(doc(9)))
        empty = await post(client, b"[]")
        return array[:2], single[:2], empty[:2], len(feed.records)

    array, single, empty, produced = run(scenario)
    assert array[0] == 202 and array[1]["accepted"] == 2 and [r["line"] for r in array[1]["rejected"]] == [2]
    assert single == (202, {"accepted": 1, "rejected": []})
    assert empty == (202, {"accepted": 0, "rejected": []})
    assert produced == 4


def encode_array(docs: list) -> bytes:
    return json.dumps(docs).encode()


def test_not_json_is_a_400_with_a_reason():
    async def scenario(client, feed):
        return (await post(client, b"hello"))[:2], (await post(client, b""))[:2], feed.records

    (s1, r1), (s2, r2), records = run(scenario)
    assert s1 == 400 and "not a JSON object, array or NDJSON" in r1["error"]
    assert s2 == 400 and "empty body" in r2["error"]
    assert records == []


def test_the_dashboard_token_and_cookie_are_refused():
    async def scenario(client, feed):
        with_dashboard = await post(client, line(doc()), token=DASHBOARD)
        wrong = await post(client, line(doc()), token="nope")
        login = await client.get(f"/?token={DASHBOARD}", allow_redirects=False)  # a real session cookie
        assert login.status == 303 and client.session.cookie_jar.filter_cookies(client.make_url("/")).get(COOKIE_NAME)
        cookie = await client.post("/api/mentions", data=line(doc()))
        return with_dashboard, wrong, (cookie.status, await cookie.json()), feed.records

    (s1, r1, h1), (s2, _, _), (s3, _), records = run(scenario)
    assert (s1, s2, s3) == (401, 401, 401)
    assert "Bearer <ingest token>" in r1["error"] and "dashboard token is not accepted" in r1["error"]
    assert h1["WWW-Authenticate"].startswith("Bearer")
    assert records == []


def test_every_configured_token_works_and_other_routes_keep_the_dashboard_token():
    async def scenario(client, feed):
        a = (await post(client, line(doc(1)), token=INGEST_A))[0]
        b = (await post(client, line(doc(2)), token=INGEST_B))[0]
        alerts_with_ingest = (await client.get("/api/alerts", headers=bearer(INGEST_A))).status
        get_mentions = (await client.get("/api/mentions", headers=bearer(INGEST_A))).status
        return a, b, alerts_with_ingest, get_mentions

    assert run(scenario) == (202, 202, 401, 401)


def test_no_ingest_token_configured_means_ingest_is_off():
    async def scenario(client, feed):
        return await post(client, line(doc()), token=DASHBOARD)

    status, reply, _ = run(scenario, ingest_token="")
    assert status == 503 and reply["error"] == "HTTP ingest is off: set SOCIALPULSE_INGEST_TOKEN"


def test_a_body_past_the_cap_is_a_413_declared_or_streamed(caplog):
    big = encode_array([doc(i) for i in range(40)])
    assert len(big) > 2000

    async def scenario(client, feed):
        declared = await post(client, big)

        async def chunks():  # chunked transfer: no Content-Length, the cap applies while reading
            for i in range(0, len(big), 500):
                yield big[i:i + 500]

        r = await client.post("/api/mentions", data=chunks(), headers=bearer(INGEST_A))
        fits = await post(client, line(doc()))
        return declared[:2], (r.status, await r.json()), fits[0], len(feed.records)

    declared, streamed, fits, produced = run(scenario, ingest_max_bytes=2000)
    assert declared[0] == 413 and "larger than 2000 bytes" in declared[1]["error"]
    assert streamed[0] == 413 and "SOCIALPULSE_INGEST_MAX_BYTES" in streamed[1]["error"]
    assert (fits, produced) == (202, 1)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_bodies_past_the_default_64_kib_of_the_other_routes_are_fine():
    body = b"\n".join(line(doc(i, text="x" * 1000)) for i in range(100))
    assert len(body) > 64 * 1024

    async def scenario(client, feed):
        return (await post(client, body, content_type="application/x-ndjson"))[:2]

    assert run(scenario) == (202, {"accepted": 100, "rejected": []})


def test_gzip_bodies_are_read_and_capped_decompressed_and_bad_gzip_is_a_400(caplog):
    import gzip

    body = b"\n".join(line(doc(i)) for i in range(30))

    async def scenario(client, feed):
        headers = {**bearer(INGEST_A, "application/x-ndjson"), "Content-Encoding": "gzip"}
        ok = await client.post("/api/mentions", data=gzip.compress(body[:1500]), headers=headers)
        over = await client.post("/api/mentions", data=gzip.compress(body), headers=headers)
        bad = await client.post("/api/mentions", data=b"\x1f\x8b not gzip", headers=headers)
        return [(r.status, await r.json()) for r in (ok, over, bad)]

    ok, over, bad = run(scenario, ingest_max_bytes=2000)
    assert len(body) > 2000 and len(gzip.compress(body)) < 2000
    assert ok[0] == 202 and ok[1]["accepted"] >= 1
    assert over[0] == 413
    assert bad == (400, {"error": "could not read the body: an interrupted upload, or not the Content-Encoding it "
                                  "claims"})
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []  # no traceback logged


def test_too_many_items_is_a_413_saying_to_split():
    async def scenario(client, feed):
        over_items = await post(client, encode_array([doc(i) for i in range(6)]))
        return over_items[:2], feed.records

    (status, reply), records = run(scenario, ingest_max_items=5)
    assert status == 413 and "6 mentions in one request, at most 5 (SOCIALPULSE_INGEST_MAX_ITEMS)" in reply["error"]
    assert records == []

    async def burst(client, feed):
        return (await post(client, encode_array([doc(i) for i in range(4)])))[:2]

    status, reply = run(burst, ingest_max_items=5, ingest_burst=3)
    assert status == 413 and "at most 3 (SOCIALPULSE_INGEST_BURST)" in reply["error"]


def test_past_the_rate_a_429_with_retry_after_per_token():
    async def scenario(client, feed):
        first = await post(client, encode_array([doc(i) for i in range(8)]))
        second = await post(client, encode_array([doc(i) for i in range(5)]))
        other_token = await post(client, encode_array([doc(i) for i in range(5)]), token=INGEST_B)
        return first[0], second, other_token[0], len(feed.records)

    first, (status, reply, headers), other, produced = run(scenario, ingest_rate=1.0, ingest_burst=10)
    assert first == 202
    assert status == 429 and "rate limit" in reply["error"]
    assert 1 <= int(headers["Retry-After"]) <= 3  # 5 wanted, 2 left, 1/s
    assert other == 202  # the bucket is per token
    assert produced == 13


def test_kafka_failing_is_a_503_saying_to_retry_the_whole_body():
    async def scenario(client, feed):
        return await post(client, line(doc()))

    status, reply, headers = run(scenario, fail=True)
    assert status == 503
    assert reply["error"] == ("Kafka unavailable, nothing or part accepted: retry the whole body "
                              "(ids make it idempotent)")
    assert headers.get("Retry-After")


# --- the token bucket on a fake clock ----------------------------------------------------------------------------

class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_token_bucket_takes_all_or_nothing_and_refills_at_the_rate():
    clock = FakeClock()
    b = TokenBucket(rate=10, burst=100, clock=clock)
    assert b.take(60) == 0.0 and b.available == 40
    assert b.take(50) == pytest.approx(1.0)  # 10 short at 10/s; nothing taken
    assert b.available == 40
    clock.t += 0.5
    assert b.take(45) == 0.0 and b.available == 0
    clock.t += 1000
    assert b.available == 100  # capped at the burst
    assert b.take(101) == math.inf
    clock.t -= 50  # a clock going backwards adds nothing, takes nothing
    assert b.available == 100


def test_rate_limiter_keeps_one_bucket_per_key():
    clock = FakeClock()
    limiter = RateLimiter(rate=2, burst=4, clock=clock)
    assert limiter.take("a", 4) == 0.0
    assert limiter.take("a", 1) == pytest.approx(0.5)
    assert limiter.take("b", 4) == 0.0
    clock.t += 0.5
    assert limiter.take("a", 1) == 0.0


def test_bad_bucket_parameters_and_retry_after_rounding():
    with pytest.raises(ValueError):
        TokenBucket(rate=0, burst=1)
    with pytest.raises(ValueError):
        RateLimiter(rate=1, burst=0)
    assert [retry_after(w) for w in (0.01, 1.0, 1.2, 59.9)] == [1, 1, 2, 60]


# --- the stack's generated ingest token ----------------------------------------------------------------------------

def test_the_stack_generates_an_ingest_token_once_in_the_data_dir(tmp_path):
    from pipeline.ops.stack import Stack

    stack = Stack(Settings(data_dir=tmp_path))
    token = stack.ingest_token()
    path = tmp_path / "run" / "ingest.token"
    assert len(token) >= 24 and path.read_text() == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Stack(Settings(data_dir=tmp_path)).ingest_token() == token != stack.dashboard_token()
    assert Stack(Settings(data_dir=tmp_path, ingest_token="mine")).ingest_token() == "mine"
