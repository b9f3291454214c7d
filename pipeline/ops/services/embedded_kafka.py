"""Embedded Apache Kafka broker (KRaft, combined broker+controller) run with the machine's Java 17.

The jars come from Maven Central through `pipeline/ops/services/broker/pom.xml` (`make setup`)."""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Optional

from pipeline.ops.services.process import LaunchError, ManagedProcess, port_bindable
from pipeline.settings import Settings

BROKER_DIR = Path(__file__).resolve().parent / "broker"
LIB_DIR = BROKER_DIR / "lib"
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
SCRAM_ITERATIONS = 8192
SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule"

LOG4J2 = """status = error
appender.file.type = Console
appender.file.name = OUT
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = OUT
logger.kafka.name = kafka.server.KafkaRaftServer
logger.kafka.level = info
"""


def server_properties(s: Settings, log_dir: Path, keystore: Optional[Path] = None) -> str:
    """server.properties of a single-node KRaft broker listening on 127.0.0.1 only. Its client listener speaks
    `kafka_security_protocol` (the broker talks to itself over it too); the controller listener stays PLAINTEXT
    on loopback. `keystore`: the PEM file (key + chain) of a TLS listener."""
    port, cport, proto = s.kafka_port, s.kafka_controller_port, s.kafka_security_protocol
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.bootstrap.servers=127.0.0.1:{cport}",
        f"listeners={proto}://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
        f"advertised.listeners={proto}://127.0.0.1:{port}",
        "controller.listener.names=CONTROLLER",
        f"inter.broker.listener.name={proto}",
        f"listener.security.protocol.map={proto}:{proto},CONTROLLER:PLAINTEXT",
        *listener_security(s, keystore),
        f"log.dirs={log_dir}",
        f"num.partitions={s.partitions}",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=6",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=false",
        "log.cleaner.enable=true",
        "log.retention.check.interval.ms=60000",
        "",
    ])


def listener_security(s: Settings, keystore: Optional[Path]) -> list[str]:
    """Broker lines for SASL (SCRAM: the credential is created when the storage is formatted, see
    `scram_credential`) and TLS (a PEM keystore; the CA of `kafka_ssl_cafile` as truststore for the broker's own
    connections to itself). PLAINTEXT: none."""
    proto, lines = s.kafka_security_protocol, []
    if proto.startswith("SASL"):
        mechanism = s.kafka_sasl_mechanism.upper()
        jaas = (f'{SCRAM_LOGIN} required username="{_jaas_quote(s.kafka_sasl_username)}" '
                f'password="{_jaas_quote(s.kafka_sasl_password)}";')
        lines += [f"sasl.enabled.mechanisms={mechanism}", f"sasl.mechanism.inter.broker.protocol={mechanism}",
                  f"listener.name.{proto.lower()}.{mechanism.lower()}.sasl.jaas.config={_prop_escape(jaas)}"]
    if "SSL" in proto:
        lines += ["ssl.keystore.type=PEM", f"ssl.keystore.location={keystore}", "ssl.client.auth=none"]
        if s.kafka_ssl_cafile:
            lines += ["ssl.truststore.type=PEM", f"ssl.truststore.location={Path(s.kafka_ssl_cafile).resolve()}"]
    return lines


def security_problem(s: Settings) -> Optional[str]:
    """Why the embedded broker cannot serve `kafka_security_protocol` with these settings, or None."""
    proto, var = s.kafka_security_protocol, "SOCIALPULSE_"
    if proto.startswith("SASL"):
        if s.kafka_sasl_mechanism.upper() not in SCRAM_MECHANISMS:
            return (f"the embedded Kafka broker supports SASL with SCRAM-SHA-256 or SCRAM-SHA-512 only: set "
                    f"{var}KAFKA_SASL_MECHANISM (it is {s.kafka_sasl_mechanism!r})")
        if not re.fullmatch(r"[A-Za-z0-9._@-]+", s.kafka_sasl_username or ""):
            return (f"{var}KAFKA_SASL_USERNAME must be set for the embedded broker's SCRAM user "
                    "(letters, digits and . _ @ - only)")
        if not s.kafka_sasl_password or "\n" in s.kafka_sasl_password:
            return f"{var}KAFKA_SASL_PASSWORD must be set (one line) for the embedded broker's SCRAM user"
    if "SSL" in proto and not (s.embedded_tls_certfile and s.embedded_tls_keyfile):
        return (f"{proto} on the embedded Kafka broker needs its certificate: set {var}EMBEDDED_TLS_CERTFILE and "
                f"{var}EMBEDDED_TLS_KEYFILE (PEM; the certificate must name 127.0.0.1)")
    return None


