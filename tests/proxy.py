"""Debian's nginx on loopback in front of an app, configured by the deployment's own policy file
(deploy/nginx/autodiff-lab.conf), for tests/app/test_nginx.py and the container test.

The policy is included verbatim except for its listen line (a free loopback port here, 8000 in
compose). The upstream lists the app twice, as deploy/nginx/upstream-compose.conf does, so that
a request cut short by a dying worker has a second entry to be retried on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.health import answers_health

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "deploy" / "nginx" / "autodiff-lab.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass
class Nginx:
    url: str
    error_log: Path


def nginx_config(folder: Path, listen: int, app_port: int) -> str:
    """A main nginx.conf (written into `folder` with the policy) proxying to 127.0.0.1:app_port."""
    policy = POLICY.read_text()
    assert policy.count("listen 8000;") == 1
    (folder / "autodiff-lab.conf").write_text(
        policy.replace("listen 8000;", f"listen 127.0.0.1:{listen};"))
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    user = "user root;" if os.geteuid() == 0 else ""  # workers may read the test's files
    return f"""
{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    default_type application/octet-stream;
    include {folder}/autodiff-lab.conf;
    upstream autodiff_lab {{
        server 127.0.0.1:{app_port} max_fails=0;
        server 127.0.0.1:{app_port} max_fails=0;
    }}
}}
"""


@contextmanager
def nginx_in_front(folder: Path, listen: int, app_port: int) -> Iterator[Nginx]:
    """nginx running (checked with `nginx -t` first) until the block ends."""
    if not Path(NGINX).exists():
        raise AssertionError("nginx is not installed: scripts/setup.sh --dev installs it")
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "nginx.conf"
    conf.write_text(nginx_config(folder, listen, app_port))
    check = subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([NGINX, "-c", str(conf), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{listen}"
        assert answers_health(url, 20), f"{url} did not answer /healthz in 20 s"
        yield Nginx(url, folder / "error.log")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def retried_requests(nginx: Nginx) -> list[str]:
    """nginx's log lines for requests an upstream cut short (each was sent again)."""
    return [line for line in nginx.error_log.read_text().splitlines()
            if "upstream" in line and "while reading response header" in line]
