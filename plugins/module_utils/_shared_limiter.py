# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: one rate limit per action shared by every process of this user on this host.

Ansible runs one module process per host and fork, each with its own client. Fifty
forks with a limiter each would send fifty times the documented rate; the API then
refuses requests, and every refusal costs a backoff. Here all processes that use the
same account, region and endpoint count their requests in one small state file per
action, under an exclusive fcntl lock, with the same sliding-window rule as the
in-process limiter (_client.RateLimiter): a request counts from when it is sent until
one window after its answer.

The files live in a private per-user folder (0700) under the system's temporary
folder. They hold only times and process IDs: their names are hashes, and the
account's secret_id enters only a hash. When the folder cannot be used, callers fall
back to the in-process limiter (make_limiter says why in a warning).

Times are time.monotonic(), one clock for every process of the host (CLOCK_MONOTONIC
on Linux). Slots of processes that died in flight are dropped.

Layer 2 (client). May import: nothing of this collection.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import stat
import tempfile
import time

try:
    import fcntl
except ImportError:  # not POSIX: no shared limit, the in-process limiter does the work
    fcntl = None

FOLDER_ENV = "TENCENTCLOUD_CVM_RATE_LIMIT_DIR"
# An in-flight slot older than this belongs to a request that can no longer be waiting for its answer.
STALE_IN_FLIGHT = 600.0
PRUNE_AFTER = 3600.0  # state files untouched this long (no slot can still count) are removed, so the folder stays small
IN_FLIGHT_POLL = 0.02  # every poll locks the file: many processes polling faster would cost more than it saves
MAX_JITTER = 0.005  # spreads the processes that wait for the same free slot


class LimiterUnavailable(Exception):
    """The shared lock folder or a state file cannot be used; the message says why (no secret in it)."""


def default_folder():
    return os.environ.get(FOLDER_ENV) or os.path.join(tempfile.gettempdir(), "tencentcloud-cvm-%d" % os.getuid())


def private_folder(path):
    """Create the folder (0700) if needed and check that only this user can use it; return its path."""
    if fcntl is None:
        raise LimiterUnavailable("file locks (fcntl) are not available on this system")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise LimiterUnavailable("cannot create the rate limit folder %s: %s" % (path, exc.strerror)) from None
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise LimiterUnavailable("cannot use the rate limit folder %s: %s" % (path, exc.strerror)) from None
    if not stat.S_ISDIR(info.st_mode):
        raise LimiterUnavailable("the rate limit folder %s is not a folder (a link or a file is in its place)" % path)
    if info.st_uid != os.getuid():
        raise LimiterUnavailable("the rate limit folder %s belongs to another user (uid %d)" % (path, info.st_uid))
    if info.st_mode & 0o077:
        raise LimiterUnavailable("the rate limit folder %s is open to other users (mode %o): it must be 0700" % (path, info.st_mode & 0o777))
    if not os.access(path, os.W_OK | os.X_OK):
        raise LimiterUnavailable("the rate limit folder %s is not writable" % path)
    return path


def state_file_name(secret_id, region, endpoint, action):
    """A name that tells nothing: a hash of the account (itself hashed first), region, endpoint and action."""
    account = hashlib.sha256((secret_id or "").encode("utf-8")).hexdigest()
    key = "\0".join((account, region or "", endpoint or "", action))
    return "%s.limit" % hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else (cannot happen in a private folder, but never drop a live slot)
    return True


class SharedRateLimiter:
    """At most `rate` requests in any window, counted across processes in one state file.

    The same interface as _client.RateLimiter: acquire() returns a slot for release(); pause() holds everyone back.
    """

    def __init__(self, path, rate, window, clock=time.monotonic, sleep=time.sleep, pid_alive=_pid_alive):
        self.path = path
        self.rate = rate
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._pid_alive = pid_alive
        self._pid = os.getpid()
        self._serial = 0
        # Fail now, not at the first request: a state file that cannot be opened means the in-process limiter.
        with self._locked():
            pass

    # -- the state file ------------------------------------------------------------------------------------------------

    def _locked(self):
        return _LockedState(self.path)

    def _tidy(self, state, now):
        """Drop slots whose window has passed, slots of dead processes, and times from another boot."""
        kept = []
        for slot in state["slots"]:
            _token, pid, sent, answered = slot
            if sent > now + 1.0 or (answered is not None and answered > now + 1.0):
                continue  # written before a reboot: that clock is not ours
            if answered is not None:
                if now - answered < self.window:
                    kept.append(slot)
            elif now - sent < STALE_IN_FLIGHT and (pid == self._pid or self._pid_alive(pid)):
                kept.append(slot)
        state["slots"] = kept
        if state["paused_until"] > now + 60.0:
            state["paused_until"] = 0.0

    # -- the limiter interface -----------------------------------------------------------------------------------------

    def acquire(self):
        while True:
            with self._locked() as state:
                now = self._clock()
                self._tidy(state, now)
                wait = state["paused_until"] - now
                if wait <= 0 and len(state["slots"]) < self.rate:
                    self._serial += 1
                    token = "%d-%d-%d" % (self._pid, id(self), self._serial)
                    state["slots"].append([token, self._pid, now, None])
                    return token
                if wait <= 0:
                    answered = [slot[3] for slot in state["slots"] if slot[3] is not None]
                    # A slot frees when the oldest answer's window ends; one still in flight may be answered any moment.
                    wait = IN_FLIGHT_POLL if len(answered) < len(state["slots"]) else self.window - (now - min(answered))
            self._sleep(max(wait, 0.001) + random.uniform(0, MAX_JITTER))

    def release(self, token):
        with self._locked() as state:
            now = self._clock()
            for slot in state["slots"]:
                if slot[0] == token:
                    slot[3] = now
                    break
            self._tidy(state, now)

    def pause(self, seconds):
        with self._locked() as state:
            state["paused_until"] = max(state["paused_until"], self._clock() + seconds)


