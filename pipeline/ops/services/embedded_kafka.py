"""Embedded Apache Kafka broker (KRaft, combined broker+controller) run with the machine's Java 17.

The jars come from Maven Central through `pipeline/ops/services/broker/pom.xml` (`make setup`)."""
from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from pathlib import Path

from pipeline.ops.services.process import LaunchError, ManagedProcess, port_bindable
from pipeline.settings import Settings

BROKER_DIR = Path(__file__).resolve().parent / "broker"
LIB_DIR = BROKER_DIR / "lib"
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"

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


def server_properties(s: Settings, log_dir: Path) -> str:
    """server.properties of a single-node KRaft broker listening on 127.0.0.1 only."""
    port, cport = s.kafka_port, s.kafka_controller_port
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.bootstrap.servers=127.0.0.1:{cport}",
        f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
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
        """Write server.properties and log4j config; format storage on first start. Returns the properties path."""
        self.home.mkdir(parents=True, exist_ok=True)
        props = self.home / "server.properties"
        props.write_text(server_properties(self.s, self.home / "logs"))
        (self.home / "log4j2.properties").write_text(LOG4J2)
        if not (self.home / "logs" / "meta.properties").exists():
            result = subprocess.run(self._jvm(STORAGE_TOOL, "format", "--standalone",
                                              f"--cluster-id={new_cluster_id()}", "-c", str(props), heap="256m"),
                                    capture_output=True, text=True, timeout=120)
            if result.returncode != 0:
                last = ((result.stderr or result.stdout).strip().splitlines() or ["no output"])[-1]
                raise LaunchError(f"formatting Kafka storage in {self.home / 'logs'} failed: {last}")
        return props

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
        return self.proc.launch(self._jvm(MAIN_CLASS, str(props), heap=self.s.kafka_heap), self.healthy,
                                timeout=timeout, cwd=self.home,
                                failure=f"Kafka broker did not become ready on 127.0.0.1:{self.port} within {timeout:.0f}s")

    def healthy(self) -> bool:
        """True when the broker answers a metadata request."""
        from kafka import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{self.port}", request_timeout_ms=3000,
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
