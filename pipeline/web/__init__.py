"""The live alerts dashboard: the aiohttp app (`server.py` wires `auth`, `feed`, `api` and `pages`) and its static
page (`static/`)."""
