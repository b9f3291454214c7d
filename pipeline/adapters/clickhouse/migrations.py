"""ClickHouse schema migrations: numbered SQL files in `schemas/clickhouse/`, applied in order, recorded in
`schema_migrations`; applying again is a no-op (`socialpulse migrate`, `socialpulse up`).

File rules: name `NNN_name.sql`; statements end with `;` at the end of a line; lines starting with `--` are
comments; tables are unqualified (the client is connected to the project database); statements are idempotent
(IF NOT EXISTS / OR REPLACE), so a file that failed half-way is simply applied again. A file is recorded only after
all of its statements succeeded. Never edit an applied file: add a new one (a changed checksum is logged).
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pipeline.adapters.clickhouse.client import client
from pipeline.adapters.clickhouse.retention import apply_retention
from pipeline.settings import Settings

log = logging.getLogger(__name__)

#: Where the migration files live (repository checkout, or the installed `schemas` data directory).
MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "schemas" / "clickhouse"
MIGRATIONS_TABLE = "schema_migrations"

_FILE_RE = re.compile(r"^(\d{3,})_([A-Za-z0-9_]+)\.sql$")
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# The bookkeeping table is created by the migrator itself: it must exist before any file is read.
_BOOKKEEPING_DDL = f"""
CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE}
(
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version
"""


class MigrationError(RuntimeError):
    """A migration file is malformed or missing, or the database name is not a plain identifier."""


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file."""

    version: int
    name: str
    path: Path
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def statements(self) -> list[str]:
        return split_statements(self.sql)


def quote_database(name: str) -> str:
    """`name` validated as a plain identifier and quoted with backticks (the only non-parameter SQL we compose)."""
    if not _IDENTIFIER_RE.fullmatch(name or ""):
        raise MigrationError(f"ClickHouse database name {name!r} is not valid: use letters, digits and _ "
                             "(SOCIALPULSE_CLICKHOUSE_DATABASE)")
    return f"`{name}`"


def split_statements(sql: str) -> list[str]:
    """The statements of a migration file: split after lines ending with `;`, `--` comment lines dropped."""
    statements: list[str] = []
    current: list[str] = []
    for line in sql.splitlines():
        if line.lstrip().startswith("--"):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            text = "\n".join(current).strip()[:-1].strip()
            if text:
                statements.append(text)
            current = []
    tail = "\n".join(current).strip()
    if tail:
        statements.append(tail)
    return statements


def migration_files(directory: Optional[Path] = None) -> list[Migration]:
    """All migration files in version order; raises MigrationError on a bad name or a duplicate version."""
    directory = MIGRATIONS_DIR if directory is None else directory
    if not directory.is_dir():
        raise MigrationError(f"migration directory {directory} not found (is the package installed with its "
                             "schemas/clickhouse/*.sql data files?)")
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        m = _FILE_RE.match(path.name)
        if not m:
            raise MigrationError(f"{path.name}: migration files must be named NNN_name.sql")
        version = int(m.group(1))
        if version in found:
            raise MigrationError(f"{path.name}: version {version} is also used by {found[version].name}")
        found[version] = Migration(version, path.name, path, path.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def _applied(c) -> dict[int, str]:
    """Applied versions → checksum, from the bookkeeping table."""
    rows = c.execute(f"SELECT version, argMax(checksum, applied_at) FROM {MIGRATIONS_TABLE} GROUP BY version")
    return {int(v): cs for v, cs in rows}


def _prepare(s: Settings):
    """Create the database and the bookkeeping table if needed; returns a client on the project database."""
    database = quote_database(s.clickhouse_database)
    admin = client(s, database=False)
    try:
        admin.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
    finally:
        admin.disconnect()
    c = client(s)
    c.execute(_BOOKKEEPING_DDL)
    return c


def pending_migrations(s: Settings, directory: Optional[Path] = None) -> list[Migration]:
    """Migration files not yet recorded as applied in the configured database (creates the database if missing)."""
    files = migration_files(directory)
    c = _prepare(s)
    try:
        applied = _applied(c)
    finally:
        c.disconnect()
    for m in files:
        if m.version in applied and applied[m.version] != m.checksum:
            log.warning("migration %s was changed after it was applied; changes to applied files are not "
                        "re-applied, add a new migration instead", m.name)
    return [m for m in files if m.version not in applied]


def apply_migrations(s: Settings, directory: Optional[Path] = None) -> list[str]:
    """Apply pending migrations in order, then the retention settings (pipeline/adapters/clickhouse/retention.py:
    TTLs changed only when they differ); returns the file names applied (empty when up to date)."""
    pending = pending_migrations(s, directory)
    c = client(s)
    done: list[str] = []
    try:
        for m in pending:
            for statement in m.statements:
                c.execute(statement)
            c.execute(f"INSERT INTO {MIGRATIONS_TABLE} (version, name, checksum) VALUES",
                      [(m.version, m.name, m.checksum)])
            log.info("applied ClickHouse migration %s", m.name)
            done.append(m.name)
        apply_retention(c, s)
    finally:
        c.disconnect()
    return done
