#!/usr/bin/env bash
# Set up everything xephang needs on Debian 12 (run as root, or with sudo available):
#   1. system packages via apt-get (skipped when all are already installed),
#   2. the virtualenv .venv with `pip install -e '.[test]'` (skipped when the stamp
#      file matches the current pyproject.toml).
# Idempotent, safe to run from any directory, needs no TTY.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

log() { printf '[setup] %s\n' "$*"; }

# Run a command with its output captured; show the tail of it only if it fails.
quiet() {
    local out rc=0
    out="$(mktemp -t xephang-setup.XXXXXX)"
    "$@" >"$out" 2>&1 || rc=$?
    if ((rc != 0)); then
        tail -n 60 "$out" >&2
        log "FAILED (exit $rc): $* -- full output in $out"
        exit "$rc"
    fi
    rm -f "$out"
}

# --------------------------------------------------------------------------------------------
# System packages
# --------------------------------------------------------------------------------------------
APT_PACKAGES=(
    # PySide6 (Qt 6) shared libraries -- `objdump -p` NEEDED entries of QtCore/Gui/Widgets/
    # Network/OpenGL/Multimedia, the xcb + offscreen platform plugins, xcb GL integrations,
    # the ffmpeg multimedia plugin and the image-format/input-context plugins.
    libglib2.0-0 libdbus-1-3 libfontconfig1 libfreetype6 libgssapi-krb5-2
    libbrotli1 libzstd1 zlib1g libbz2-1.0 libdrm2 libssl3
    libegl1 libgl1 libgl1-mesa-dri
    libx11-6 libx11-xcb1 libxext6 libxrandr2
    libxkbcommon0 libxkbcommon-x11-0
    libxcb1 libxcb-cursor0 libxcb-glx0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
    libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0
    libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1
    # QtMultimedia links libpulse (it falls back to a null sink when no server is running).
    libpulse0
    # Fonts for Qt and Chromium (the UI's own Be Vietnam Pro ships in assets/).
    fontconfig fonts-dejavu-core
    # Announcements: pyttsx3's espeak driver loads libespeak-ng.so.1 (Vietnamese voice id "aav/vi").
    espeak-ng libespeak-ng1
    # Real X11 windows on a virtual screen (screenshots of the apps on a headless machine).
    xvfb xauth
    # Browser tests: Debian's Chromium driven by the playwright pip package, whose bundled
    # node binary needs libatomic.so.1.
    chromium libatomic1
    # Tests inspect generated audio (soxi -D, sox stats).
    sox
    # Tests scan the printed ticket's QR code (pyzbar needs the zbar library).
    libzbar0
)

# A Debian python3 without ensurepip cannot create venvs; pyenv/python.org builds can.
if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    pyver="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    APT_PACKAGES+=("python${pyver}-venv")
fi

missing_packages() {
    local pkg status
    for pkg in "${APT_PACKAGES[@]}"; do
        status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
        [[ "$status" == "installed" ]] || printf '%s\n' "$pkg"
    done
}

mapfile -t MISSING < <(missing_packages)
if ((${#MISSING[@]} == 0)); then
    log "system packages: all ${#APT_PACKAGES[@]} present"
else
    log "system packages: installing ${#MISSING[@]} missing: ${MISSING[*]}"
    SUDO=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || { log "not root and no sudo: cannot apt-get install"; exit 1; }
        SUDO=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    APT_OPTS=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    log "apt-get update"
    quiet "${SUDO[@]}" apt-get update -q
    log "apt-get install"
    quiet "${SUDO[@]}" apt-get install "${APT_OPTS[@]}" --no-install-recommends "${MISSING[@]}"
    mapfile -t STILL_MISSING < <(missing_packages)
    if ((${#STILL_MISSING[@]} > 0)); then
        log "apt-get did not install: ${STILL_MISSING[*]}"
        exit 1
    fi
    log "system packages: done"
fi

# --------------------------------------------------------------------------------------------
# Python virtualenv
# --------------------------------------------------------------------------------------------
VENV="$ROOT/.venv"
STAMP="$VENV/.xephang-setup-stamp"

if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating $VENV with $(python3 --version 2>&1)"
    quiet python3 -m venv "$VENV"
fi

want_stamp="$(sha256sum pyproject.toml | cut -d' ' -f1)"
have_stamp="$(cat "$STAMP" 2>/dev/null || true)"
if [[ "$want_stamp" == "$have_stamp" ]] && "$VENV/bin/python" -I -c 'import xephang' >/dev/null 2>&1; then
    log "python packages: up to date"
else
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
    log "upgrading pip"
    quiet "$VENV/bin/python" -m pip install --upgrade pip
    log "pip install -e '.[test]' (first run downloads PySide6, a few hundred MB)"
    quiet "$VENV/bin/python" -m pip install -e '.[test]'
    printf '%s\n' "$want_stamp" >"$STAMP"
    log "python packages: done"
fi

log "ready"
