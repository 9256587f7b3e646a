"""Server settings: every limit the classroom server enforces, read from AUTODIFF_* variables.

`get_settings()` is cached; tests build their own `Settings(...)` and pass it to `create_app`.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

import autodiff_core as ad


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTODIFF_")

    # where `python -m app` listens
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1

    # request size, checked by counting bytes before any parsing (413 beyond it)
    max_body_bytes: int = 256_000

    # program limits, checked by the parser before any node is evaluated (422 beyond them)
    max_source_chars: int = 20_000
    max_statements: int = 1_000
    max_nodes: int = 5_000
    max_depth: int = 100
    max_number: float = 1e100

    # a grid of points (inputs bound to lists) may have at most this many points, counted as
    # the size of the inputs' broadcast shape; one request may evaluate at most max_work nodes
    # (nodes x grid points x passes), and its trace may hold at most max_trace_size steps and
    # contributions (passes x (nodes + edges) x points); an answer is at most max_response_bytes
    max_grid_points: int = 10_000
    max_work: int = 2_000_000
    max_trace_size: int = 50_000  # about 5 MB of JSON and 1-2 s of work
    # tensors: a request may hold at most max_elements numbers (every node's value at every
    # grid point, and the answer's derivatives: 32 MB of float64) and do at most
    # max_element_ops arithmetic operations (elementwise operations and matmul multiply-adds,
    # of the evaluation and of every pass: a few seconds of numpy)
    max_elements: int = 4_000_000
    max_element_ops: int = 1_000_000_000
    max_response_bytes: int = 8_000_000

    # rendering: graphs beyond this many nodes are refused; `dot` is killed after this time
    max_render_nodes: int = 500
    max_render_layout: int = 1_200  # nodes + ranks crossed by edges: what dot really pays for
    dot_timeout_seconds: float = 5.0
    max_concurrent_drawings: int = 2  # `dot` runs at once per server process
    max_png_pixels: int = 2_400  # a PNG's longer side: graphviz scales a larger drawing down
    render_cache_entries: int = 256
    # answers of /api/v1/differentiate kept for identical requests (0 turns it off)
    answer_cache_entries: int = 256

    # CPU-heavy work runs in worker processes: at most this many at once per server process,
    # each for at most this long (then its process is killed) and growing by at most this much
    # memory; a worker is replaced after jobs_per_worker jobs (memory a job leaves behind)
    max_concurrent_jobs: int = 3
    compute_timeout_seconds: float = 10.0
    max_job_memory_mb: int = 128
    jobs_per_worker: int = 500
    # a job whose source is this short and whose counted work (nodes x points x passes, or
    # its trace size, weighed as app/limits.py says) is this small runs on the event loop: it
    # takes well under a millisecond, less than a hand-off to a worker process
    inline_source_chars: int = 400
    inline_max_work: int = 2_000
    inline_max_operations: int = 200_000  # tensors' arithmetic (app/limits.py), about 1 ms

    # connections (app/connections.py): a client must send a whole request within this time of
    # connecting or of its last answer; a worker keeps at most this many connections open; an
    # idle keep-alive connection is closed after timeout_keep_alive_seconds
    request_timeout_seconds: float = 20.0
    max_connections: int = 800
    timeout_keep_alive_seconds: int = 5

    # the classroom's storage: an SQLite file in data_dir unless database_url names another
    # database (postgresql+psycopg://user:password@host/db for several replicas)
    data_dir: str = "data"
    database_url: str = ""
    # classroom limits: students per class, nickname length, answers per student per minute,
    # failed join attempts per client per minute (then 429), days kept after a class ends
    max_class_students: int = 200
    max_nickname_chars: int = 24
    max_answers_per_minute: int = 60
    max_join_failures_per_minute: int = 10
    default_retention_days: int = 30
    max_retention_days: int = 365
    # Origins allowed to change classroom state besides the server's own (comma-separated,
    # e.g. "https://lab.school.example" when a TLS proxy rewrites the Host header)
    allowed_origins: str = ""
    # Take the client's address from X-Forwarded-For (only behind a proxy you run, which sets
    # it): join throttling then counts each student, not the proxy.
    trust_forwarded_for: bool = False

    def limits(self) -> ad.Limits:
        """The engine's parse limits as this server configures them."""
        return ad.Limits(max_source_chars=self.max_source_chars,
                         max_statements=self.max_statements, max_nodes=self.max_nodes,
                         max_depth=self.max_depth, max_number=self.max_number,
                         max_tensor_elements=self.max_elements,
                         max_total_elements=self.max_elements)


@lru_cache
def get_settings() -> Settings:
    return Settings()
