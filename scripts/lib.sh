#!/usr/bin/env bash
# Shared helpers of scripts/test, .ci/run and noxfile.py.
#
#   source scripts/lib.sh          # defines the tc_* functions and TC_* variables, changes nothing else
#   bash scripts/lib.sh FUNC ARGS  # runs one of them (this is how noxfile.py uses them)
#
# Main pieces:
#   tc_venv             create/refresh .venv/ (skipped while the requirement files are unchanged)
#   tc_link_collection  symlink the checkout as ansible_collections/tencentcloud/cvm outside the repo
#                       and export ANSIBLE_COLLECTIONS_PATH/PYTHONPATH (for pytest, ansible-playbook, lint)
#   tc_sync_mirror      copy the checkout into a second such folder for ansible-test (see there: why a copy)
#   tc_ansible_test     run ansible-test in that copy (with the offline get-pip stand-in in place)
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
TC_MIRROR_ROOT="$TC_CACHE/mirror"    # holds ansible_collections/tencentcloud/cvm/ (a copy)
TC_MIRROR="$TC_MIRROR_ROOT/ansible_collections/tencentcloud/cvm"

# The emulator's built-in credentials (tests/emulator/cvm_emulator.py).
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
# unless the stamp says those files (and the Python version) are unchanged. Then activate it.
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

# A symlink named ansible_collections/tencentcloud/cvm pointing at the checkout: enough for Python
# imports (PYTHONPATH) and for ansible's collection loader (ANSIBLE_COLLECTIONS_PATH), and always
# shows the current working tree. Not enough for ansible-test: see tc_sync_mirror.
tc_link_collection() {
    mkdir -p "$TC_LINK_ROOT/ansible_collections/tencentcloud"
    ln -sfn "$TC_REPO" "$TC_LINK_ROOT/ansible_collections/tencentcloud/cvm"
    export ANSIBLE_COLLECTIONS_PATH="$TC_LINK_ROOT${ANSIBLE_COLLECTIONS_PATH:+:$ANSIBLE_COLLECTIONS_PATH}"
    export PYTHONPATH="$TC_LINK_ROOT${PYTHONPATH:+:$PYTHONPATH}"
}

# ansible-test finds the collection from os.getcwd(), which resolves symlinks: inside the symlink
# above it sees /work/main/ and stops with 'No "ansible_collections" parent directory was found'.
# Symlinking single files or folders instead does not work either: its file walk does not enter
# symlinked folders, its sanity tests skip symlinked modules (validate-modules takes them for
# aliases) and the 'symlinks' test rejects links leaving the collection. So ansible-test gets a real
# copy: the files git would commit (tracked + untracked, minus .gitignore'd ones such as .venv/),
# updated in place (only changed files rewritten, stale ones removed), so a second run using the
# same copy at the same time is not pulled from under it. Generated files there are kept.
tc_sync_mirror() {
    mkdir -p "$TC_MIRROR" "$TC_CACHE"
    (
        flock 9
        "$TC_PYTHON" - "$TC_REPO" "$TC_MIRROR" <<'PY'
import filecmp
import os
import shutil
import subprocess
import sys

repo, mirror = sys.argv[1], sys.argv[2]
# Made in the copy by ansible-test or by us: never delete them as "stale".
KEEP_PREFIXES = ("tests/output/", "tests/integration/integration_config.yml")
SKIP_DIRS = {".git", ".venv", ".nox", ".cache", "__pycache__", ".pytest_cache", ".tox", "tests/output"}

def repo_files():
    try:
        out = subprocess.run(
            ["git", "-C", repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True, capture_output=True).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        # Not a git checkout (e.g. an unpacked tarball): walk it, skipping tool state.
        names = []
        for root, dirs, files in os.walk(repo):
            rel = os.path.relpath(root, repo)
            rel = "" if rel == "." else rel + "/"
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".venv")
                       and rel + d not in SKIP_DIRS]
            names += [rel + f for f in files if not f.endswith(".pyc")]
    # Tracked files deleted in the work tree are listed by git but gone: skip them.
    return {n for n in names if os.path.lexists(os.path.join(repo, n))}

wanted = repo_files()
for name in sorted(wanted):
    src, dst = os.path.join(repo, name), os.path.join(mirror, name)
    if os.path.islink(src):
        if os.path.islink(dst) and os.readlink(dst) == os.readlink(src):
            continue
    elif (os.path.isfile(dst) and not os.path.islink(dst)
          and os.stat(src).st_mode == os.stat(dst).st_mode and filecmp.cmp(src, dst, shallow=False)):
        continue
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.isdir(dst) and not os.path.islink(dst):
        shutil.rmtree(dst)
    tmp = dst + ".tc-sync-tmp"
    if os.path.lexists(tmp):
        os.remove(tmp)
    shutil.copy2(src, tmp, follow_symlinks=False)
    os.replace(tmp, dst)  # atomic: a reader sees the old or the new file, never half of one

for root, dirs, files in os.walk(mirror, topdown=False):
    rel = os.path.relpath(root, mirror)
    rel = "" if rel == "." else rel + "/"
    for f in files:
        name = rel + f
        if name not in wanted and not name.startswith(KEEP_PREFIXES) and "__pycache__/" not in name:
            os.remove(os.path.join(root, f))
    for d in dirs:
        path = os.path.join(root, d)
        if not os.path.islink(path) and not os.listdir(path):
            os.rmdir(path)
PY
    ) 9>"$TC_CACHE/mirror.lock"
}

