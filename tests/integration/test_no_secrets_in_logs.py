"""Personal data and secrets never reach a log: a real flow with a customer whose e-mail address is unique, the
dashboard token, password settings and the embedded ClickHouse's generated password, then every log file the stack
wrote (the ClickHouse server's included) plus the in-process log records are searched for them."""
from __future__ import annotations

import dataclasses
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from pipeline.contract import topics
from pipeline.domain.identity import author_key

from .conftest import consume_matching, produce, wait_for_rows

pytestmark = pytest.mark.integration


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a redirect instead of following it (urllib would follow it without the session cookie)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _get(url: str, headers: dict | None = None) -> int:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with _OPENER.open(req, timeout=10) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_no_email_token_or_password_in_any_log(running_stack, s, brand, tmp_path, caplog):
    from pipeline.ops.customers import erase_customer, load_customers
    from pipeline.ops.drain import wait_drained
    from pipeline.ops.replay import replay_file

    caplog.set_level(logging.INFO)
    for name in ("pipeline", "agents"):
        caplog.set_level(logging.DEBUG, logger=name)

    tag = uuid.uuid4().hex[:12]
    email = f"Private.Person.{tag}@Example-Secret.com"
    handle = f"priv_{tag}"
    password = f"pw-{uuid.uuid4().hex}"
    # Password-like settings for the in-process calls: PLAINTEXT ignores the SASL password, so the calls work.
    s_secret = dataclasses.replace(s, kafka_sasl_username=f"user-{tag}", kafka_sasl_password=password)
    token = running_stack.dashboard_token()
    assert token and len(token) >= 16
    cid = f"C-{tag}"

    # 1. the CRM record (plus a bad line that mentions the address: the summary may name it, logs must not)
    crm = tmp_path / "crm.jsonl"
    crm.write_text(json.dumps({"customer_id": cid, "name": "Private Person", "emails": [email],
                               "identities": [{"channel": "twitter", "handle": "@" + handle}]}) + "\n"
                   + json.dumps({"customer_id": "", "emails": [email]}) + "\n")
    summary = load_customers(s_secret, crm, progress=False)
    assert summary.extra["customers"] == 1 and summary.bad_count == 1

    # 2. mentions by e-mail and by handle, one quoting the address, one malformed carrying it
    docs = [
        {"id": f"{brand}-1", "channel": "email", "author": email, "text": f"Refund please, write to {email}",
         "brand": brand, "author_email": email, "created_at": "2026-11-20T10:00:00Z"},
        {"id": f"{brand}-2", "channel": "twitter", "author": "@" + handle, "text": "still waiting, awful",
         "brand": brand, "author_email": email, "created_at": "2026-11-20T10:01:00Z"},
    ]
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in docs) + "\n"
                    + json.dumps({"id": f"{brand}-bad", "channel": "email", "author": email,
                                  "text": "x", "created_at": email}) + "\n")
    rsum = replay_file(s_secret, path, progress=False)
    assert rsum.sent == 3
    produce(s, topics.RAW, [(author_key("email", email).encode(), f'{{"author": "{email}", "text": '.encode())])
    consume_matching(s, topics.DEADLETTER, lambda k, v: v is not None and f"{brand}-bad".encode() in v, 1)
    assert wait_drained(s, timeout=90) == {}
    wait_for_rows(s, "SELECT count() FROM mentions FINAL WHERE brand = %(b)s", {"b": brand}, [(2,)])

    # 3. the dashboard: the token in the query string (rejected and accepted), as a bearer header
    base = f"http://127.0.0.1:{s.dashboard_port}"
    assert _get(f"{base}/api/kpis?token=wrong-{token}") == 401
    assert _get(f"{base}/?token={token}&brand={brand}") == 303  # token traded for the cookie
    assert _get(f"{base}/api/kpis?brand={brand}", {"Authorization": f"Bearer {token}"}) in (200, 404)
    assert _get(f"{base}/api/kpis?token={token}", {"Authorization": "Bearer nope"}) == 401

    # 4. GDPR erase
    erased = erase_customer(s_secret, cid)
    assert erased.tombstones == 2

    time.sleep(2)  # let the worker and the dashboard write their logs
    run_dir = Path(s.data_dir) / "run"
    logs = sorted(run_dir.glob("*.log"))
    names = {p.name for p in logs}
    assert {"worker.log", "dashboard.log"} <= names, names
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in logs}
    assert modes == {name: "0o600" for name in names}, modes  # logs name customers' handles: owner only
    texts = {p.name: p.read_text(errors="replace") for p in logs}
    texts["caplog"] = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert texts["caplog"].strip(), "no in-process log records were captured"
    assert "GET" in texts["dashboard.log"], "the dashboard access log is not where it was expected"

    # the embedded ClickHouse's generated password: every client above (and the worker, the dashboard) logged in with it
    ch_password = (run_dir / "clickhouse.password").read_text()
    assert ch_password and ch_password == s.clickhouse_password
    assert "clickhouse.log" in names, names
    secrets = {"e-mail": email.lower(), "e-mail local part": email.split("@")[0].lower(), "token": token,
               "password": password, "clickhouse password": ch_password}
    leaks = [f"{what} in {name}" for name, text in texts.items() for what, secret in secrets.items()
             if secret.lower() in text.lower()]
    assert not leaks, leaks
