# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: one rate limit per action shared by every process of this user on this host.

Ansible runs one module process per host and fork, each with its own client. Fifty
forks with a limiter each would send fifty times the documented rate; the API then
refuses requests, and every refusal costs a backoff. Here all processes that use the
same account, region and endpoint count their requests in one small state file per
action, with the same sliding-window rule as the in-process limiter
(_client.RateLimiter): a request counts from when it is sent until one window after
its answer.

Nothing here may hang or crash a run (docs/reliability.md, "Shared rate limit: what
can go wrong"):
- every lock is taken with a non-blocking loop; a state file still locked after
  FALLBACK_AFTER seconds (a stopped process holds it) raises LimiterUnavailable;
- a request in flight holds a lock on its own slot file; the kernel drops that lock
  when the process ends however it ends, so a slot never outlives its process (no
  process IDs, which another PID namespace or a reused PID would make lie);
- a slot still in flight FALLBACK_AFTER seconds after it was taken (its process is
  stopped, or the endpoint very slow) counts as answered then, so nobody waits on it;
- a state file that is unreadable, mistyped or larger than MAX_STATE_BYTES is
  replaced, with one warning.
Callers turn LimiterUnavailable into the in-process limiter, with one warning
(make_limiter, _FallbackOnError).

The files live in a private per-user folder (0700) under the system's temporary
folder. They hold only times and random slot names: their names are hashes, and the
account's secret_id enters only a hash.

Times are time.monotonic(), one clock for every process of the host (CLOCK_MONOTONIC
on Linux).

With the option rate_limit_url (TENCENTCLOUD_RATE_LIMIT_URL) the same rule runs on a Redis server instead
(RedisRateLimiter): every process of every machine that names the same server shares one budget per account,
region, endpoint and action. The Python library redis is imported only then; any failure of the server (unreachable,
lost, slow, refusing the password, answering garbage) gives one warning and the single-machine limit above.

Layer 2 (errors and rate limit). May import: _ids (and the standard library; the library redis, lazily).
"""

from __future__ import annotations

import binascii
import contextlib
import errno
import hashlib
import json
import math
import os
import random
import re
import stat
import tempfile
import time
from typing import Any, Callable, Optional, Protocol

try:
    import fcntl
except ImportError:  # not POSIX: no shared limit, the in-process limiter does the work
    fcntl = None  # type: ignore[assignment]  # the module or None, tested before any use

FOLDER_ENV = "TENCENTCLOUD_CVM_RATE_LIMIT_DIR"
STATE_SUFFIX = ".rate"  # one per account, region, endpoint and action
SLOT_SUFFIX = ".slot"  # one per request in flight, locked by its process while in flight
# The longest a process waits on the shared state (a locked file, or slots in flight that do not move) before it
# falls back to its in-process limiter for the rest of the run (documented in docs/reliability.md).
FALLBACK_AFTER = 5.0
# A state file holds at most `rate` slots (about 60 bytes each): anything much larger is not ours.
MAX_STATE_BYTES = 64 * 1024
# pause() after throttling is at most the throttling backoff's cap (8 s, _client.BACKOFF); a longer one is not ours.
MAX_PAUSE = 10.0
PRUNE_AFTER = 3600.0  # files untouched this long (no slot can still count) are removed, so the folder stays small
IN_FLIGHT_POLL = 0.02  # every poll locks the file: many processes polling faster would cost more than it saves
LOCK_POLL = 0.002  # between two tries of a busy lock; a lock is held for well under a millisecond
MAX_JITTER = 0.005  # spreads the processes that wait for the same free slot

_TOKEN_RE = re.compile(r"[0-9a-f]{16}\Z")

Clock = Callable[[], float]
Sleep = Callable[[float], None]
Warn = Optional[Callable[[str], None]]  # a module's warn(), or None for no warnings
Report = Optional[Callable[[str], None]]
State = dict[str, Any]  # {"paused_until": float, "slots": [[token, sent, answered or None], ...]}


class Limiter(Protocol):
    """What every limiter here, and _client.RateLimiter, offers: acquire() a slot, release() it, pause() everyone."""

    def acquire(self) -> Any:
        """A slot for release(), once the budget has room (waits until then)."""

    def release(self, slot: Any) -> None:
        """The request of `slot` was answered: its slot counts until its window ends."""

    def pause(self, seconds: float) -> None:
        """Hold every request back for `seconds` (after the API throttled one)."""


class LimiterUnavailable(Exception):
    """The shared lock folder or a state file cannot be used; the message says why (no secret in it)."""


def default_folder() -> str:
    return os.environ.get(FOLDER_ENV) or os.path.join(tempfile.gettempdir(), "tencentcloud-cvm-%d" % os.getuid())


def private_folder(path: str) -> str:
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


def state_file_name(secret_id: str | None, region: str | None, endpoint: str | None, action: str) -> str:
    """A name that tells nothing: a hash of the account (itself hashed first), region, endpoint and action."""
    account = hashlib.sha256((secret_id or "").encode("utf-8")).hexdigest()
    key = "\0".join((account, region or "", endpoint or "", action))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:40] + STATE_SUFFIX


def lock_within(fd: int, seconds: float, sleep: Sleep = time.sleep, clock: Clock = time.monotonic) -> bool:
    """flock(LOCK_EX) on fd, trying without blocking until `seconds` have passed; False if it stayed locked."""
    deadline = clock() + seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if clock() >= deadline:
            return False
        sleep(LOCK_POLL + random.uniform(0, LOCK_POLL))


class NotRegularFile(OSError):
    """A name in the folder is not a regular file (a FIFO, a socket, a folder, a device): never read, never waited on."""


def kind_of(mode: int) -> str:
    """What a non-regular entry is, in words."""
    for test, word in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
    ):
        if test(mode):
            return word
    return "not a regular file"


def _open_private(path: str, flags: int) -> int:
    """Open a regular file of the folder without ever blocking: O_NONBLOCK (opening a FIFO for reading waits for a writer
    without it), O_NOFOLLOW (a link fails), and fstat after the open; anything but a regular file raises NotRegularFile."""
    try:
        fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0), 0o600)
    except OSError as exc:
        kind = _not_regular(path) if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR, errno.ENODEV) else None
        if kind is not None:  # a link (O_NOFOLLOW), a socket, a folder opened for writing
            raise NotRegularFile(errno.EINVAL, "it is %s, not a regular file" % kind, path) from None
        raise
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotRegularFile(errno.EINVAL, "it is %s, not a regular file" % kind_of(mode), path)
    return fd


def _not_regular(path: str) -> str | None:
    """The words for a name in the folder that is not a regular file (lstat: never opened, never followed), or None."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else kind_of(mode)


def _remove_not_regular(path: str) -> None:
    """Remove what is not a regular file under one of our names (a folder only when empty): the next use makes a real file."""
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            os.rmdir(path)
        else:
            os.unlink(path)
    except OSError:
        pass


class SharedRateLimiter:
    """At most `rate` requests in any window, counted across processes in one state file.

    The same interface as _client.RateLimiter: acquire() returns a slot for release(); pause() holds everyone back.
    `report(message)` hears (once per process) about a state file that had to be replaced.
    """

    def __init__(self, path: str, rate: int, window: float, clock: Clock = time.monotonic, sleep: Sleep = time.sleep, report: Report = None) -> None:
        self.path = path
        self.rate = rate
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._report = report
        self._held: dict[str, int] = {}  # token -> the open, locked slot file of a request of this process in flight
        # Fail now, not at the first request: a state file that cannot be used means the in-process limiter.
        with self._locked():
            pass

    def _locked(self) -> _LockedState:
        return _LockedState(self.path, self._report)

    def _slot_path(self, token: str) -> str:
        return "%s-%s%s" % (self.path[: -len(STATE_SUFFIX)] if self.path.endswith(STATE_SUFFIX) else self.path, token, SLOT_SUFFIX)

    # -- slots ---------------------------------------------------------------------------------------------------------

    def _holder_alive(self, token: str) -> bool:
        """Whether some process still holds the slot file's lock; a slot whose lock is free (or gone) is removed."""
        if token in self._held:
            return True
        path = self._slot_path(token)
        try:
            fd = _open_private(path, os.O_RDONLY)
        except NotRegularFile as exc:
            # Not a slot file of ours (a FIFO, a folder...): no process can hold it, so the slot counts no more.
            _remove_not_regular(path)
            if self._report is not None:
                self._report("The rate limit slot file %s was removed: %s." % (path, exc.strerror))
            return False
        except OSError:
            return False  # released (or never made), or a link: the slot counts no more
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True  # locked: its process is still there
        else:
            _unlink_quietly(path)
            return False
        finally:
            os.close(fd)

    def _take_slot(self) -> str:
        token = binascii.hexlify(os.urandom(8)).decode("ascii")
        path = self._slot_path(token)
        try:
            fd = _open_private(path, os.O_RDWR | os.O_CREAT | os.O_EXCL)
        except OSError as exc:
            raise LimiterUnavailable("cannot create a slot file in the rate limit folder: %s" % exc.strerror) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            _unlink_quietly(path)
            raise LimiterUnavailable("cannot lock a slot file in the rate limit folder: %s" % exc.strerror) from None
        self._held[token] = fd
        return token

    def _drop_slot(self, token: str) -> None:
        fd = self._held.pop(token, None)
        if fd is not None:
            _unlink_quietly(self._slot_path(token))
            os.close(fd)  # closing releases the lock

    def _tidy(self, state: State, now: float) -> None:
        """Drop slots whose window has passed, slots in flight whose process is gone, and times from another boot."""
        kept = []
        for slot in state["slots"]:
            token, sent, answered = slot
            if sent > now + 1.0 or (answered is not None and answered > now + 1.0):
                continue  # written before a reboot: that clock is not ours
            if answered is not None:
                if now - answered < self.window:
                    kept.append(slot)
            elif self._holder_alive(token):
                if now - sent >= FALLBACK_AFTER:
                    # Still in flight after this long: its process is stopped (or the endpoint very slow). The server
                    # counted the request when it arrived, long ago: count it as answered then, so nobody waits on it.
                    slot[2] = sent + FALLBACK_AFTER
                    if now - slot[2] >= self.window:
                        continue
                kept.append(slot)
        state["slots"] = kept
        if not now - 1.0 <= state["paused_until"] <= now + MAX_PAUSE:
            state["paused_until"] = 0.0

    # -- the limiter interface -----------------------------------------------------------------------------------------

    def acquire(self) -> str:
        """A slot (its token) once the state file has room for one more request in the window; waits until then."""
        while True:
            with self._locked() as state:
                now = self._clock()
                self._tidy(state, now)
                wait = state["paused_until"] - now
                if wait <= 0 and len(state["slots"]) < self.rate:
                    token = self._take_slot()
                    state["slots"].append([token, now, None])
                    return token
                if wait <= 0:
                    answered = [slot[2] for slot in state["slots"] if slot[2] is not None]
                    # A slot frees when the oldest answer's window ends; one still in flight may be answered any moment.
                    wait = IN_FLIGHT_POLL if len(answered) < len(state["slots"]) else self.window - (now - min(answered))
            self._sleep(max(wait, 0.001) + random.uniform(0, MAX_JITTER))

    def release(self, token: str) -> None:
        try:
            with self._locked() as state:
                now = self._clock()
                for slot in state["slots"]:
                    if slot[0] == token:
                        slot[2] = now
                        break
                self._drop_slot(token)
                self._tidy(state, now)
        finally:
            self._drop_slot(token)  # even when the state file failed: the slot must not outlive the request

    def abandon(self, token: str) -> None:
        """Release a slot without the state file (it cannot be used): its lock goes, so readers drop the slot."""
        self._drop_slot(token)

    def pause(self, seconds: float) -> None:
        with self._locked() as state:
            state["paused_until"] = max(state["paused_until"], self._clock() + min(seconds, MAX_PAUSE))


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


class _LockedState:
    """The state file, exclusively locked for the `with` block; the dict it yields is written back on a clean exit."""

    def __init__(self, path: str, report: Report = None) -> None:
        self.path = path
        self.report = report
        self.fd = -1
        self.raw = b""
        self.state: State = {}

    def __enter__(self) -> State:
        try:
            self.fd = _open_private(self.path, os.O_RDWR | os.O_CREAT)
        except NotRegularFile as exc:
            raise LimiterUnavailable("cannot open the rate limit file %s: %s" % (self.path, exc.strerror)) from None
        except OSError as exc:
            raise LimiterUnavailable("cannot open the rate limit file %s: %s" % (self.path, exc.strerror)) from None
        try:
            if not lock_within(self.fd, FALLBACK_AFTER):
                raise LimiterUnavailable("the rate limit file %s stayed locked for %.0f s (a stopped process holds it?)" % (self.path, FALLBACK_AFTER))
            info = os.fstat(self.fd)
            if not stat.S_ISREG(info.st_mode):
                raise LimiterUnavailable("the rate limit file %s is not a regular file" % self.path)
            self.raw = _read_at_most(self.fd, MAX_STATE_BYTES + 1)
        except OSError as exc:
            os.close(self.fd)
            raise LimiterUnavailable("cannot lock or read the rate limit file %s: %s" % (self.path, exc.strerror)) from None
        except LimiterUnavailable:
            os.close(self.fd)
            raise
        self.state, problem = parse_state(self.raw)
        if problem and self.report is not None:
            self.report("The rate limit state file %s was replaced: %s." % (self.path, problem))
        if problem:
            self.raw = b"\0"  # differs from anything json.dumps writes: the file is rewritten
        return self.state

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
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


def _read_at_most(fd: int, limit: int) -> bytes:
    """Up to `limit` bytes from the start of fd, in one join (never by repeated concatenation)."""
    chunks = []
    size = 0
    os.lseek(fd, 0, os.SEEK_SET)
    while size < limit:
        chunk = os.read(fd, min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _reject_constant(name: str) -> Any:
    raise ValueError("%s is not a number" % name)


def parse_state(raw: bytes) -> tuple[State, str]:
    """(state, problem): the state in a file, or an empty one and why the file could not be used ('' for an empty file)."""
    empty: State = {"paused_until": 0.0, "slots": []}
    if not raw:
        return empty, ""
    if len(raw) > MAX_STATE_BYTES:
        return empty, "it is larger than %d bytes" % MAX_STATE_BYTES
    try:
        document = json.loads(raw.decode("ascii"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return empty, "it is not ASCII JSON"
    if not isinstance(document, dict) or not isinstance(document.get("slots"), list) or not _finite(document.get("paused_until")):
        return empty, "it is not a state object (paused_until, slots)"
    slots: list[list] = []
    for slot in document["slots"]:
        if not (
            isinstance(slot, list)
            and len(slot) == 3
            and isinstance(slot[0], str)
            and _TOKEN_RE.match(slot[0])
            and _finite(slot[1])
            and (slot[2] is None or _finite(slot[2]))
        ):
            return empty, "a slot is not [token, sent, answered]"
        slots.append([slot[0], float(slot[1]), None if slot[2] is None else float(slot[2])])
    return {"paused_until": float(document["paused_until"]), "slots": slots}, ""


# Non-empty once this process fell back for any action: from then on every action of the run uses its in-process limiter at
# once, so a stopped process holding the locks of several state files costs one FALLBACK_AFTER in all, not one per action.
_FELL_BACK: set[bool] = set()


def fell_back() -> bool:
    """Whether this process has fallen back to its in-process limiters (for the rest of the run)."""
    return bool(_FELL_BACK)


class _FallbackOnError:
    """A shared limiter that turns into the in-process one (with one warning) if its file fails later, or as soon as another
    action of this process has fallen back."""

    def __init__(
        self,
        shared: Any,
        local_factory: Callable[[], Limiter],
        warn: Warn,
        fell_back_flag: set[bool] | None = None,
        say: Callable[[Warn, Exception], None] | None = None,
    ) -> None:
        self._shared = shared
        self._local_factory = local_factory
        self._warn = warn
        self._local: Limiter | None = None
        self._flag = _FELL_BACK if fell_back_flag is None else fell_back_flag
        self._say = say or _say

    def _fall_back(self, exc: Exception) -> Limiter:
        self._flag.add(True)
        if self._local is None:
            self._local = self._local_factory()
            self._say(self._warn, exc)
        return self._local

    def _in_process(self) -> Limiter:
        """The in-process limiter (in place once _off() is true or _fall_back() ran)."""
        if self._local is None:
            self._local = self._local_factory()
        return self._local

    def _off(self) -> bool:
        """True (and the in-process limiter in place) once any action of this process fell back."""
        if self._local is None and self._flag:
            self._local = self._local_factory()
        return self._local is not None

    def acquire(self) -> tuple[str, Any]:
        if not self._off():
            try:
                return ("shared", self._shared.acquire())
            except LimiterUnavailable as exc:
                self._fall_back(exc)
        return ("local", self._in_process().acquire())

    def release(self, slot: tuple[str, Any]) -> None:
        kind, inner = slot
        if kind == "shared" and self._local is not None:
            # Fallen back meanwhile: do not wait on the state file again; freeing the slot file frees the slot.
            self._shared.abandon(inner)
        elif kind == "shared":
            try:
                self._shared.release(inner)
            except LimiterUnavailable as exc:
                self._fall_back(exc)
        else:
            self._in_process().release(inner)

    def pause(self, seconds: float) -> None:
        if not self._off():
            try:
                self._shared.pause(seconds)
                return
            except LimiterUnavailable as exc:
                self._fall_back(exc)
        self._in_process().pause(seconds)


_WARNED: set[str] = set()  # what this process has already warned about: one warning per kind, however many actions and clients


def _say(warn: Warn, exc: Exception) -> None:
    if warn is not None and "fallback" not in _WARNED:
        _WARNED.add("fallback")
        warn(
            "The rate limit shared between Ansible processes is off (%s): this process limits only its own requests, so "
            "many forks at once may be throttled by the API. Set %s to a private folder to fix it." % (exc, FOLDER_ENV)
        )


def _reporter(warn: Warn) -> Callable[[str], None]:
    """What a limiter calls when it replaced a state file: one warning per process."""

    def report(message: str) -> None:
        if warn is not None and "replaced" not in _WARNED:
            _WARNED.add("replaced")
            warn(message + " Another program may be writing to the rate limit folder; set %s to a private folder." % FOLDER_ENV)

    return report


_PRUNED: set[str] = set()


def prune(folder: str, now: float | None = None, report: Report = None) -> None:
    """Remove the state and slot files nobody used for PRUNE_AFTER seconds (once per folder and process).

    A name of ours that is not a regular file (a FIFO, a socket, a folder, a link) is never opened: it is removed like a
    corrupted state file is replaced, and `report(message)` hears about it (one warning per process)."""
    if folder in _PRUNED:
        return
    _PRUNED.add(folder)
    now = time.time() if now is None else now
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith((STATE_SUFFIX, SLOT_SUFFIX, ".limit")))
    except OSError:
        return
    odd = []
    for name in names:
        path = os.path.join(folder, name)
        kind = _not_regular(path)
        if kind is not None:
            odd.append("%s (%s)" % (name, kind))
            _remove_not_regular(path)
            continue
        try:
            fd = _open_private(path, os.O_RDONLY)
        except OSError:  # NotRegularFile too: replaced between the lstat and the open; the next run removes it
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # in use right now: not stale
            if now - os.fstat(fd).st_mtime > PRUNE_AFTER:
                os.unlink(path)
        except OSError:
            pass
        finally:
            os.close(fd)
    if odd and report is not None:
        report("The rate limit folder %s held what is not a regular file, removed: %s." % (folder, ", ".join(odd[:5])))


# Every connection option that decides the limiter arrives here, once: hence the many arguments.
def make_limiter(  # pylint: disable=unknown-option-value,too-many-arguments,too-many-positional-arguments,too-many-locals
    secret_id: str | None,
    region: str | None,
    endpoint: str | None,
    action: str,
    rate: int,
    window: float,
    local_factory: Callable[[], Limiter],
    warn: Warn = None,
    folder: str | None = None,
    sleep: Sleep = time.sleep,
    url: str | None = None,
    password: str | None = None,
    ca_bundle: str | None = None,
    shown_url: str | None = None,
) -> Limiter:
    """The limiter for one action: on the Redis server at `url` when one is given and answers, else shared between the
    processes of this machine when the lock folder can be used, else local_factory().

    Once this process has fallen back (for any action), every further action gets local_factory() at once: no state file
    is tried again, so the run waits at most one FALLBACK_AFTER on locks in all. The same holds for the Redis server: once
    it failed, this process uses the single-machine limit for the rest of the run (one warning, one timeout at most).
    `shown_url` is the URL as it may be shown (its password masked by the caller)."""

    def single_machine() -> Limiter:
        return _folder_limiter(secret_id, region, endpoint, action, rate, window, local_factory, warn, folder, sleep)

    if not url:
        return single_machine()
    if _REDIS_FELL_BACK:
        return single_machine()
    say = _redis_say(shown_url or "the rate limit server")
    try:
        shared = RedisRateLimiter(
            connect_redis(url, password, ca_bundle, shown_url),
            state_file_name(secret_id, region, endpoint, action),
            rate,
            window,
            sleep=sleep,
            password=password,
            shown_url=shown_url,
            url=url,
        )
    except LimiterUnavailable as exc:
        _REDIS_FELL_BACK.add(True)
        say(warn, exc)
        return single_machine()
    return _FallbackOnError(shared, single_machine, warn, fell_back_flag=_REDIS_FELL_BACK, say=say)


# make_limiter's own options, passed on.
def _folder_limiter(  # pylint: disable=unknown-option-value,too-many-arguments,too-many-positional-arguments
    secret_id: str | None,
    region: str | None,
    endpoint: str | None,
    action: str,
    rate: int,
    window: float,
    local_factory: Callable[[], Limiter],
    warn: Warn,
    folder: str | None,
    sleep: Sleep,
) -> Limiter:
    if _FELL_BACK:
        return local_factory()
    try:
        folder = private_folder(folder or default_folder())
        prune(folder, report=_reporter(warn))
        shared = SharedRateLimiter(
            os.path.join(folder, state_file_name(secret_id, region, endpoint, action)), rate, window, sleep=sleep, report=_reporter(warn)
        )
    except LimiterUnavailable as exc:
        _FELL_BACK.add(True)
        _say(warn, exc)
        return local_factory()
    return _FallbackOnError(shared, local_factory, warn)


# -- the budget on a Redis server -----------------------------------------------------------------------------------------

URL_ENV = "TENCENTCLOUD_RATE_LIMIT_URL"
URL_SCHEMES = ("redis", "rediss", "unix")
# Connect and answer timeout of every Redis command: a server slower than this is treated as lost (one warning, the
# single-machine limit). Well below api_deadline's least value (1 s is its floor, 300 s its default): the worst a lost
# server costs a run is one connect and one answer timeout, once.
REDIS_TIMEOUT = 1.0
KEY_PREFIX = "tencentcloud-cvm:"
REDIS_POLL = 0.02  # like IN_FLIGHT_POLL: between two tries while requests of the window are in flight

# One script per step, run atomically by the server with the server's clock (TIME): the machines' clocks never meet.
# KEYS: answered (zset token -> answer time), in flight (zset token -> send time), pause (string: until when).
# A request in flight for longer than `stale` seconds (its process stopped, or the endpoint very slow) counts as answered
# then, as the single-machine rule does. Numbers come back as strings: Redis cuts Lua numbers to integers.
_LUA_NOW = """
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""
_LUA_TIDY = """
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - stale, 'WITHSCORES')
for i = 1, #old, 2 do
  redis.call('ZREM', KEYS[2], old[i])
  redis.call('ZADD', KEYS[1], tonumber(old[i + 1]) + stale, old[i])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
"""
_ACQUIRE = (
    _LUA_NOW
    + """
local rate, window, stale, keep = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5])
"""
    + _LUA_TIDY
    + """
