"""Process entry point of the embedded ClickHouse server (one chdb engine per process).

`python -m pipeline.ops.services.clickhouse_server RUN_DIR TCP_PORT HTTP_PORT` writes config.xml into RUN_DIR, opens the
TCP and HTTP listeners and blocks until a line is written to RUN_DIR/stop.fifo (recipe: shared NOTES.md). The users
are RUN_DIR/users.xml, written by the parent before the launch (`write_users_config`): without it the server does
not start.

Locked (docs/operations.md): chdb's own session always logs in as `default` with an empty password, so `default`
must exist without one. It may do only what that session does (open/close the listeners, read the stop FIFO) and
hold one session at a time (`max_sessions_for_user`): the server's session holds it from before the listeners
open until after they close (the batch ends with STOP LISTEN), so every client login as `default`, over TCP or
HTTP, is refused (USER_SESSION_LIMIT_EXCEEDED). Clients use the project's user, known by the sha256 of its
password only."""
from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

USERS_FILE = "users.xml"
_USER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


#: config.xml: the listeners on the loopback interface, errors only on the console (the log file), at most half the
#: RAM, the users of USERS_FILE.
CONFIG = ("<clickhouse><listen_host>127.0.0.1</listen_host><tcp_port>{tcp}</tcp_port><http_port>{http}</http_port>"
          "<logger><level>error</level><console>1</console></logger>"
          "<max_server_memory_usage_to_ram_ratio>0.5</max_server_memory_usage_to_ram_ratio>"
          f"<users_config>{USERS_FILE}</users_config></clickhouse>")


def server_config(tcp: int, http: int) -> str:
    """The server's config.xml (CONFIG for these ports)."""
    return CONFIG.format(tcp=tcp, http=http)


def users_config(user: str, password: str) -> str:
    """users.xml: `user` with every privilege (databases, tables, views, DELETE, ALTER, system tables), known by the
    sha256 of `password`; `default` locked to chdb's own session (see the module doc)."""
    if not _USER_RE.fullmatch(user) or user == "default":
        raise ValueError(f"the embedded ClickHouse server's user must be a plain name other than default, not {user!r}")
    if not password:
        raise ValueError("the embedded ClickHouse server's user needs a password")
    digest = hashlib.sha256(password.encode()).hexdigest()
    return f"""<clickhouse>
  <profiles>
    <default/>
    <bootstrap><max_sessions_for_user>1</max_sessions_for_user></bootstrap>
  </profiles>
  <quotas><default/></quotas>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>bootstrap</profile>
      <quota>default</quota>
      <grants>
        <query>GRANT SYSTEM LISTEN ON *.*</query>
        <query>GRANT CREATE TEMPORARY TABLE ON *.*</query>
        <query>GRANT READ ON FILE</query>
      </grants>
    </default>
    <{user}>
      <password_sha256_hex>{digest}</password_sha256_hex>
      <networks><ip>::/0</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </{user}>
  </users>
</clickhouse>
"""


def write_users_config(run_dir: Path, user: str, password: str) -> Path:
    """Write RUN_DIR/users.xml with mode 0600 (created so, then moved into place)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / USERS_FILE
    tmp = run_dir / f".{USERS_FILE}.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, users_config(user, password).encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def main(argv: list[str]) -> int:
    run_dir, tcp, http = Path(argv[0]).resolve(), int(argv[1]), int(argv[2])
    run_dir.mkdir(parents=True, exist_ok=True)
    if not (run_dir / USERS_FILE).is_file():
        print(f"{run_dir / USERS_FILE} is missing: not starting a ClickHouse server without its users",
              file=sys.stderr)
        return 2
    if len(argv) >= 5:  # [CERTFILE KEYFILE]: TLS on the clients' ports, chdb's plain listeners behind (tls_proxy.py)
        from pipeline.ops.services.tls_proxy import tls_front

        tcp, http = tls_front(tcp, http, argv[3], argv[4])
    (run_dir / "config.xml").write_text(server_config(tcp, http))
    fifo = run_dir / "stop.fifo"
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    os.chdir(run_dir)  # chdb reads config.xml from the working directory
    from chdb import _chdb  # imported after chdir on purpose

    # The FIFO read blocks the batch, keeping the listeners open; one line written to it ends the server. The
    # listeners close before the batch (and with it the session that keeps `default` out) ends.
    sql = ("SYSTEM START LISTEN TCP; SYSTEM START LISTEN HTTP; "
           f"SELECT count() FROM file('{fifo}', 'LineAsString') SETTINGS storage_file_read_method='read'; "
           "SYSTEM STOP LISTEN TCP; SYSTEM STOP LISTEN HTTP")
    _chdb.query(sql, "TabSeparated", path=str(run_dir / "data"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
