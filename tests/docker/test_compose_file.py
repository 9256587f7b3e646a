"""compose.yaml and compose.replicas.yaml hold together: nginx is the only way in, the files it
mounts exist, and the policy it serves is the one tests/app/test_nginx.py runs. When a compose
tool is installed (`docker compose`, `podman compose`, `docker-compose`), it must accept both
files as well. Fast: no container is started (tests/docker/test_container.py does that)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FILES = {"classroom": ["compose.yaml"], "replicas": ["compose.yaml", "compose.replicas.yaml"]}


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / name).read_text())
    assert isinstance(data, dict)
    return data


def test_nginx_is_the_only_way_in() -> None:
    services = load("compose.yaml")["services"]
    assert set(services) == {"app", "proxy"}
    assert "ports" not in services["app"], "the app publishes a port: nginx would be bypassed"
    assert services["proxy"]["ports"] == ["8000:8000"]
    assert services["proxy"]["depends_on"]["app"]["condition"] == "service_healthy"
    replicas = load("compose.replicas.yaml")["services"]
    # the replicas' classroom database is reachable only inside compose's network
    assert set(replicas) == {"app", "db"} and "ports" not in replicas["app"]
    assert "ports" not in replicas["db"]


def test_proxy_mounts_the_tested_policy() -> None:
    proxy = load("compose.yaml")["services"]["proxy"]
    sources = {}
    for volume in proxy["volumes"]:
        source, target, mode = volume.split(":")
        assert mode == "ro" and target.startswith("/etc/nginx/conf.d/")
        assert (ROOT / source).is_file(), source
        sources[Path(source).name] = target
    assert set(sources) == {"autodiff-lab.conf", "upstream-compose.conf"}
    upstream = (ROOT / "deploy/nginx/upstream-compose.conf").read_text()
    # The upstream the policy proxies to, with a second entry to retry on.
    assert "upstream autodiff_lab" in upstream and upstream.count("server app:8000") == 2
    policy = (ROOT / "deploy/nginx/autodiff-lab.conf").read_text()
    assert "proxy_pass http://autodiff_lab;" in policy


def compose_tool() -> list[str] | None:
    for argv in (["docker", "compose"], ["podman", "compose"], ["docker-compose"]):
        if shutil.which(argv[0]) and subprocess.run(
                [*argv, "version"], capture_output=True, timeout=30).returncode == 0:
            return argv
    return None


@pytest.mark.parametrize("name", list(FILES))
def test_compose_tool_accepts_the_files(name: str) -> None:
    tool = compose_tool()
    if tool is None:  # the checks above still ran; say so in the summary
        pytest.skip("no compose tool installed (docker compose, podman compose, docker-compose)")
    args = [arg for file in FILES[name] for arg in ("-f", str(ROOT / file))]
    proc = subprocess.run([*tool, *args, "config", "--quiet"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
