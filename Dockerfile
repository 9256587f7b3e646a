# Autodiff Lab for a classroom: one image, no internet needed at run time.
#   docker build -t autodiff-lab .        (the tests build it with podman: scripts/podman-setup.sh)
#   docker run -p 8000:8000 autodiff-lab  then open http://<this machine>:8000/
# Every setting is an environment variable with the AUTODIFF_ prefix (docs/deployment.md).

# The base is Debian 12 "bookworm" slim, named fully qualified in both stages, so that podman and
# docker resolve the same name and podman never has to ask a registry which "debian" is meant.

# Stage 1: the browser libraries the app serves itself (no CDN), exactly as package-lock.json
# pins them. Node and npm stay in this stage; only node_modules is copied out. Install scripts are
# not run (one of them only reports usage over the network).
FROM docker.io/library/debian:bookworm-slim AS browser-libs
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        nodejs npm ca-certificates
WORKDIR /build
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca-bundle \
    if [ -s /run/secrets/ca-bundle ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca-bundle; fi \
    && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=warn

# Stage 2: the image that runs.
FROM docker.io/library/debian:bookworm-slim

# Debian's Python 3.11 and graphviz (the `dot` binary that draws the graphs) and one small font
# so that dot measures node labels properly. No recommends, no documentation or translations
# (as the official slim image does for its own packages), no package lists left behind.
RUN printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
        'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
        'path-exclude /usr/share/locale/*' > /etc/dpkg/dpkg.cfg.d/90-autodiff-lab-slim \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv graphviz fonts-dejavu-core ca-certificates \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/* /var/log/apt /var/log/dpkg.log

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1

# The runtime dependencies first, read from pyproject.toml, in their own layer: rebuilding after
# a code change then reuses it instead of downloading them again. All come as binary wheels, so
# no compiler is ever installed; pip itself is removed in the same layer (nothing installs
# anything at run time, and a later removal would not make the image smaller).
# Behind a TLS-inspecting proxy, pass its CA bundle as a build secret (it never enters a layer):
#   docker build --secret id=ca-bundle,src=/etc/ssl/certs/ca-certificates.crt .
WORKDIR /opt/autodiff-lab
COPY pyproject.toml ./
RUN --mount=type=secret,id=ca-bundle \
    if [ -s /run/secrets/ca-bundle ]; then export PIP_CERT=/run/secrets/ca-bundle; fi \
    && python3 -m venv "$VIRTUAL_ENV" \
    && python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > /tmp/requirements.txt \
    && pip install --only-binary=:all: -r /tmp/requirements.txt \
    && pip uninstall -y -q pip setuptools \
    && rm /tmp/requirements.txt

# The project itself. The app finds templates/ and static/ (and node_modules/ for the browser
# libraries) beside its package directories, so the source stays here and a .pth file puts this
# directory on the venv's import path, which is all an editable install would do. Bytecode is
# compiled now because the non-root user cannot write beside the sources.
COPY . ./
COPY --from=browser-libs /build/node_modules ./node_modules
RUN python -m compileall -q app autodiff_core \
    && echo /opt/autodiff-lab > "$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/autodiff-lab.pth" \
    && cd / && python -c 'import app.main, autodiff_core'

# An unprivileged user with no home and no login shell; USER is numeric so that orchestrators
# can verify that the container does not run as root.
RUN useradd --uid 10001 --user-group --no-create-home --no-log-init --home-dir /nonexistent \
        --shell /usr/sbin/nologin autodiff \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/autodiff-lab
USER 10001:10001

# Listen on every interface of the container; two worker processes by default (a dead one is
# replaced by uvicorn's supervisor). Limits such as AUTODIFF_MAX_NODES can be set the same way.
ENV AUTODIFF_HOST=0.0.0.0 \
    AUTODIFF_PORT=8000 \
    AUTODIFF_WORKERS=2 \
    AUTODIFF_DATA_DIR=/var/lib/autodiff-lab
# The classroom's SQLite database lives here: compose.yaml mounts a named volume on it, so
# classes survive the container being recreated.
VOLUME /var/lib/autodiff-lab
EXPOSE 8000

# Python's own HTTP client, so the image needs no curl. Docker-format images only (podman build
# --format docker); OCI images have no healthcheck field.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('AUTODIFF_PORT', '8000'), timeout=4)"]

CMD ["python", "-m", "app"]
