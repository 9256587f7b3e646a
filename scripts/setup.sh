#!/usr/bin/env bash
# Set up everything Autodiff Lab needs on a Debian machine, installing only what is missing.
#   scripts/setup.sh          the app: graphviz, a virtual environment, the Python packages
#   scripts/setup.sh --dev    also the test tools: chromium for the browser tests, nginx for the
#                             proxy tests (deploy/nginx), dev packages
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[[ "${1:-}" == "--dev" ]] && dev=1

need_apt=()
command -v dot >/dev/null || need_apt+=(graphviz)
command -v npm >/dev/null || need_apt+=(nodejs npm)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if (( dev )); then
    command -v chromium >/dev/null || need_apt+=(chromium fonts-dejavu-core)
    # the classroom tests start a throwaway PostgreSQL cluster (initdb, pg_ctl)
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_apt+=(postgresql)
    # nginx-light: the nginx the proxy tests run in front of uvicorn (it is not started here)
    [[ -x /usr/sbin/nginx ]] || need_apt+=(nginx-light)
fi
if (( ${#need_apt[@]} )); then
    echo "setup: installing ${need_apt[*]} with apt-get"
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
    echo "setup: creating the virtual environment .venv"
    python3 -m venv .venv
fi
extra=""; (( dev )) && extra="[dev]"
# Reinstall only when pyproject.toml changed since the last install.
stamp=".venv/.installed${extra}"
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
    echo "setup: installing Python packages${extra:+ (with test tools)}"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".${extra}"
    touch "$stamp"
fi

# Browser libraries (pinned in package.json / package-lock.json), served by the app itself.
if [[ ! -d node_modules || package-lock.json -nt node_modules ]]; then
    echo "setup: installing browser libraries with npm ci"
    npm ci --no-audit --no-fund --silent
    touch node_modules
fi
