"""The records, topics and JSON schemas other tools depend on (the public contract)."""