local paused = tonumber(redis.call('GET', KEYS[3]) or '0') or 0
if paused > now then return tostring(paused - now) end
local flying = redis.call('ZCARD', KEYS[2])
local answered = redis.call('ZCARD', KEYS[1])
if flying + answered < rate then
  redis.call('ZADD', KEYS[2], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[2], keep)
  return '0'
end
if answered == 0 or flying > 0 then return 'poll' end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(window - (now - tonumber(oldest[2])))
"""
)
_RELEASE = (
    _LUA_NOW
    + """
local keep = tonumber(ARGV[2])
if redis.call('ZREM', KEYS[2], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], keep)
end
return 'ok'
"""
)
_PAUSE = (
    _LUA_NOW
    + """
local until_ = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[3]) or '0') or 0
if until_ > paused then redis.call('SET', KEYS[3], tostring(until_), 'PX', tonumber(ARGV[2])) end
return 'ok'
"""
)


def redis_url_problem(url: str) -> str | None:
    """Why a rate_limit_url is unusable (its scheme), or None; the caller names the URL with its password masked."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in URL_SCHEMES:
        return "the scheme must be redis://host[:port][/db], rediss:// (TLS) or unix:///path/to/socket"
    return None


def connect_redis(url: str, password: str | None = None, ca_bundle: str | None = None, shown_url: str | None = None) -> Any:
    """A client of the library redis for `url`, with short timeouts and no retries of its own; LimiterUnavailable if the
    library is missing. No command is sent here."""
    try:
        import redis  # pylint: disable=import-outside-toplevel
        from redis.backoff import NoBackoff  # pylint: disable=import-outside-toplevel
        from redis.retry import Retry  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise LimiterUnavailable(
            "the Python library redis is not installed on this host (pip install redis, or build the "
            "execution environment from the collection's requirements.txt)"
        ) from None
    options: dict[str, Any] = dict(
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
        retry_on_timeout=False,
        health_check_interval=0,
        decode_responses=True,
    )
    if password:
        options["password"] = password
    if url.lower().startswith("rediss://") and ca_bundle:
        options["ssl_ca_certs"] = ca_bundle
    try:
        return redis.Redis.from_url(url, **options)
    except (ValueError, TypeError) as exc:
        raise LimiterUnavailable("the rate limit URL %s cannot be used: %s" % (shown_url or "(not shown)", _hide(str(exc), url, password))) from None


