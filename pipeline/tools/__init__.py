"""Development tools: the benchmark, the sample generator, the complaint model's evaluation and training data."""
