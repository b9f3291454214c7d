"""`socialpulse dashboard rotate-token`. The token lives in `<data dir>/run/dashboard.token` (mode 0600); a
running dashboard that follows it (`pipeline.web.tokens`: started by `up`, or by hand without
SOCIALPULSE_DASHBOARD_TOKEN) switches to the new one within a few seconds, and from then on refuses the old token
and every session made with it.
"""
from __future__ import annotations

from pathlib import Path

from pipeline.settings import Settings
from pipeline.web.server import dashboard_url
from pipeline.adapters.secretfile import write_secret
from pipeline.web.tokens import TOKEN_CHECK_SECONDS, new_token, token_file


class EnvironmentToken(ValueError):
    """The token comes from SOCIALPULSE_DASHBOARD_TOKEN: nothing here can change it."""


def rotate_token(s: Settings) -> list[str]:
    """Write a new token; returns the lines to print (where it is, what happens, the new login URL)."""
    if s.dashboard_token:
        raise EnvironmentToken("SOCIALPULSE_DASHBOARD_TOKEN is set: a token given by the environment cannot be "
                               "rotated here; change the variable and restart the dashboard")
    path = token_file(Path(s.data_dir))
    token = new_token()
    write_secret(path, token)
    url = dashboard_url(s.dashboard_host, s.dashboard_port)
    return [f"new dashboard token written to {path.resolve()} (mode 0600)",
            f"a running dashboard switches to it within {TOKEN_CHECK_SECONDS:g} s: the old token and every session "
            "made with it stop working, open pages must sign in again",
            f"sign in: {url}?token={token}"]

