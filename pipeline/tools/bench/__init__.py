"""`socialpulse bench`: throughput against faust's own floor, latency, memory."""