def scram_credential(mechanism: str, username: str, password: str, *, salt: Optional[bytes] = None,
                     iterations: int = SCRAM_ITERATIONS) -> str:
    """The storage tool's `--add-scram` value for this user: the salted password (RFC 5802 Hi = PBKDF2-HMAC),
    computed here so that the password itself is never parsed by the tool. Secret-equivalent: never on argv."""
    salt = os.urandom(24) if salt is None else salt
    digest = mechanism.upper().replace("SCRAM-", "").replace("-", "").lower()  # sha256 / sha512
    salted = hashlib.pbkdf2_hmac(digest, password.encode(), salt, iterations)
    b64 = (lambda raw: base64.b64encode(raw).decode())
    return (f'{mechanism.upper()}=[name={username},iterations={iterations},salt="{b64(salt)}",'
            f'saltedpassword="{b64(salted)}"]')


def _jaas_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _prop_escape(value: str) -> str:
    """A value for a Java .properties file (read as ISO-8859-1): backslashes doubled, the rest as \\uXXXX."""
    out = []
    for c in value.replace("\\", "\\\\"):
        if 32 <= ord(c) < 127:
            out.append(c)
        else:
            units = c.encode("utf-16-be")
            out.extend(f"\\u{int.from_bytes(units[i:i + 2], 'big'):04x}" for i in range(0, len(units), 2))
    return "".join(out)