class _LockedState:
    """The state file, exclusively locked for the `with` block; the dict it yields is written back on a clean exit."""

    def __init__(self, path):
        self.path = path
        self.fd = None
        self.raw = b""
        self.state = None

    def __enter__(self):
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as exc:
            raise LimiterUnavailable("cannot open the rate limit file %s: %s" % (self.path, exc.strerror)) from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            raw = b""
            while True:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    break
                raw += chunk
        except OSError as exc:
            os.close(self.fd)
            raise LimiterUnavailable("cannot lock or read the rate limit file %s: %s" % (self.path, exc.strerror)) from None
        self.raw = raw
        self.state = _parse(raw)
        return self.state

    def __exit__(self, exc_type, exc, tb):
        try:
            data = json.dumps(self.state, separators=(",", ":")).encode("ascii")
            if exc_type is None and data != self.raw:  # waiting processes only read
                os.lseek(self.fd, 0, os.SEEK_SET)
                os.ftruncate(self.fd, 0)
                os.write(self.fd, data)
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise LimiterUnavailable("cannot write the rate limit file %s: %s" % (self.path, error.strerror)) from None
            raise LimiterUnavailable("cannot write the rate limit file %s: the disk is full" % self.path) from None
        finally:
            os.close(self.fd)  # closing the descriptor releases the lock
        return False


def _parse(raw):
    """The state in a file; an empty, torn or foreign file counts as no slots (costs at most one window of accuracy)."""
    try:
        state = json.loads(raw.decode("ascii")) if raw else {}
        slots = [list(s) for s in state.get("slots", []) if isinstance(s, list) and len(s) == 4]
        return {"paused_until": float(state.get("paused_until", 0.0)), "slots": slots}
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError):
        return {"paused_until": 0.0, "slots": []}


class _FallbackOnError:
    """A shared limiter that turns into the in-process one (with one warning) if its file fails later."""

    def __init__(self, shared, local_factory, warn):
        self._shared = shared
        self._local_factory = local_factory
        self._warn = warn
        self._local = None

    def _fall_back(self, exc):
        if self._local is None:
            self._local = self._local_factory()
            _say(self._warn, exc)
        return self._local

    def acquire(self):
        if self._local is None:
            try:
                return ("shared", self._shared.acquire())
            except LimiterUnavailable as exc:
                self._fall_back(exc)
        return ("local", self._local.acquire())

    def release(self, slot):
        kind, inner = slot
        if kind == "shared" and self._local is None:
            try:
                self._shared.release(inner)
                return
            except LimiterUnavailable as exc:
                self._fall_back(exc)
                return
        if kind == "local":
            self._local.release(inner)

    def pause(self, seconds):
        if self._local is None:
            try:
                self._shared.pause(seconds)
                return
            except LimiterUnavailable as exc:
                self._fall_back(exc)
        self._local.pause(seconds)


_WARNED = set()  # one warning per reason and process, however many actions and clients


def _say(warn, exc):
    if warn is not None and str(exc) not in _WARNED:
        _WARNED.add(str(exc))
        warn("The rate limit shared between Ansible processes is off (%s): this process limits only its own requests, so "
             "many forks at once may be throttled by the API. Set %s to a private folder to fix it." % (exc, FOLDER_ENV))


_PRUNED = set()


def prune(folder, now=None):
    """Remove the state files nobody used for PRUNE_AFTER seconds (once per folder and process)."""
    if folder in _PRUNED:
        return
    _PRUNED.add(folder)
    now = time.time() if now is None else now
    try:
        names = [n for n in os.listdir(folder) if n.endswith(".limit")]
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # in use right now: not stale
            if now - os.fstat(fd).st_mtime > PRUNE_AFTER:
                os.unlink(path)
        except OSError:
            pass
        finally:
            os.close(fd)


def make_limiter(secret_id, region, endpoint, action, rate, window, local_factory, warn=None, folder=None, sleep=time.sleep):
    """The limiter for one action: shared between processes when the lock folder can be used, else local_factory()."""
    try:
        folder = private_folder(folder or default_folder())
        prune(folder)
        shared = SharedRateLimiter(os.path.join(folder, state_file_name(secret_id, region, endpoint, action)), rate, window, sleep=sleep)
    except LimiterUnavailable as exc:
        _say(warn, exc)
        return local_factory()
    return _FallbackOnError(shared, local_factory, warn)
