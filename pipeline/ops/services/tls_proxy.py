"""TLS in front of the embedded ClickHouse server's plain listeners, in the server's own process (I/O).

chdb's clickhouse-local opens plain TCP and HTTP listeners only (`SYSTEM START LISTEN TCP SECURE` is refused), so with
`clickhouse_secure` the server process terminates TLS itself: it listens with the configured certificate on the ports
the clients use (127.0.0.1 only) and forwards each connection, decrypted, to chdb's listeners on other loopback ports.
ClickHouse still checks the user and password of every connection; TLS versions below 1.2 are refused."""
from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from typing import Iterable

log = logging.getLogger(__name__)
CHUNK = 1 << 16


def server_context(certfile: str, keyfile: str) -> ssl.SSLContext:
    """A server-side TLS context with the certificate chain and key (TLS 1.2+, no client certificates)."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certfile, keyfile)
    return ctx


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (OSError, ssl.SSLError):  # the other side went away: close this one too
        pass
    finally:
        writer.close()


def _handler(target_port: int):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:  # the server behind is not listening (yet): the client sees a closed connection
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
    return handle


def _quiet(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """Failed handshakes (an untrusted certificate on the client's side, a plain-text client) are the client's
    error, reported there: one debug line here instead of asyncio's traceback."""
    log.debug("TLS front: %s", context.get("exception") or context.get("message"))


def serve_tls(routes: Iterable[tuple[int, int]], certfile: str, keyfile: str) -> threading.Thread:
    """Listen with TLS on 127.0.0.1 at each `listen` port of `routes` ((listen, target) pairs) and forward to
    127.0.0.1:`target`, in a daemon thread. The ports are bound before this returns (an error raises here)."""
    ctx = server_context(certfile, keyfile)
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_quiet)
    for listen, target in routes:
        loop.run_until_complete(asyncio.start_server(_handler(target), "127.0.0.1", listen, ssl=ctx))
    thread = threading.Thread(target=loop.run_forever, name="tls-front", daemon=True)
    thread.start()
    return thread


def tls_front(tcp: int, http: int, certfile: str, keyfile: str) -> tuple[int, int]:
    """TLS on the clients' `tcp` and `http` ports in front of two free loopback ports, returned for chdb's plain
    listeners (clickhouse_server.py with a certificate and key)."""
    from pipeline.adapters.net import free_port

    plain_tcp = free_port()
    plain_http = free_port()
    while plain_http == plain_tcp:
        plain_http = free_port()
    serve_tls([(tcp, plain_tcp), (http, plain_http)], certfile, keyfile)
    return plain_tcp, plain_http
