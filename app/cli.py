"""`autodiff-lab`: serve the app, or print a program's derivatives at a point.

    autodiff-lab serve [--host 127.0.0.1] [--port 8000] [--workers 1]
    autodiff-lab grad "x = 3*w; y = 2*x^2 + 4" --at w=1 [--mode forward] [--outputs y]

`serve` runs the app installed with the package (its pages, static files and browser
libraries come with it: no checkout, no npm); every limit is an AUTODIFF_* variable, and so
are the defaults of --host, --port and --workers. `grad` prints each output's value and its
derivatives; a bad program or point is a message on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import autodiff_core as ad

from .settings import get_settings


def serve(host: str | None = None, port: int | None = None, workers: int | None = None) -> None:
    """Run the app with uvicorn until interrupted."""
    import uvicorn

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    # the classroom's schema, migrated once before the workers start (each checks it again)
    from .db import Database, database_url

    database = Database(database_url(settings))
    database.migrate()
    database.dispose()
    print(f"Autodiff Lab: http://{host}:{port}", flush=True)
    # by import string, so that several workers can each import the app (as `app` in a
    # checkout, `autodiff_lab` when installed)
    uvicorn.run(f"{__package__}.main:app", host=host, port=port,
                workers=workers or settings.workers, proxy_headers=False, server_header=False,
                # uvicorn's h11 protocol with a request deadline and a connection cap
                http=f"{__package__}.connections:GuardedH11Protocol",
                timeout_keep_alive=settings.timeout_keep_alive_seconds,
                # a request head (line and headers) may be at most 16 KiB (h11's default, said
                # out loud: a longer one is a 400)
                h11_max_incomplete_event_size=16_384)


def parse_point(texts: Sequence[str]) -> dict[str, float]:
    """`w=1,x=2` (as in a playground link), possibly in several --at options."""
    point: dict[str, float] = {}
    for text in texts:
        for pair in filter(None, (p.strip() for p in text.split(","))):
            name, equals, value = pair.partition("=")
            try:
                point[name.strip()] = float(value)
            except ValueError:
                equals = ""
            if not equals:
                raise ValueError(f"--at {pair!r}: write name=number, e.g. w=1")
    return point


def _number(x: float) -> str:
    return str(int(x)) if x == int(x) and abs(x) < 1e15 else f"{x:.12g}"


def grad(source: str, at: dict[str, float], mode: str = "reverse",
         outputs: list[str] | None = None) -> str:
    """The text `grad` prints: per output, its value then its derivative by each input."""
    program = ad.parse(source, outputs=outputs)
    missing = [name for name in program.inputs if name not in at]
    if missing:
        raise ad.InputError(f"give a value to {', '.join(missing)} with --at, e.g. "
                            f"--at {missing[0]}=1")
    result = (ad.forward if mode == "forward" else ad.reverse)(program, at, trace=False)
    lines = []
    for out, row in result.derivatives.items():
        lines.append(f"{out} = {_number(float(result.values[out]))}")
        lines += [f"  d{out}/d{name} = {_number(float(d))}" for name, d in row.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autodiff-lab", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serving = commands.add_parser("serve", help="run the web app (lessons, playground, API)")
    serving.add_argument("--host", help="address to listen on (AUTODIFF_HOST)")
    serving.add_argument("--port", type=int, help="port (AUTODIFF_PORT)")
    serving.add_argument("--workers", type=int, help="worker processes (AUTODIFF_WORKERS)")
    grading = commands.add_parser("grad", help="print a program's derivatives at a point")
    grading.add_argument("source", help='the program, e.g. "x = 3*w; y = 2*x^2 + 4"')
    grading.add_argument("--at", action="append", default=[], metavar="NAME=NUMBER,...",
                         help="the point, e.g. w=1,x=2 (repeatable)")
    grading.add_argument("--mode", choices=["reverse", "forward"], default="reverse")
    grading.add_argument("--outputs", help="comma-separated outputs (default: the last "
                                           "statement)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.host, args.port, args.workers)
        return 0
    try:
        outputs = [o.strip() for o in args.outputs.split(",")] if args.outputs else None
        print(grad(args.source, parse_point(args.at), args.mode, outputs))
    except (ValueError, ad.AutodiffError) as exc:
        print(f"autodiff-lab grad: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