# ansible-test bootstraps pip into each venv it makes (sanity --venv, units --venv) with a get-pip.py
# downloaded from a host that is not reachable here, cached as ~/.ansible/test/cache/get_pip_<ver>.py.
# Put a stand-in there (for the pip version the ansible-test on PATH wants): it installs pip with
# ensurepip, then runs `pip install` with the same arguments (the packages, e.g. pip==24.2, come from
# PyPI). Idempotent; a file already there (real or ours) is left alone.
tc_get_pip_standin() {
    local python="${1:-python}" version cache
    version="$("$python" - <<'PY'
import os, re
import ansible_test
try:
    from ansible_test._internal.python_requirements import get_venv_packages

    class _Python:  # get_venv_packages only reads .version
        version = "3.11"

    print(get_venv_packages(_Python())["pip"])
except Exception:  # other ansible-test versions: read the pin from the source
    path = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
    print(re.search(r"pip='([0-9.]+)'", open(path).read()).group(1))
PY
)" || tc_die "cannot find the pip version that ansible-test ($python) bootstraps"
    cache="$HOME/.ansible/test/cache/get_pip_${version//./_}.py"
    [[ -f "$cache" ]] && return 0
    mkdir -p "$(dirname "$cache")"
    cat >"$cache.tmp" <<'PY'
"""Offline stand-in for get-pip.py, written by scripts/lib.sh (tc_get_pip_standin).

ansible-test runs this inside a new venv made --without-pip, with pip's options as arguments
(e.g. --disable-pip-version-check pip==24.2 --no-setuptools --no-wheel).
"""
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--quiet"] + args))
PY
    mv "$cache.tmp" "$cache"
}

# Run ansible-test (the one on PATH) in the mirrored collection. Our own exports are dropped so that
# ansible-test alone decides where the collection is (it must not also see the symlinked one).
tc_ansible_test() {
    command -v ansible-test >/dev/null || tc_die "ansible-test is not on PATH"
    tc_sync_mirror
    tc_get_pip_standin python
    (
        cd "$TC_MIRROR"
        unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS PYTHONPATH
        exec ansible-test "$@"
    )
}

# Write the mirror's tests/integration/integration_config.yml (gitignored) from the running emulator.
tc_write_integration_config() {
    [[ -n "${TENCENTCLOUD_ENDPOINT:-}" ]] || tc_die "tc_write_integration_config: no emulator running"
    mkdir -p "$TC_MIRROR/tests/integration"
    cat >"$TC_MIRROR/tests/integration/integration_config.yml" <<EOF
# Generated by scripts/lib.sh for one run against the local CVM emulator; do not commit.
tencentcloud_endpoint: "$TENCENTCLOUD_ENDPOINT"
tencentcloud_secret_id: "$TENCENTCLOUD_SECRET_ID"
tencentcloud_secret_key: "$TENCENTCLOUD_SECRET_KEY"
tencentcloud_region: "$TENCENTCLOUD_REGION"
emulator_url: "$EMULATOR_URL"
EOF
}

# ansible-test integration TARGET... against a fresh emulator (needs ansible-test on PATH).
tc_ansible_test_integration() {
    tc_sync_mirror
    tc_with_emulator tc__integration_inner "$@"
}
tc__integration_inner() {
    tc_write_integration_config
    tc_ansible_test integration --local --python 3.11 "$@"
}

# tc_with_emulator CMD [ARGS...]: start tests/emulator/cvm_emulator.py on a free port, export its URL
# (EMULATOR_URL, TENCENTCLOUD_ENDPOINT) and credentials, run CMD, stop the emulator whatever
# happens (exit, error, Ctrl-C, TERM). Runs in a subshell so the trap and exports stay local.
tc_with_emulator() (
    set -euo pipefail
    tc_unset_proxies
    # Plain variables (no `local`): this body is a subshell, and the EXIT trap still needs them.
    python="$TC_PYTHON" tmp="" pid="" url="" rc=0
    # The project venv has the emulator's requirements; a nox session's python may not.
    [[ -x "$TC_VENV/bin/python" ]] && python="$TC_VENV/bin/python"
    [[ -f "$TC_REPO/tests/emulator/cvm_emulator.py" ]] || tc_die "tests/emulator/cvm_emulator.py is missing"
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
    "$python" "$TC_REPO/tests/emulator/cvm_emulator.py" --port 0 ${TC_EMULATOR_ARGS:-} >"$tmp/stdout" 2>"$tmp/stderr" &
    pid=$!
    # The first stdout line is the URL; give it 30 s.
    for _ in $(seq 300); do
        if [[ "$(wc -l <"$tmp/stdout")" -ge 1 ]]; then
            url="$(head -n 1 "$tmp/stdout")"
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [[ "$url" != http://* ]]; then
        cat "$tmp/stderr" >&2
        tc_die "the emulator did not print its URL (got: '${url}')"
    fi
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
