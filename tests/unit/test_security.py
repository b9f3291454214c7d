"""Security checks that need no server: no string-built SQL, client TLS/SASL configuration, loopback-only embedded
servers, constant-time dashboard token comparison."""
from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import ssl
import subprocess
import textwrap
from pathlib import Path

import pytest

from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SCANNED_DIRS = ("pipeline", "agents")
SQL_METHODS = {"execute", "execute_iter", "query"}

# --- (a) no string-built SQL ---------------------------------------------------------------------------------------

#: Reviewed places that compose SQL text from something other than literals, as (file, function): why it is safe.
ALLOWED_DYNAMIC_SQL = {
    ("pipeline/adapters/clickhouse/migrations.py", "_prepare"):
        "CREATE DATABASE with the database name validated by quote_database() (identifier regex + backticks)",
    ("pipeline/adapters/clickhouse/migrations.py", "_applied"):
        "table name is the module constant MIGRATIONS_TABLE",
    ("pipeline/adapters/clickhouse/migrations.py", "apply_migrations"):
        "table name is the module constant MIGRATIONS_TABLE; values are passed as parameters",
    ("pipeline/ops/services/clickhouse_server.py", "main"):
        "the chdb server's own FIFO path under its run dir (no user input), read with file()",
    ("pipeline/adapters/clickhouse/writer.py", "erase_customer"):
        "table names from the constant ERASE_TABLES and WHERE clauses from the constant _ERASE_WHERE; "
        "the customer ids are parameters",
    ("pipeline/adapters/clickhouse/copies.py", "rows_to_copy"):
        "base table names from the constant COPIES",
    ("pipeline/adapters/clickhouse/rollups.py", "refresh_day"):
        "rollup table names from the constant ROLLUP_TABLES; day and version are parameters",
    ("pipeline/adapters/clickhouse/rollups.py", "keep_day"):
        "rollup table names and column lists are module constants; day and version are parameters",
    ("pipeline/tools/bench/year_sql.py", "fill_sql"):
        "the benchmark's scratch server: the staging table name STAGE and the table names are constants",
}


