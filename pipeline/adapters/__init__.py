"""I/O adapters: Kafka client config and admin, ClickHouse (client, writer, migrations, queries), webhooks, input files."""
