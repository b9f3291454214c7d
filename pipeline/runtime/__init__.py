"""The faust worker's machinery: app, batching and outbox, packed hops, watermarks, the identity table, the sink service and every faust/aiokafka internal we touch (faust_compat)."""
