"""What operators run: the CLI and what it drives (stack, embedded services, worker, drain, demo, loads, replay)."""
