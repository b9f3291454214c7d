"""ClickHouse: the one client factory, the idempotent writer, migrations and the read queries."""
