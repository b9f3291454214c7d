"""The live alerts dashboard: aiohttp server (`server.py`) and its static page (`static/`)."""
