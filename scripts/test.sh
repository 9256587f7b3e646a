#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite: unit, API, browser and container tests.
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not docker and not browser" for a fast loop.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
.venv/bin/python -m ruff check autodiff_core app tests benchmarks
.venv/bin/python -m mypy
exec .venv/bin/python -m pytest -n 2 "$@"