def _is_str_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_dynamic(node: ast.AST) -> bool:
    """True when `node` builds a string from non-literal parts: f-string, `%`, `.format()`, `+`, `.join()`."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _is_str_literal(node.left) or _is_dynamic(node.left)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        both_literal = all(_is_str_literal(side) for side in (node.left, node.right))
        return not both_literal and any(_is_str_literal(side) or _is_dynamic(side)
                                        for side in (node.left, node.right)) or \
            _is_dynamic(node.left) or _is_dynamic(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
        return _is_str_literal(node.func.value) or isinstance(node.func.value, ast.JoinedStr) or \
            node.func.attr == "format"
    return False


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _assignments(scope: ast.AST, name: str) -> list[ast.AST]:
    out = []
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                out.append(node.value)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name) \
                and node.target.id == name and node.value is not None:
            out.append(node if isinstance(node, ast.AugAssign) else node.value)
    return out


def string_built_sql(source: str) -> list[tuple[int, str]]:
    """(line, enclosing function) of every execute/execute_iter/query call whose SQL argument is built from
    non-literal parts, directly or through a local variable assigned in the same function."""
    tree = ast.parse(source)
    found = []

    def visit(scope: ast.AST, func_name: str) -> None:
        for node in ast.iter_child_nodes(scope):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(node, node.name)
                continue
            if isinstance(node, ast.ClassDef):
                visit(node, func_name)
                continue
            for sub in ast.walk(node):
                if not (isinstance(sub, ast.Call) and _call_name(sub) in SQL_METHODS):
                    continue
                arg = sub.args[0] if sub.args else next(
                    (k.value for k in sub.keywords if k.arg in ("query", "sql", "statement")), None)
                if arg is None:
                    continue
                dynamic = _is_dynamic(arg)
                if not dynamic and isinstance(arg, ast.Name):
                    dynamic = any(isinstance(v, ast.AugAssign) or _is_dynamic(v) for v in _assignments(scope, arg.id))
                if dynamic:
                    found.append((sub.lineno, func_name))

    visit(tree, "<module>")
    return sorted(set(found))


def _python_files() -> list[Path]:
    return sorted(p for d in SCANNED_DIRS for p in (ROOT / d).rglob("*.py") if ".venv" not in p.parts)


def test_scanner_finds_every_form_of_string_built_sql():
    bad = textwrap.dedent('''
        def a(c, t):
            c.execute(f"SELECT * FROM {t}")
        def b(c, t):
            c.execute("SELECT * FROM %s" % t)
        def d(c, t):
            c.execute_iter("SELECT * FROM {}".format(t))
        def e(c, t):
            c.query("SELECT * FROM " + t)
        def f(c, t):
            sql = f"DELETE FROM {t}"
            c.execute(sql, {})
        def g(c, t):
            sql = "SELECT 1"
            sql += t
            c.execute(sql)
        async def h(q, t):
            await q.execute(sql=f"SELECT {t}")
        def i(c, t):
            c.execute("SELECT " + ", ".join(t))
    ''')
    assert [f for _, f in string_built_sql(bad)] == list("abdefghi")
    ok = textwrap.dedent('''
        SQL = "SELECT 1 " "FROM x"
        def a(c, b):
            c.execute("SELECT count() FROM m WHERE brand = %(b)s", {"b": b})
            c.execute(SQL)
            c.execute("SELECT " + "1")
            sql = "SELECT 2"
            c.execute(sql, columnar=True)
    ''')
    assert string_built_sql(ok) == []


def test_no_string_built_sql_outside_the_reviewed_places():
    files = _python_files()
    assert len(files) > 20 and any(p.name == "migrations.py" for p in files)
    seen, offending = set(), []
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        for line, func in string_built_sql(path.read_text(encoding="utf-8")):
            if (rel, func) in ALLOWED_DYNAMIC_SQL:
                seen.add((rel, func))
            else:
                offending.append(f"{rel}:{line} in {func}()")
    assert not offending, ("SQL built from strings (use %(name)s parameters, or review and add to "
                           f"ALLOWED_DYNAMIC_SQL): {offending}")
    stale = set(ALLOWED_DYNAMIC_SQL) - seen
    assert not stale, f"allow-list entries without dynamic SQL any more (remove them): {stale}"


def test_allow_listed_identifiers_are_validated_constants():
    from pipeline.adapters.clickhouse import writer as sink
    from pipeline.adapters.clickhouse.migrations import MIGRATIONS_TABLE, MigrationError, quote_database

    assert re.fullmatch(r"[a-z_]+", MIGRATIONS_TABLE)
    assert quote_database("socialpulse_1") == "`socialpulse_1`"
    for bad in ("x`; DROP DATABASE system; --", "a b", "", "db.name", "`x`", "x\n"):
        with pytest.raises(MigrationError):
            quote_database(bad)
    assert isinstance(sink.ERASE_TABLES, tuple) and all(re.fullmatch(r"[a-z_]+", t) for t in sink.ERASE_TABLES)
    assert set(sink._ERASE_WHERE) >= set(sink.ERASE_TABLES)
    assert all("%(" in where and "'" not in where for where in sink._ERASE_WHERE.values())


# --- (b) client configuration ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, str]:
    """A self-signed certificate (used as CA and as client certificate) and its key."""
    d = tmp_path_factory.mktemp("pki")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return {"cafile": str(cert), "certfile": str(cert), "keyfile": str(key)}


def _kafka(protocol: str, mechanism: str = "PLAIN", pki: dict | None = None) -> Settings:
    extra = {}
    if pki:
        extra = dict(kafka_ssl_cafile=pki["cafile"], kafka_ssl_certfile=pki["certfile"],
                     kafka_ssl_keyfile=pki["keyfile"])
    return Settings(kafka_bootstrap="k1.example:9093,k2.example:9093", kafka_security_protocol=protocol,
                    kafka_sasl_mechanism=mechanism, kafka_sasl_username="svc-user",
                    kafka_sasl_password="s3cret-pass", **extra)


def test_plaintext_has_no_credentials_or_tls():
    from pipeline.adapters.kafka.config import aiokafka_config, faust_broker_config, kafka_python_config

    s = _kafka("PLAINTEXT")
    kp = kafka_python_config(s)
    assert kp == {"bootstrap_servers": ["k1.example:9093", "k2.example:9093"], "security_protocol": "PLAINTEXT"}
    ak = aiokafka_config(s)
    assert ak == {"bootstrap_servers": "k1.example:9093,k2.example:9093", "security_protocol": "PLAINTEXT"}
    fb = faust_broker_config(s)
    assert fb == {"broker": "kafka://k1.example:9093;kafka://k2.example:9093", "broker_credentials": None}


def test_ssl_with_ca_and_client_certificate(pki):
    import faust

    from pipeline.adapters.kafka.config import aiokafka_config, faust_broker_config, kafka_python_config

    s = _kafka("SSL", pki=pki)
    kp = kafka_python_config(s)
    assert kp["security_protocol"] == "SSL" and kp["ssl_check_hostname"] is True
    assert (kp["ssl_cafile"], kp["ssl_certfile"], kp["ssl_keyfile"]) == (pki["cafile"], pki["certfile"],
                                                                         pki["keyfile"])
    assert not any(k.startswith("sasl") for k in kp)
    ak = aiokafka_config(s)
    ctx = ak["ssl_context"]
    assert isinstance(ctx, ssl.SSLContext) and ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.get_ca_certs(), "the CA file was not loaded"
    assert not any(k.startswith("sasl") for k in ak)
    creds = faust_broker_config(s)["broker_credentials"]
    assert isinstance(creds, faust.SSLCredentials)
    assert creds.context.verify_mode == ssl.CERT_REQUIRED and creds.context.get_ca_certs()


@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
def test_sasl(protocol, mechanism, pki):
    import faust
    from faust.types.auth import SASLMechanism

    from pipeline.adapters.kafka.config import aiokafka_config, faust_broker_config, kafka_python_config

    tls = protocol == "SASL_SSL"
    s = _kafka(protocol, mechanism, pki if tls else None)
    kp = kafka_python_config(s)
    assert kp["security_protocol"] == protocol and kp["sasl_mechanism"] == mechanism
    assert (kp["sasl_plain_username"], kp["sasl_plain_password"]) == ("svc-user", "s3cret-pass")
    assert ("ssl_cafile" in kp) is tls
    if tls:
        assert kp["ssl_cafile"] == pki["cafile"] and kp["ssl_check_hostname"] is True
    ak = aiokafka_config(s)
    assert ak["security_protocol"] == protocol and ak["sasl_mechanism"] == mechanism
    assert (ak["sasl_plain_username"], ak["sasl_plain_password"]) == ("svc-user", "s3cret-pass")
    assert ("ssl_context" in ak) is tls
    if tls:
        assert ak["ssl_context"].verify_mode == ssl.CERT_REQUIRED
    creds = faust_broker_config(s)["broker_credentials"]
    assert isinstance(creds, faust.SASLCredentials)
    assert creds.mechanism == SASLMechanism(mechanism)
    assert (creds.username, creds.password) == ("svc-user", "s3cret-pass")
    assert (creds.ssl_context is not None) is tls
    assert creds.protocol.value == protocol
    assert "s3cret-pass" not in repr(creds)


def test_clickhouse_client_passes_credentials_and_tls(pki):
    from pipeline.adapters.clickhouse.client import client

    s = Settings(clickhouse_host="ch.example", clickhouse_port=9440, clickhouse_user="reader",
                 clickhouse_password="ch-pass-123", clickhouse_secure=True, clickhouse_verify=True,
                 clickhouse_ca_certs=pki["cafile"], clickhouse_database="analytics")
    conn = client(s).connection  # no connection is opened until the first query
    assert list(conn.hosts) == [("ch.example", 9440)] and (conn.user, conn.password) == ("reader", "ch-pass-123")
    assert conn.secure_socket is True and conn.verify_cert is True
    assert conn.ssl_options["ca_certs"] == pki["cafile"]
    assert conn.database == "analytics"
    assert client(s, database=False).connection.database != "analytics"
    plain = client(dataclasses.replace(s, clickhouse_secure=False, clickhouse_verify=False,
                                       clickhouse_ca_certs="")).connection
    assert plain.secure_socket is False and plain.verify_cert is False


def test_secrets_are_redacted_in_settings():
    s = Settings(kafka_sasl_password="p1", clickhouse_password="p2", dashboard_token="t3")
    shown = s.redacted()
    assert shown["kafka_sasl_password"] == shown["clickhouse_password"] == shown["dashboard_token"] == "***"
    assert not {"p1", "p2", "t3"} & {str(v) for v in shown.values()}


# --- (c) embedded servers listen on loopback only ---------------------------------------------------------------------

def test_embedded_kafka_listens_on_loopback_only(tmp_path):
    from pipeline.ops.services.embedded_kafka import server_properties

    s = Settings(kafka_bootstrap="127.0.0.1:19092", kafka_controller_port=19093)
    props = dict(line.split("=", 1) for line in server_properties(s, tmp_path).splitlines() if "=" in line)
    for key in ("listeners", "advertised.listeners", "controller.quorum.bootstrap.servers"):
        for listener in props[key].split(","):
            assert re.fullmatch(r"(?:[A-Z]+://)?127\.0\.0\.1:\d+", listener), (key, listener)
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert "0.0.0.0" not in server_properties(s, tmp_path)


def test_embedded_clickhouse_listens_on_loopback_only():
    from xml.etree import ElementTree

    from pipeline.ops.services.clickhouse_server import CONFIG

    root = ElementTree.fromstring(CONFIG.format(tcp=19000, http=18123))
    assert [e.text for e in root.iter("listen_host")] == ["127.0.0.1"]
    assert "0.0.0.0" not in CONFIG and "::" not in CONFIG
    # no other network listener (interserver, MySQL/PostgreSQL protocol, gRPC…) is configured
    ports = {e.tag for e in root if e.tag.endswith("_port")}
    assert ports == {"tcp_port", "http_port"}


# --- (d) dashboard token comparison is constant-time -----------------------------------------------------------------

def test_dashboard_token_compare_is_constant_time():
    from pipeline.web import auth as server  # _same and auth_middleware live in pipeline.web.auth

    tree = ast.parse(inspect.getsource(server))
    funcs = {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    same = funcs["_same"]
    calls = [n for n in ast.walk(same) if isinstance(n, ast.Call)]
    assert any(isinstance(c.func, ast.Attribute) and c.func.attr == "compare_digest"
               and isinstance(c.func.value, ast.Name) and c.func.value.id == "hmac" for c in calls)
    # the auth middleware compares tokens and cookies only through _same(), never with == / !=
    middleware = funcs["auth_middleware"]
    assert sum(isinstance(c.func, ast.Name) and c.func.id == "_same"
               for c in ast.walk(middleware) if isinstance(c, ast.Call)) >= 2
    suspicious = {"token", "session", "header", "cookie"}
    for cmp in (n for n in ast.walk(middleware) if isinstance(n, ast.Compare)):
        if any(isinstance(op, (ast.Eq, ast.NotEq)) for op in cmp.ops):
            operands = [cmp.left, *cmp.comparators]
            if any(isinstance(o, ast.Constant) for o in operands):
                continue  # against a literal (the "bearer " prefix, None): no secret involved
            names = {n.id for n in ast.walk(cmp) if isinstance(n, ast.Name)}
            assert not names & suspicious, f"non-constant-time comparison in auth_middleware: {ast.unparse(cmp)}"
    # behaviour
    assert server._same("abc", "abc") and not server._same("abc", "abd") and not server._same("abc", "ab")
    assert not server._same("\udcff", "x")  # surrogate-escaped input does not raise