def new_cluster_id() -> str:
    """A random KRaft cluster id: 16 random bytes, URL-safe base64 without padding — and, like Kafka's own
    `Uuid.randomUuid()`, never starting with "-" (the storage tool would read it as an option)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class EmbeddedKafka:
    """Start/stop/inspect the embedded broker; data under `<data_dir>/kafka`."""

    def __init__(self, s: Settings):
        self.s = s
        self.home = Path(s.data_dir).resolve() / "kafka"  # the broker runs with cwd=home: no relative paths
        self.proc = ManagedProcess("kafka", Path(s.data_dir) / "run")

    @property
    def port(self) -> int:
        return self.s.kafka_port

    def java(self) -> str:
        java = shutil.which("java")
        if not java:
            raise LaunchError("Java not found: the embedded Kafka broker needs Java 17+ "
                              "(install OpenJDK 17, e.g. `apt-get install openjdk-17-jre-headless`).")
        return java

    def classpath(self) -> str:
        if not any(LIB_DIR.glob("kafka_2.13-*.jar")):
            raise LaunchError(f"Kafka jars missing in {LIB_DIR}: run `make setup` "
                              "(it resolves them from Maven Central with pipeline/ops/services/broker/pom.xml).")
        return str(LIB_DIR / "*")

    def _jvm(self, *args: str, heap: str) -> list[str]:
        return [self.java(), f"-Xmx{heap}", "-Xms64m",
                "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
                "-cp", self.classpath(), *args]

    def configure(self) -> Path:
        """Write server.properties (mode 0600: with SASL it holds the broker's own credential) and log4j config;
        format storage on first start (with SASL, creating the SCRAM user). Returns the properties path."""
        problem = security_problem(self.s)
        if problem:
            raise LaunchError(problem)
        self.home.mkdir(parents=True, exist_ok=True)
        keystore = self._write_keystore() if "SSL" in self.s.kafka_security_protocol else None
        props = self.home / "server.properties"
        _write_private(props, server_properties(self.s, self.home / "logs", keystore))
        (self.home / "log4j2.properties").write_text(LOG4J2)
        if not (self.home / "logs" / "meta.properties").exists():
            self._format(props)
        return props

    def _write_keystore(self) -> Path:
        """The broker's PEM keystore: the key of `embedded_tls_keyfile` followed by the chain of
        `embedded_tls_certfile` (mode 0600)."""
        try:
            key = Path(self.s.embedded_tls_keyfile).read_text()
            chain = Path(self.s.embedded_tls_certfile).read_text()
        except OSError as exc:
            raise LaunchError(f"cannot read the embedded broker's certificate or key: {exc}") from None
        if "BEGIN PRIVATE KEY" not in key:
            raise LaunchError("SOCIALPULSE_EMBEDDED_TLS_KEYFILE must be an unencrypted PKCS#8 PEM key "
                              "(-----BEGIN PRIVATE KEY-----; convert with `openssl pkcs8 -topk8 -nocrypt`)")
        keystore = self.home / "keystore.pem"
        _write_private(keystore, key.strip() + "\n" + chain.strip() + "\n")
        return keystore

    def _format(self, props: Path) -> None:
        """Format the storage. The arguments go through a java @argfile (mode 0600, removed after) so that the
        SCRAM credential is never on a command line."""
        args = [STORAGE_TOOL, "format", "--standalone", f"--cluster-id={new_cluster_id()}", "-c", str(props)]
        if self.s.kafka_security_protocol.startswith("SASL"):
            args += ["--add-scram", scram_credential(self.s.kafka_sasl_mechanism, self.s.kafka_sasl_username,
                                                     self.s.kafka_sasl_password)]
        argfile = self.home / "format.args"
        _write_private(argfile, "\n".join(f"'{a}'" for a in args) + "\n")
        try:
            result = subprocess.run(self._jvm(f"@{argfile}", heap="256m"), capture_output=True, text=True,
                                    timeout=120)
        finally:
            argfile.unlink(missing_ok=True)
        if result.returncode != 0:
            last = ((result.stderr or result.stdout).strip().splitlines() or ["no output"])[-1]
            raise LaunchError(f"formatting Kafka storage in {self.home / 'logs'} failed: {last}")

    def start(self, timeout: float = 60.0) -> int:
        """Start the broker in the background and wait until it answers a metadata request. Returns the pid."""
        pid = self.proc.pid()
        if pid is not None:
            return pid
        for port in (self.port, self.s.kafka_controller_port):
            if not port_bindable(port):
                raise LaunchError(f"port {port} is already in use: stop what listens there or choose another port "
                                  f"(SOCIALPULSE_KAFKA_BOOTSTRAP / SOCIALPULSE_KAFKA_CONTROLLER_PORT).")
        props = self.configure()
        hint = ("" if not self.s.kafka_security_protocol.startswith("SASL") else
                " (its SCRAM user is created when the data dir is first formatted: a changed user or password "
                "needs a fresh data dir)")
        return self.proc.launch(self._jvm(MAIN_CLASS, str(props), heap=self.s.kafka_heap), self.healthy,
                                timeout=timeout, cwd=self.home,
                                failure=f"Kafka broker did not become ready on 127.0.0.1:{self.port} within "
                                        f"{timeout:.0f}s{hint}")

    def healthy(self) -> bool:
        """True when the broker answers a metadata request (over the configured protocol and credentials)."""
        from kafka import KafkaAdminClient

        from pipeline.adapters.kafka.config import kafka_python_config

        local = dataclasses.replace(self.s, kafka_bootstrap=f"127.0.0.1:{self.port}")
        admin = KafkaAdminClient(**kafka_python_config(local), request_timeout_ms=3000,
                                 api_version_auto_timeout_ms=3000)
        try:
            admin.list_topics()
            return True
        finally:
            admin.close()

    def stop(self, timeout: float = 30.0) -> bool:
        """Controlled shutdown (SIGTERM), SIGKILL after `timeout`."""
        return self.proc.terminate(timeout)

    def pid(self):
        return self.proc.pid()


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable by its owner only (created so: never briefly world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
