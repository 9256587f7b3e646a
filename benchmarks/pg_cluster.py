"""A throwaway PostgreSQL cluster (Debian's `postgresql`: initdb and pg_ctl) in a temporary
folder on a free loopback port, for the classroom's tests and benchmarks.

    with throwaway_postgres() as url:   # postgresql+psycopg://autodiff@127.0.0.1:PORT/postgres
        ...

PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user
(runuser) in a folder that user owns. scripts/setup.sh --dev installs the package.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's bin folder."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL is not installed; run scripts/setup.sh --dev")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def throwaway_postgres(max_connections: int = 200) -> Iterator[str]:
    binaries = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="autodiff-pg-"))
    data = root / "data"
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if prefix:
        shutil.chown(root, "postgres")
    port = free_port()
    # fsync off: a throwaway cluster; durability is SQLite's test (the SIGKILL test)
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
               f"-c max_connections={max_connections}")
    try:
        subprocess.run([*prefix, str(binaries / "initdb"), "-D", str(data), "-U", "autodiff",
                        "--auth=trust", "-E", "UTF8", "--no-sync"], check=True,
                       capture_output=True)
        subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-l",
                        str(root / "log"), "-o", options, "-w", "-t", "60", "start"],
                       check=True, capture_output=True)
        yield f"postgresql+psycopg://autodiff@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