def _hide(text: str, url: str, password: str | None) -> str:
    """text without the password of the URL or the option (a library's message may quote either)."""
    secrets = [password] if password else []
    user_info = url.partition("://")[2].rpartition("@")[0]
    if user_info:
        secrets.extend([user_info, user_info.partition(":")[2]])
    for secret in sorted((item for item in secrets if item and len(item) >= 3), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text[:300]


class RedisRateLimiter:
    """SharedRateLimiter's rule and interface, kept on a Redis server: every machine naming it shares the budget.

    Any error of the server or the library, or an answer that is not ours, raises LimiterUnavailable (no secret in it).
    """

    def __init__(
        self,
        client: Any,
        name: str,
        rate: int,
        window: float,
        sleep: Sleep = time.sleep,
        password: str | None = None,
        shown_url: str | None = None,
        url: str = "",
    ) -> None:
        self.client = client
        self._secret_url = url  # only to cut its password out of a library's message
        self.rate = rate
        self.window = window
        self._sleep = sleep
        self._password = password
        self._shown = shown_url or "the rate limit server"
        base = KEY_PREFIX + "{" + name[:40] + "}:"
        self.keys = [base + "answered", base + "flight", base + "pause"]
        self._keep_ms = int((window + FALLBACK_AFTER + MAX_PAUSE) * 1000) + 1000
        self._scripts: dict[str, Any] = {}
        # Fail now, not at the first request: a server that cannot be used means the single-machine limit.
        self._run(_RELEASE, "0" * 16, self._keep_ms)

    def _run(self, source: str, *args: Any) -> str:
        try:
            script = self._scripts.get(source)
            if script is None:
                script = self._scripts[source] = self.client.register_script(source)
            answer = script(keys=self.keys, args=list(args))
        except Exception as exc:  # pylint: disable=broad-except
            # The library's errors (refused, lost, timeout, wrong password, a protocol it cannot read) and whatever a
            # garbage answer makes it raise: all mean the server cannot be used.
            raise LimiterUnavailable(
                "the rate limit server %s cannot be used: %s: %s" % (self._shown, type(exc).__name__, _hide(str(exc), self._secret_url, self._password))
            ) from None
        if isinstance(answer, bytes):
            answer = answer.decode("ascii", "replace")
        if not isinstance(answer, str):
            raise LimiterUnavailable("the rate limit server %s gave an answer that is not ours (%s)" % (self._shown, type(answer).__name__))
        return answer

    def acquire(self) -> str:
        """A slot (its token) once the server's budget has room for one more request in the window; waits until then."""
        while True:
            token = binascii.hexlify(os.urandom(8)).decode("ascii")
            answer = self._run(_ACQUIRE, self.rate, self.window, FALLBACK_AFTER, token, self._keep_ms)
            if answer == "0":
                return token
            if answer == "poll":
                wait = REDIS_POLL
            else:
                try:
                    wait = float(answer)
                except ValueError:
                    wait = -1.0
                if not 0 <= wait <= MAX_PAUSE + self.window:
                    raise LimiterUnavailable("the rate limit server %s gave an answer that is not ours" % self._shown)
            self._sleep(max(wait, 0.001) + random.uniform(0, MAX_JITTER))

    def release(self, token: str) -> None:
        self._run(_RELEASE, token, self._keep_ms)

    def abandon(self, token: str) -> None:
        """Fallen back: the slot stays in flight on the server and counts as answered FALLBACK_AFTER after it was taken."""

    def pause(self, seconds: float) -> None:
        self._run(_PAUSE, min(seconds, MAX_PAUSE), int(MAX_PAUSE * 1000) + 1000)


_REDIS_FELL_BACK: set[bool] = set()


def _redis_say(shown: str) -> Callable[[Warn, Exception], None]:
    def say(warn: Warn, exc: Exception) -> None:
        if warn is not None and "redis" not in _WARNED:
            _WARNED.add("redis")
            warn(
                "The rate limit shared through %s is off for the rest of this run (%s): this process falls back to the "
                "single-machine limit, so processes of other machines are not counted. Check that the server runs and "
                "answers within %.0f s, and its password (rate_limit_password, TENCENTCLOUD_RATE_LIMIT_PASSWORD)." % (shown, exc, REDIS_TIMEOUT)
            )

    return say
