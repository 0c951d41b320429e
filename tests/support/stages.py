# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The project's test command, ./scripts/test (which runs this file). Runs every stage in order, cheap ones first, and
stops at the first failure:

  checks    antsibull-nox: lint (ruff format --check, ruff check, pylint, mypy, yamllint), docs-check,
            license-check (REUSE), extra-checks (action groups, unwanted files), build-import-check
            (galaxy-importer), ansible-lint; repo-hygiene; shellcheck on the shell scripts of scripts/ and .ci/
  minimal   a newcomer's machine: ./scripts/test --quick -x with only python3 (3.11) on PATH and no pyenv, in a
            venv of its own (.venv-minimal/), on tests/support and tests/unit
  pytest    unit, emulator, end-to-end and AWX tests (pytest, from .venv/: the newest ansible-core on
            Python 3.13, or on python3 where 3.13 is missing)
  matrix    ansible-test units and integration (against the emulator) on ansible-core 2.16 to 2.21 in three
            lanes at once, each with its own emulator, and the sanity stage's two releases in two more lanes
  molecule  molecule test for each scenario under extensions/molecule/ (each starts its own emulator)
  ee        scripts/ee-test: build the execution-environment image offline with podman and run
            AWX-style ansible-runner jobs inside it (needs root and Debian's packages); with other stages
            before it, its preflight (scripts/ee-test --preflight: will the build's pip trust PyPI's
            certificate?) runs before the first stage
  sanity    ansible-test sanity --venv on the oldest (2.16) and newest (2.21) release; no ignore entries
            (a full run has them in two lanes of the matrix stage)
  flaky     not part of a full run: every test marked nondeterministic (faults, concurrency, forks,
            timing, randomness), repeated TC_FLAKY_COUNT times (default 20); lists each test that ever failed

Usage: ./scripts/test [--quick] [-x] [--stage NAME]... [--list] [-- PYTEST_PATHS...]
  --quick       pytest only, without the tests marked slow (the readings matrix, deadlines, overlaps, fleet,
                rotation failures)
  -x            stop pytest at its first failing test
  --stage NAME  run only this stage (repeatable)
  --list        name the stages: those of a full run, then the extra ones
  -- PATHS      what the pytest and flaky stages run instead of every suite (e.g. -- tests/e2e/test_selectors.py)
Environment: TC_PYTEST_WORKERS=N (pytest-xdist workers; default 6, 0 = no xdist); TC_FLAKY_COUNT=N (the flaky
stage's repetitions); TC_PYTHON (the Python of .venv/), TC_VENV (the venv's folder): see scripts/lib.sh.
Everything it needs is installed into .venv/ (and .nox/ for the nox sessions) by itself; the nox
sessions are in noxfile.py and antsibull-nox.toml (`nox -l`, `nox -s NAME` to run one).
Each stage's time is printed at the end, also when a stage fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from process_groups import Commands, Interrupted, interrupt_on_signals, run
from shared_constants import REPO, without_proxies

ALL_STAGES = ("checks", "minimal", "pytest", "matrix", "molecule", "ee")
EXTRA_STAGES = ("sanity", "flaky")
PYTEST_PATHS = ("tests/support", "tests/unit", "tests/emulator_tests", "tests/e2e", "tests/awx")
MATRIX_LANES = (("2.16", "2.19"), ("2.17", "2.20"), ("2.18", "2.21"))
SANITY_SESSIONS = ("sanity-2.16", "sanity-2.21")  # noxfile.py's sessions tagged sanity
CHECK_SESSIONS = ("lint", "docs-check", "license-check", "extra-checks", "build-import-check", "ansible-lint", "repo-hygiene")
LIB = REPO / "scripts" / "lib.sh"
SUPPORT = REPO / "tests" / "support"
PYTEST_SUMMARY = re.compile(r"^=+ .* in [0-9.]+s.* =+$")
ORIGINAL_ENV = dict(os.environ)  # the minimal stage starts from the caller's environment, not the prepared one


class UsageError(Exception):
    pass


def parse_args(argv):
    """(stages, pytest options, pytest paths), or None for --list/--help (printed here)."""
    stages, options, paths = [], [], list(PYTEST_PATHS)
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--":
            paths = args
            break
        if arg == "--quick":
            stages.append("pytest")
            options += ["-m", "not slow"]
        elif arg == "-x":
            options.append("-x")
        elif arg == "--stage" or arg.startswith("--stage="):
            if arg == "--stage" and not args:
                raise UsageError("--stage needs a NAME")
            stages.append(arg.partition("=")[2] if "=" in arg else args.pop(0))
        elif arg == "--list":
            print("\n".join(ALL_STAGES + EXTRA_STAGES))
            return None
        elif arg in ("-h", "--help"):
            print(__doc__.strip())
            return None
        else:
            raise UsageError("unknown argument: %s (see --help)" % arg)
    for stage in stages:
        if stage not in ALL_STAGES + EXTRA_STAGES:
            raise UsageError("unknown stage: %s (stages: %s)" % (stage, " ".join(ALL_STAGES + EXTRA_STAGES)))
    return stages or list(ALL_STAGES), options, paths


def header(text):
    print("\n\033[1m==> %s\033[0m" % text, flush=True)


def lib_env(*functions, base=None):
    """The environment after scripts/lib.sh's FUNCTIONs (tc_venv, tc_link_collection, tc_pythons) ran: what they export."""
    with tempfile.NamedTemporaryFile() as dump:
        script = 'source "$1" && %s && env -0 >"$2"' % " && ".join(functions)
        subprocess.run(["bash", "-c", script, "bash", str(LIB), dump.name], env=base, check=True)
        pairs = Path(dump.name).read_bytes().decode().split("\0")
    return dict(pair.split("=", 1) for pair in pairs if "=" in pair)


class Run:
    """One ./scripts/test run: its pytest options and paths, the prepared environment, a scratch folder, pytest's summary."""

    def __init__(self, options, paths, env, tmp):
        self.options, self.paths, self.env, self.tmp = options, paths, env, Path(tmp)
        self.workers = os.environ.get("TC_PYTEST_WORKERS", "6")
        self.pytest_summary = ""

    @staticmethod
    def nox_command(*args):
        # Reusing its venvs between local runs (install steps still run, so they stay current).
        return ["nox", "--noxfile", str(REPO / "noxfile.py"), "--reuse-venv=yes", "--stop-on-first-error", *args]

    def stage_checks(self):
        """The nox sessions of CHECK_SESSIONS, then shellcheck on every shell script of scripts/ and .ci/."""
        # CI=true: antsibull-nox's formatters session then checks (ruff format --check) instead of reformatting the
        # checkout, as it does in .ci/run; `nox -s formatters` outside CI is the way to reformat.
        rc = run(self.nox_command("--session", *CHECK_SESSIONS), env=dict(self.env, CI="true"))
        if rc:
            return rc
        # Every shell script of scripts/ and .ci/ (by shebang), following what they source.
        scripts = [
            str(path.relative_to(REPO))
            for folder in ("scripts", ".ci")
            for path in sorted((REPO / folder).iterdir())
            if path.is_file() and re.match(rb"#!.*\b(ba)?sh\b", path.read_bytes().split(b"\n", 1)[0])
        ]
        return run(["shellcheck", "-x", *scripts], env=self.env)

    def stage_minimal(self):
        # The rest of the environment stays (what pip needs to reach the package index); this run's venv does not.
        found = subprocess.run(["bash", str(LIB), "tc_find_python", "3.11"], env=self.env, stdout=subprocess.PIPE, text=True, check=False)
        python = found.stdout.strip() or shutil.which("python3", path=self.env["PATH"])
        # A pyenv shim runs whatever version pyenv selects for the name it is called by: link the interpreter behind it.
        python = subprocess.run([python, "-c", "import sys; print(sys.executable)"], env=self.env, stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
        bin_dir = self.tmp / "minimal-bin"
        bin_dir.mkdir()
        (bin_dir / "python3").symlink_to(python)
        env = {name: value for name, value in ORIGINAL_ENV.items() if name not in ("VIRTUAL_ENV", "TC_PYTHON")}
        env.update(PATH="%s:/usr/bin:/bin" % bin_dir, PYENV_ROOT="/nonexistent", TC_VENV=str(REPO / ".venv-minimal"))
        return run([str(REPO / "scripts" / "test"), "--quick", "-x", "--", "tests/support", "tests/unit"], env=env)

    def stage_pytest(self):
        """The pytest suites (or the paths after --) with pytest-xdist; pytest's summary line is kept for the end."""
        # The emulator listens on 127.0.0.1: no proxy may see that traffic.
        env = without_proxies(self.env)
        version = subprocess.run(["ansible", "--version"], env=env, stdout=subprocess.PIPE, text=True, check=False)
        print(version.stdout.split("\n", 1)[0], flush=True)
        # pytest-xdist: the end-to-end tests mostly wait on the emulator's operation clock, so three times as many
        # workers as cores keeps both cores busy. loadgroup: the tests of an xdist_group (those sharing one costly
        # module fixture) run on one worker.
        command = ["python", "-m", "pytest", "-p", "no:cacheprovider", "-ra", "-n", self.workers, "--dist", "loadgroup", *self.options, *self.paths]
        with Commands() as commands:
            proc = commands.start(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for line in proc.stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
                if PYTEST_SUMMARY.match(line.rstrip("\n")):
                    self.pytest_summary = line.rstrip("\n")
            return proc.wait()

    def stage_flaky(self):
        """Every test marked nondeterministic, TC_FLAKY_COUNT times over (pytest-repeat's --count, each repetition a test
        of its own, e.g. test_x[3-20]); pytest's short summary (-r fE) names every repetition that failed or erred."""
        hunt = ["-m", "nondeterministic", "--count", os.environ.get("TC_FLAKY_COUNT", "20"), "-r", "fE"]
        workers = ["-n", self.workers, "--dist", "loadgroup"]
        command = ["python", "-m", "pytest", "-p", "no:cacheprovider", "-q", *workers, *hunt, *self.options, *self.paths]
        return run(command, env=without_proxies(self.env))

    @staticmethod
    def sanity_ignores_empty():
        """The rule of this collection: fix the code, never add a sanity ignore entry."""
        for path in sorted((REPO / "tests" / "sanity").glob("ignore-*.txt")):
            if any(line.strip() and not line.strip().startswith("#") for line in path.read_text().splitlines()):
                print("error: %s has entries; sanity ignores are not allowed in this collection" % path.relative_to(REPO), file=sys.stderr)
                return False
        return True

    def stage_sanity(self):
        if not self.sanity_ignores_empty():
            return 1
        return run(self.nox_command("--tags", "sanity"), env=lib_env("tc_pythons", base=self.env))

    def stage_matrix(self):
        """Three lanes at once, each with its own emulator, units and integration of its releases in turn; sanity beside.

        The sessions mostly wait (package installs, the emulator's operations), so lanes overlap well on two cores.
        Sanity mostly computes; each release has a lane of its own, since one lane of both outlasted every other
        lane (16 min against 13 on a slow machine). Each lane's output goes to its own log, shown when the lane ends.
        """
        if not self.sanity_ignores_empty():
            return 1
        env = lib_env("tc_pythons", base=self.env)
        make_ansible_test_key()
        lanes = []
        for cores in MATRIX_LANES:
            sessions = ["%s-%s" % (kind, core) for core in cores for kind in ("units", "integration")]
            lanes.append((" ".join(cores), ["bash", str(LIB), "tc_with_emulator", *self.nox_command("--session", *sessions)]))
        lanes += [(session, self.nox_command("--session", session)) for session in SANITY_SESSIONS]
        status = 0
        with Commands() as commands, contextlib.ExitStack() as logs:
            started = []
            for index, (name, command) in enumerate(lanes):
                log = logs.enter_context(open(self.tmp / ("matrix-%d.log" % index), "w+", encoding="utf-8"))
                started.append((name, log, commands.start(command, env=env, stdout=log, stderr=subprocess.STDOUT)))
            for name, log, lane in started:
                ok = lane.wait() == 0
                status = status or (0 if ok else 1)
                header("Matrix lane %s: %s" % (name, "ok" if ok else "FAILED"))
                log.seek(0)
                shutil.copyfileobj(log, sys.stdout)
                sys.stdout.flush()
        return status

    def stage_molecule(self):
        """molecule test for each scenario under extensions/molecule/, one after another."""
        # A scenario starts its own emulator in prepare.yml and stops it in cleanup.yml/destroy.yml.
        env = without_proxies(self.env)
        for config in sorted((REPO / "extensions" / "molecule").glob("*/molecule.yml")):
            scenario = config.parent.name
            # A private ephemeral directory (molecule's default one is shared by every checkout named like this
            # one): concurrent runs cannot see each other's emulator.
            ephemeral = tempfile.mkdtemp(prefix="tc-molecule-%s." % scenario)
            try:
                rc = run(["molecule", "test", "--scenario-name", scenario], env=dict(env, MOLECULE_EPHEMERAL_DIRECTORY=ephemeral))
            finally:
                # However the scenario ended: if the emulator its record names still runs, molecule failed to stop it.
                leftover = subprocess.run(
                    ["python", str(SUPPORT / "harness.py"), "stop", "--record", ephemeral + "/emulator.json", "--fail-if-running"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    check=False,
                ).returncode
                shutil.rmtree(ephemeral, ignore_errors=True)
            if leftover:
                print("error: molecule scenario %s left its emulator running" % scenario, file=sys.stderr)
                return 1
            if rc:
                return rc
        return 0

    def stage_ee(self):
        return run([str(REPO / "scripts" / "ee-test")], env=self.env)


def print_timings(took, prepared, started):
    header("Stage timings")
    print("  %-10s %4ds" % ("prepare", prepared))
    for stage, seconds in took.items():
        print("  %-10s %4ds" % (stage, seconds))
    print("  %-10s %4ds" % ("total", time.monotonic() - started), flush=True)


def make_ansible_test_key():
    """ansible-test makes its SSH key on first use: two lanes would race to make it (and one would fail)."""
    key = Path.home() / ".ansible" / "test" / "id_rsa"
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ssh-keygen", "-m", "PEM", "-q", "-t", "rsa", "-N", "", "-f", str(key)], check=True)


def ee_preflight(env):
    """scripts/ee-test --preflight: the ee stage comes last, but a CA it will lack (a proxy that re-signs TLS) is known
    in seconds. 0 when the build will trust the package index."""
    try:
        rc = run([str(REPO / "scripts" / "ee-test"), "--preflight"], env=env)
    except Interrupted as exc:
        return exc.code
    if rc:
        print("\nFAILED: the ee stage's preflight (exit %s), before any stage ran" % rc, file=sys.stderr)
    return rc


def main(argv):
    """./scripts/test: prepare the environment once, then run each stage in order; the first failing stage's code."""
    started = time.monotonic()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `./scripts/test --help | head` ends quietly, as a shell tool would
    try:
        parsed = parse_args(argv)
    except UsageError as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 1
    if parsed is None:
        return 0
    stages, options, paths = parsed
    os.chdir(REPO)  # the stages' paths (and those after --) are the checkout's
    interrupt_on_signals()
    header("Preparing the test environment")
    try:
        env = lib_env("tc_venv", "tc_link_collection")
    except subprocess.CalledProcessError as exc:  # scripts/lib.sh said why
        return exc.returncode
    if "ee" in stages and stages[0] != "ee":
        rc = ee_preflight(env)
        if rc:
            return rc
    prepared = time.monotonic() - started
    took = {}
    with tempfile.TemporaryDirectory() as tmp:
        test_run = Run(options, paths, env, tmp)
        for stage in stages:
            header("Stage: %s" % stage)
            start = time.monotonic()
            try:
                rc = getattr(test_run, "stage_" + stage)()
            except Interrupted as exc:
                rc = exc.code
            except subprocess.CalledProcessError as exc:  # a step the stage needs (lib.sh's tc_pythons, ssh-keygen)
                rc = exc.returncode
            took[stage] = time.monotonic() - start
            if rc:
                print_timings(took, prepared, started)
                print("\nFAILED: stage %s (exit %s, after %ds)" % (stage, rc, took[stage]), file=sys.stderr)
                return rc
        print_timings(took, prepared, started)
        # Last line: pytest's own summary, so a reader (or CI) sees the test count at the end.
        if test_run.pytest_summary:
            print(test_run.pytest_summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
