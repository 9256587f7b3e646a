#!/usr/bin/env bash
# Set up what is missing (graphviz, .venv, Python packages, browser libraries) and start the
# app; `python -m app` prints the address it serves. AUTODIFF_HOST / AUTODIFF_PORT / AUTODIFF_WORKERS choose where and how (default
# http://127.0.0.1:8000); every limit is an AUTODIFF_* setting too (see app/settings.py).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m app
