"""A class at once: students join and answer exercises together while each teacher's dashboard
polls the class's progress; then every acknowledged answer is looked up in the database.

    python benchmarks/class_bench.py                      # 40 students, 1 class, 2 workers, SQLite
    python benchmarks/class_bench.py --students 200 --classes 5 --replicas 2   # PostgreSQL, nginx

Without --url it starts `python -m app` itself (--workers, SQLite in a temporary folder, or
--database-url), or with --replicas N: N single-worker replicas sharing a throwaway
PostgreSQL (benchmarks/pg_cluster.py) behind Debian's nginx running deploy/nginx's policy.
Every student joins at the same moment, then answers --answers questions
with a random pause of 0 to 2 x --think seconds before each; every teacher reads the progress
every second. The baseline, measured first in the same run by the same students, is the
stateless check (`POST /api/v1/quiz/check`: the same judging, no key, no database), so the
ratio is what the classroom's storage and keys cost. Prints p50/p99 per kind, errors, and
whether the database counted every answer; `--json` writes the figures to a file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pg_cluster import throwaway_postgres

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.health import answers_health  # noqa: E402

# (body, whether it is right): the fan-out exercise, right and with the fork forgotten
FANOUT = {"source": "b = a + a; c = b + b", "at": {"a": 2.0}, "mode": "reverse"}
QUESTIONS = [({**FANOUT, "question": "adjoint-v1", "answer": 2.0}, True),
             ({**FANOUT, "question": "adjoint-v0", "answer": 2.0}, False),
             ({**FANOUT, "question": "adjoint-v0", "answer": 4.0}, True),
             ({"source": "x = 3*w; y = 2*x^2 + 4", "at": {"w": 1.0}, "mode": "forward",
               "question": "tangent-v2", "answer": 3.0}, True)]


class Laptop:
    """One device's keep-alive HTTP/1.1 connection, optionally from a loopback address of its
    own, written as raw bytes. No HTTP library: httpx spent about 5 ms of CPU per request
    here, and on a busy 2-core machine the generator's own queueing counted as the server's
    latency (nginx logged answers at a third of what the students measured)."""

    IDLE_SECONDS = 2.0  # below uvicorn's keep-alive (5 s) and nginx's (15 s): reopen, not race

    def __init__(self, url: str, address: str | None = None) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.address = address
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.used = 0.0

    async def request(self, method: str, path: str, body: Any = None,
                      headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """The status and body of one request (ConnectionError if the connection drops)."""
        if self.streams is not None and time.monotonic() - self.used > self.IDLE_SECONDS:
            self.close()
        if self.streams is None:
            self.streams = await asyncio.open_connection(
                self.host, self.port, local_addr=(self.address, 0) if self.address else None)
        reader, writer = self.streams
        data = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", f"host: {self.host}:{self.port}",
                f"content-length: {len(data)}", "content-type: application/json",
                *(f"{k}: {v}" for k, v in (headers or {}).items())]
        try:
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
            lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            fields = {k.strip().lower(): v.strip()
                      for k, _, v in (x.partition(":") for x in lines[1:] if x)}
            if fields.get("transfer-encoding", "").lower() == "chunked":
                content = b""
                while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                    content += (await reader.readexactly(size + 2))[:-2]
                await reader.readuntil(b"\r\n")
            else:
                content = await reader.readexactly(int(fields.get("content-length", "0")))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
            self.close()
            raise ConnectionError(type(error).__name__) from error
        except ConnectionError:
            self.close()
            raise
        self.used = time.monotonic()
        if fields.get("connection", "").lower() == "close":
            self.close()
        return int(lines[0].split()[1]), content

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    acknowledged: dict[str, int] = field(default_factory=dict)  # class code -> answers

    def record(self, kind: str, started: float, status: int | None, text: bytes = b"",
               ok_status: int = 200, detail: str = "") -> bool:
        self.latencies.setdefault(kind, []).append(time.perf_counter() - started)
        ok = status == ok_status
        if not ok:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            if len(self.samples) < 5:
                self.samples.append(f"{kind}: {status or detail} {text[:200]!r}")
        return ok


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def call(laptop: Laptop, stats: Stats, kind: str, method: str, path: str,
               ok_status: int = 200, **kwargs: Any) -> Any:
    """One timed request; its JSON when the status is `ok_status`, else None."""
    started = time.perf_counter()
    try:
        status, content = await laptop.request(method, path, **kwargs)
    except OSError as error:
        stats.record(kind, started, None, detail=type(error).__name__)
        return None
    if stats.record(kind, started, status, content, ok_status):
        return json.loads(content)
    return None


async def student(laptop: Laptop, stats: Stats, code: str | None, number: int,
                  answers: int, think: float, rng: random.Random) -> None:
    """One student: join (unless baseline), then answer with pauses."""
    headers: dict[str, str] = {}
    if code is not None:
        joined = await call(laptop, stats, "join", "POST", f"/api/v1/classes/{code}/students",
                            201, body={"nickname": f"student-{number}"})
        if joined is None:
            return
        headers = {"Authorization": f"Bearer {joined['student_key']}"}
    for n in range(answers):
        await asyncio.sleep(rng.uniform(0, 2 * think))
        body, _ = QUESTIONS[(number + n) % len(QUESTIONS)]
        if code is None:
            await call(laptop, stats, "check", "POST", "/api/v1/quiz/check", body=body)
            continue
        verdict = await call(laptop, stats, "answer", "POST", f"/api/v1/classes/{code}/answers",
                             body={**body, "exercise": "Fan-out"}, headers=headers)
        if verdict is not None:
            stats.acknowledged[code] = stats.acknowledged.get(code, 0) + 1


async def teacher(laptop: Laptop, stats: Stats, code: str, key: str,
                  done: asyncio.Event) -> None:
    """The dashboard: the progress every second until the students are done."""
    while not done.is_set():
        await call(laptop, stats, "progress", "GET", f"/api/v1/classes/{code}/progress",
                   headers={"Authorization": f"Bearer {key}"})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 1.0)


async def run(urls: list[str], students: int, classes: int, answers: int, think: float,
              seed: int, own_addresses: bool = False) -> dict[str, Any]:
    """The baseline, then the class; with `own_addresses` each student connects from an
    address of its own (127.0.x.y), as laptops in a room do (nginx limits per address)."""
    rng = random.Random(seed)
    laptops = [Laptop(urls[i % len(urls)], f"127.0.{1 + i // 250}.{1 + i % 250}"
                      if own_addresses else None) for i in range(students)]
    desks = [Laptop(urls[c % len(urls)]) for c in range(classes)]  # the teachers'
    try:
        # the baseline: the same students, the stateless check
        base = Stats()
        await asyncio.gather(*(student(laptops[i], base, None, i, answers, think, rng)
                               for i in range(students)))
        # the class: make the classes, then everyone at once
        stats = Stats()
        made = []
        for c in range(classes):
            status, content = await desks[c].request("POST", "/api/v1/classes",
                                                     body={"name": f"Bench {c}"})
            if status != 201:
                raise RuntimeError(f"making a class: {status} {content[:200]!r}")
            made.append((json.loads(content)["code"], json.loads(content)["teacher_key"]))
        done = asyncio.Event()
        teachers = [asyncio.create_task(teacher(desks[c], stats, code, key, done))
                    for c, (code, key) in enumerate(made)]
        await asyncio.gather(*(student(laptops[i], stats, made[i % classes][0], i, answers,
                                       think, rng) for i in range(students)))
        done.set()
        await asyncio.gather(*teachers)
        # every acknowledged answer must be in the database
        counted = {}
        for c, (code, key) in enumerate(made):
            status, content = await desks[c].request(
                "GET", f"/api/v1/classes/{code}/progress",
                headers={"Authorization": f"Bearer {key}"})
            counted[code] = json.loads(content)["answers"]
    finally:
        for laptop in laptops + desks:
            laptop.close()
    figures: dict[str, Any] = {"students": students, "classes": classes, "answers_each": answers,
                               "kinds": {}, "errors": {**base.errors, **stats.errors},
                               "error_samples": base.samples + stats.samples}
    for source in (base, stats):
        for kind, values in source.latencies.items():
            figures["kinds"][kind] = {"count": len(values),
                                      "p50_ms": round(1000 * percentile(values, 0.5), 1),
                                      "p95_ms": round(1000 * percentile(values, 0.95), 1),
                                      "p99_ms": round(1000 * percentile(values, 0.99), 1)}
    figures["acknowledged"] = sum(stats.acknowledged.values())
    figures["counted"] = sum(counted.values())
    figures["every_answer_counted"] = all(counted[c] == stats.acknowledged.get(c, 0)
                                          for c in counted)
    check, answer = figures["kinds"].get("check"), figures["kinds"].get("answer")
    if check and answer:
        figures["answer_vs_check_p99"] = round(answer["p99_ms"] / max(check["p99_ms"], 0.1), 2)
    return figures


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(workers: int, data_dir: str, database_url: str = "",
                 port: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m app` in its own process group; returns it once /healthz answers."""
    port = port or free_port()
    env = {**os.environ, "AUTODIFF_HOST": "127.0.0.1", "AUTODIFF_PORT": str(port),
           "AUTODIFF_WORKERS": str(workers), "AUTODIFF_DATA_DIR": data_dir,
           "AUTODIFF_DATABASE_URL": database_url}
    log = open(Path(data_dir) / f"server-{port}.log", "wb")  # noqa: SIM115 (the server's)
    process = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    if answers_health(url, 60, process=process):
        return process, url
    stop_server(process)
    raise RuntimeError(f"the server did not start; see {log.name}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


NGINX_POLICY = ROOT / "deploy" / "nginx" / "autodiff-lab.conf"


def start_nginx(folder: Path, app_ports: list[int]) -> tuple[subprocess.Popen[bytes], str]:
    """Debian's nginx with the deployment's own policy file, in front of the replicas."""
    port = free_port()
    policy = NGINX_POLICY.read_text().replace("listen 8000;", f"listen 127.0.0.1:{port};")
    (folder / "autodiff-lab.conf").write_text(policy)
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / name).mkdir()
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in app_ports)
    user = "user root;" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/autodiff-lab.conf;
    upstream autodiff_lab {{
{servers}
        keepalive 64;
    }}
}}
""")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen([nginx, "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
                               start_new_session=True, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    if answers_health(url, 20, process=process):
        return process, url
    stop_server(process)
    raise RuntimeError(f"nginx did not start; see {folder / 'error.log'}")


@contextlib.contextmanager
def replicas_behind_nginx(replicas: int, data_dir: str) -> Iterator[str]:
    """`replicas` single-worker servers sharing a throwaway PostgreSQL behind Debian's nginx
    (deploy/nginx's policy); yields nginx's URL and stops them all afterwards."""
    processes: list[subprocess.Popen[bytes]] = []
    with throwaway_postgres(max_connections=300) as database_url:
        try:
            ports = []
            for _ in range(replicas):
                process, url = start_server(1, data_dir, database_url)
                processes.append(process)
                ports.append(int(url.rsplit(":", 1)[1]))
            folder = Path(data_dir) / "nginx"
            folder.mkdir()
            process, url = start_nginx(folder, ports)
            processes.append(process)
            yield url
        finally:
            for process in reversed(processes):  # before their database goes
                stop_server(process)


def report(figures: dict[str, Any]) -> str:
    lines = [f"{figures['students']} students in {figures['classes']} class(es), "
             f"{figures['answers_each']} answers each ({figures.get('database', '')})"]
    for kind, f in figures["kinds"].items():
        lines.append(f"  {kind:9} {f['count']:6} requests  p50 {f['p50_ms']:7.1f} ms  "
                     f"p95 {f['p95_ms']:7.1f} ms  p99 {f['p99_ms']:7.1f} ms")
    lines.append(f"  errors: {figures['errors'] or 'none'}")
    for sample in figures["error_samples"]:
        lines.append(f"    {sample}")
    lines.append(f"  answers acknowledged {figures['acknowledged']}, counted in the database "
                 f"{figures['counted']}: {'all' if figures['every_answer_counted'] else 'NOT all'}")
    if "answer_vs_check_p99" in figures:
        lines.append(f"  p99 of a recorded answer / p99 of the stateless check (baseline): "
                     f"{figures['answer_vs_check_p99']}x")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", action="append", help="a running server (repeat for several "
                        "replicas: students are spread over them); default: start one")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--classes", type=int, default=1)
    parser.add_argument("--answers", type=int, default=10, help="answers per student")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause (s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp folder")
    parser.add_argument("--replicas", type=int, default=0,
                        help="start this many single-worker replicas on a throwaway PostgreSQL "
                             "(Debian's) behind Debian's nginx with deploy/nginx's policy; "
                             "each student connects from its own loopback address")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="class-bench-"))
        urls, database = args.url, "as the server is configured"
        if not urls and args.replicas:
            urls = [stack.enter_context(replicas_behind_nginx(args.replicas, data_dir))]
            database = f"postgresql, {args.replicas} replicas behind nginx"
        elif not urls:
            process, url = start_server(args.workers, data_dir, args.database_url)
            stack.callback(stop_server, process)
            urls = [url]
            database = (args.database_url.split("://")[0] if args.database_url
                        else "sqlite") + f", {args.workers} workers"
        started = resource.getrusage(resource.RUSAGE_SELF)
        figures = asyncio.run(run(urls, args.students, args.classes, args.answers, args.think,
                                  args.seed, own_addresses=bool(args.replicas)))
        used = resource.getrusage(resource.RUSAGE_SELF)
        figures["load_generator_cpu_s"] = round(used.ru_utime + used.ru_stime
                                                - started.ru_utime - started.ru_stime, 1)
        figures["database"] = database
    print(report(figures))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
