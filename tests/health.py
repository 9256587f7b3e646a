"""Waiting for a server that is starting (the app, `autodiff-lab serve`, nginx, JupyterLab)
until it answers, for the tests and the benchmarks alike."""

from __future__ import annotations

import subprocess
import time

import httpx


def answers_health(url: str, seconds: float, *, process: subprocess.Popen[bytes] | None = None,
                   path: str = "/healthz") -> bool:
    """Whether GET `url` + `path` answers 200 within `seconds` (asked every 0.1 s); False as
    soon as `process`, the one serving it, has exited."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            if httpx.get(f"{url}{path}", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False
