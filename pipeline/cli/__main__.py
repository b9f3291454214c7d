"""`python -m pipeline.cli …` = `socialpulse …`."""
from pipeline.cli import main

main()
