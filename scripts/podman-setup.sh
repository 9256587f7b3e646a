#!/usr/bin/env bash
# Prepare podman to build and run the project's Dockerfile on a machine with no Docker engine and
# no reachable container registry (as on the development and CI machines). Safe to run again:
# each step is skipped when its result is already there.
#
#   1. installs podman, debootstrap and runc with apt-get, if any is missing;
#   2. writes a containers.conf that selects runc with lowered ulimits (crun fails on the hybrid
#      cgroup layout of these machines) to $AUTODIFF_CACHE/containers.conf, and to
#      /etc/containers/containers.conf when that file does not exist yet;
#   3. makes the Dockerfile's base image, docker.io/library/debian:bookworm-slim, locally: a
#      minbase debootstrap of bookworm from the Debian mirror the machine's apt sources name,
#      imported under the same fully qualified name. The root filesystem tarball is cached, so a
#      later run only imports it (or does nothing when the image is present).
#
# Podman reads the file in step 2 when CONTAINERS_CONF points at it; the tests set that.
# Environment: AUTODIFF_CACHE (default /var/cache/autodiff-lab), DEBIAN_MIRROR (default: from apt).
set -euo pipefail

BASE_IMAGE="docker.io/library/debian:bookworm-slim"
CACHE="${AUTODIFF_CACHE:-/var/cache/autodiff-lab}"
ROOTFS_TAR="$CACHE/debian-bookworm-minbase.tar"
CONF="$CACHE/containers.conf"

SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"

log() { echo "podman-setup: $*" >&2; }

# 1. Packages.
need=()
for tool in podman debootstrap runc; do
    command -v "$tool" >/dev/null || need+=("$tool")
done
if (( ${#need[@]} )); then
    log "installing ${need[*]} with apt-get"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# 2. containers.conf.
$SUDO mkdir -p "$CACHE"
conf_text='# Written by scripts/podman-setup.sh (Autodiff Lab).
# runc instead of crun: crun fails on hybrid (v1 + v2) cgroup hierarchies.
# Lower ulimits: the defaults inherited from the host can exceed what runc may set here.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
'
if [[ ! -f "$CONF" ]] || [[ "$(cat "$CONF")" != "$(printf '%s' "$conf_text")" ]]; then
    printf '%s' "$conf_text" | $SUDO tee "$CONF" >/dev/null
fi
if [[ ! -e /etc/containers/containers.conf ]]; then
    $SUDO mkdir -p /etc/containers
    $SUDO cp "$CONF" /etc/containers/containers.conf
    log "wrote /etc/containers/containers.conf"
fi
export CONTAINERS_CONF="$CONF"

# 3. The base image.
if $SUDO env CONTAINERS_CONF="$CONF" podman image exists "$BASE_IMAGE"; then
    log "$BASE_IMAGE is present"
    exit 0
fi

if [[ ! -s "$ROOTFS_TAR" ]]; then
    mirror="${DEBIAN_MIRROR:-}"
    if [[ -z "$mirror" ]]; then
        # The first URI of the first deb822 stanza whose suites include bookworm, else the first
        # one-line "deb" entry: the mirror this machine already uses for its own packages.
        mirror=$(awk '
            /^URIs:/ { uri = $2 }
            /^Suites:/ && / bookworm( |$)/ && uri != "" { print uri; exit }
            /^$/ { uri = "" }
        ' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    fi
    if [[ -z "$mirror" ]]; then
        mirror=$(awk '$1 == "deb" { print ($2 ~ /^\[/ ? $3 : $2); exit }' \
            /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
    fi
    mirror="${mirror:-http://deb.debian.org/debian}"

    rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    trap '$SUDO rm -rf "$rootfs"' EXIT
    log "debootstrap --variant=minbase bookworm from $mirror (takes a few minutes)"
    $SUDO debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$CACHE/debootstrap.log" 2>&1 \
        || { tail -n 30 "$CACHE/debootstrap.log" >&2; exit 1; }
    # Like the official slim image: no documentation or translations (and a dpkg rule that keeps
    # them out of later installs), no downloaded .debs and no package lists, so a Dockerfile must
    # run apt-get update itself.
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
        'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
        'path-exclude /usr/share/locale/*' | $SUDO tee "$rootfs/etc/dpkg/dpkg.cfg.d/docker" >/dev/null
    $SUDO find "$rootfs/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
    $SUDO rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
        "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/var/log/*.log "$rootfs"/tmp/*
    $SUDO tar -C "$rootfs" --numeric-owner -cf "$ROOTFS_TAR.part" .
    $SUDO mv "$ROOTFS_TAR.part" "$ROOTFS_TAR"
fi

log "importing $ROOTFS_TAR as $BASE_IMAGE"
$SUDO env CONTAINERS_CONF="$CONF" podman import --quiet \
    --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$ROOTFS_TAR" "$BASE_IMAGE" >/dev/null
log "$BASE_IMAGE is ready"
