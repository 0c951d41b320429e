# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SSH mode: every Linux instance answers SSH on its own loopback address with OpenSSH's real sshd.

The emulator holds one listening socket per RUNNING Linux instance (127.<slot>.<i // 250>.<i % 250 + 1>, port 22) and
runs `sshd -i` (inetd mode) for each connection it accepts, so an instance accepts connections exactly while the
emulator shows it RUNNING, and no sshd outlives the emulator (each session also dies with it: PR_SET_PDEATHSIG).
No sshd ever runs as root: an emulator running as root runs each one as the unprivileged account cvm-login (created
once), which is then the login user; an emulator running as another user runs sshd as itself, and that user logs in.
A non-root sshd can log in only the user it runs as, needs no privilege separation, and no root process parses what a
client sends. The files sshd reads are the emulator's: the login account may read them, never write them.
An instance's authorized keys are the public keys of the key pairs bound to it, rewritten when a bind or unbind takes
effect, unless the instance's guest agent is broken (config key_injection_failures): then they stay as they were.
May import: constants, helpers.
"""

import ctypes
import errno
import grp
import os
import pwd
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from .helpers import is_windows

LOGIN_ACCOUNT = "cvm-login"  # the login user when the emulator runs as root: a system account, password locked
LOGIN_ACCOUNT_COMMENT = "CVM emulator SSH-mode logins"
SSHD_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
SSH_PORT = 22
SLOTS = range(100, 200)  # second octet of the loopback addresses; each running emulator claims one
CLAIM_HOST = 255  # 127.<slot>.255.254 is never an instance's address: the emulator holds it to claim its slot
INSTANCES_PER_BLOCK = 250

SSHD_CONFIG = """\
HostKey {host_key}
AuthorizedKeysFile none
UsePAM no
StrictModes no
PidFile none
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
LogLevel ERROR
Subsystem sftp internal-sftp
"""


def _die_with_parent():
    """In the child: get SIGKILL when the thread that started it (the emulator's SSH thread) ends."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _confinement(account):
    """The command prefix that runs an sshd as `account` (None: as the emulator's own user, who is not root).

    As root: `unshare --pid --mount --kill-child` puts each sshd and everything it starts (the session, the login's shell and
    what that leaves in the background) in a PID namespace of its own, which the kernel empties when the sshd ends or the
    emulator dies, with a devpts of its own whose terminals belong to group tty (a non-root sshd cannot hand a terminal to
    that group itself, and it refuses the login when a terminal's group is not tty); `setpriv` makes it the login account,
    with only that account's groups and no_new_privs (no setuid program can give it more), and keeps the parent-death signal
    across the change of user. Where namespaces are refused (some containers): the first step that works of these, down to
    setpriv alone (the emulator then kills each session's process group itself; a login with a terminal may fail)."""
    if account is None:
        return []
    setpriv = ["setpriv", "--reuid=%d" % account.pw_uid, "--regid=%d" % account.pw_gid, "--init-groups", "--no-new-privs",
               "--pdeathsig", "keep", "--"]
    try:
        tty_gid = grp.getgrnam("tty").gr_gid
    except KeyError:
        tty_gid = None
    candidates = [["unshare", "--pid", "--kill-child=SIGKILL", "--"] + setpriv, setpriv]
    if tty_gid is not None:
        devpts = ("mount -t devpts -o newinstance,gid=%d,mode=0620,ptmxmode=0666 devpts /dev/pts && mount --bind /dev/pts/ptmx /dev/ptmx "
                  "&& exec \"$@\"" % tty_gid)
        candidates.insert(0, ["unshare", "--pid", "--mount", "--propagation", "private", "--kill-child=SIGKILL", "--",
                              "/bin/sh", "-c", devpts, "sh"] + setpriv)
    for prefix in candidates[:-1]:
        probe = subprocess.run(prefix + ["true"], capture_output=True, timeout=30, check=False, stdin=subprocess.DEVNULL)
        if probe.returncode == 0:
            return prefix
    return candidates[-1]


def login_account():
    """The account sshd runs as and logs in: cvm-login (created when missing) for an emulator running as root, else the
    emulator's own user. Never uid 0."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    for _attempt in range(20):  # concurrent emulators may create it at once; useradd refuses while another holds its lock
        try:
            account = pwd.getpwnam(LOGIN_ACCOUNT)
            break
        except KeyError:
            pass
        useradd = subprocess.run(["useradd", "--system", "--create-home", "--shell", "/bin/bash", "--comment", LOGIN_ACCOUNT_COMMENT,
                                  LOGIN_ACCOUNT], capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
        if useradd.returncode not in (0, 9, 10):  # 9: it exists now, 10: /etc/passwd is locked (another useradd)
            raise ValueError("SSH mode runs sshd as the unprivileged account %s and cannot create it (useradd: %s)"
                             % (LOGIN_ACCOUNT, useradd.stderr.strip()))
        time.sleep(0.1)
    else:
        raise ValueError("SSH mode runs sshd as the unprivileged account %s, which could not be created" % LOGIN_ACCOUNT)
    if account.pw_uid == 0 or account.pw_gid == 0:
        raise ValueError("the account %s has uid or gid 0; SSH mode never logs in as root: remove it (userdel %s)" % (LOGIN_ACCOUNT, LOGIN_ACCOUNT))
    return account


def run_keygen(path, comment):
    """A new ed25519 key pair at path and path.pub (OpenSSH's ssh-keygen); returns (public line, private PEM)."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path],
                   check=True, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    with open(path + ".pub", encoding="ascii") as public, open(path, encoding="ascii") as private:
        return public.read().strip(), private.read()


class SshHosts:
    """The SSH side of the instances; the World calls on_load/on_state/on_keys/on_remove under the emulator's lock."""

    def __init__(self, sshd, slot=None, config=None):
        if not sshd or not os.access(sshd, os.X_OK):
            raise ValueError("SSH mode needs OpenSSH's sshd (Debian: apt-get install openssh-server); not found at %r" % sshd)
        if not shutil.which("ssh-keygen"):
            raise ValueError("SSH mode needs ssh-keygen (Debian: openssh-client)")
        self.sshd = sshd
        self.config = config
        self.account = login_account()
        # Run as root, sshd runs as the login account: it may read (group) what it needs, never write it.
        self.drop_to = self.account if os.geteuid() == 0 else None
        if self.drop_to is not None and not (shutil.which("setpriv") and shutil.which("unshare")):
            raise ValueError("SSH mode as root runs sshd as %s with setpriv and unshare (Debian: util-linux)" % self.user)
        self.prefix = _confinement(self.drop_to)
        self.dir = tempfile.mkdtemp(prefix="cvm-emulator-ssh-")  # 0700
        self._share(self.dir, 0o750)
        self.host_key = os.path.join(self.dir, "host_ed25519_key")
        run_keygen(self.host_key, "cvm-emulator-host")
        self._share(self.host_key, 0o640)
        self.config_path = os.path.join(self.dir, "sshd_config")
        with open(self.config_path, "w", encoding="utf-8") as handle:
            handle.write(SSHD_CONFIG.format(host_key=self.host_key))
        self._share(self.config_path, 0o640)
        self.log = open(os.path.join(self.dir, "sshd.log"), "ab")  # pylint: disable=consider-using-with  # 0600 by umask at most
        os.chmod(self.log.name, 0o600)
        self.slot, self.claim = self._claim_slot(slot)
        self.lock = threading.RLock()
        self.selector = selectors.DefaultSelector()
        self.addresses = {}  # instance id -> loopback address
        self.listeners = {}  # instance id -> listening socket (RUNNING Linux instances only)
        self.sessions = {}  # instance id -> [sshd -i processes]
        self.injected = {}  # instance id -> key ids whose public keys are in its authorized keys file
        self.bind_errors = {}  # instance id -> why its address could not be listened on
        self.world = None
        self.ticker = None  # runs the world's due operation steps (under the emulator's lock), so states change on time
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, name="cvm-emulator-ssh", daemon=True)
        self.thread.start()

    @staticmethod
    def _claim_slot(wanted):
        for slot in [wanted] if wanted else SLOTS:
            claim = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                claim.bind(("127.%d.%d.254" % (slot, CLAIM_HOST), SSH_PORT))
                claim.listen(1)
                return slot, claim
            except OSError as error:
                claim.close()
                if error.errno != errno.EADDRINUSE:
                    raise ValueError("cannot listen on 127.%d.%d.254:%d for SSH mode: %s" % (slot, CLAIM_HOST, SSH_PORT, error)) from error
        raise ValueError("every SSH slot 127.%d-%d.x.x is taken by other emulators" % (SLOTS[0], SLOTS[-1]))

    @property
    def user(self):
        return self.account.pw_name

    def _share(self, path, mode):
        """Let the login account read `path` (group), never write it; nobody else gets anything. Owner only without root."""
        if self.drop_to is not None:
            os.chown(path, 0, self.drop_to.pw_gid)
            os.chmod(path, mode)
        else:
            os.chmod(path, mode & 0o700)

    def address_of(self, index):
        return "127.%d.%d.%d" % (self.slot, index // INSTANCES_PER_BLOCK, index % INSTANCES_PER_BLOCK + 1)

    def keys_file(self, instance_id):
        return os.path.join(self.dir, "authorized_keys." + instance_id)

    # -- called by the World -----------------------------------------------------------------------------------------

    def on_load(self, world):
        """A new state (start, PUT state, reset, generated instances): addresses, authorized keys and listeners anew."""
        with self.lock:
            for instance_id in list(self.listeners):
                self._close(instance_id)
            self.world = world
            self.addresses, self.injected, self.bind_errors = {}, {}, {}
            for index, instance in enumerate(world.instances.values()):
                address = self.address_of(index)
                self.addresses[instance.instance_id] = address
                data = instance.data
                data["PrivateIpAddresses"] = [address]  # loopback only: the seed's 10.x and public addresses are never shown
                data["VirtualPrivateCloud"]["PrivateIpAddresses"] = [address]
                data["PublicIpAddresses"] = None
                if not is_windows(data):
                    data["DefaultLoginUser"] = self.user  # the one user this emulator's sshd can log in
                self._write_keys(instance)  # the keys it booted with
                self.on_state(instance)

    def on_state(self, instance):
        with self.lock:
            if instance.data["InstanceState"] == "RUNNING" and not is_windows(instance.data):
                self._open(instance.instance_id)
            else:
                self._close(instance.instance_id)

    def on_keys(self, instance):
        """A bind or unbind took effect: the guest agent writes the keys, unless it is broken on this instance."""
        with self.lock:
            if self.config is not None and instance.instance_id in self.config.key_injection_failures:
                return
            self._write_keys(instance)

    def on_remove(self, instance_id):
        with self.lock:
            self._close(instance_id)
            self.addresses.pop(instance_id, None)
            self.injected.pop(instance_id, None)
            try:
                os.unlink(self.keys_file(instance_id))
            except FileNotFoundError:
                pass

    def _write_keys(self, instance):
        pairs = self.world.key_pairs
        key_ids = [key_id for key_id in instance.key_ids if key_id in pairs]
        path = self.keys_file(instance.instance_id)
        with open(path + ".new", "w", encoding="utf-8") as handle:
            handle.writelines(pairs[key_id].data["PublicKey"].strip() + "\n" for key_id in key_ids)
        self._share(path + ".new", 0o640)
        os.replace(path + ".new", path)  # sshd reads the file at each login: never a half-written one
        self.injected[instance.instance_id] = key_ids

    def _open(self, instance_id):
        if instance_id in self.listeners or instance_id not in self.addresses:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.addresses[instance_id], SSH_PORT))
            listener.listen(16)
            listener.setblocking(False)
        except OSError as error:
            listener.close()
            self.bind_errors[instance_id] = str(error)
            sys.stderr.write("cvm_emulator: SSH of %s on %s:%d unavailable: %s\n" % (instance_id, self.addresses[instance_id], SSH_PORT, error))
            return
        self.bind_errors.pop(instance_id, None)
        self.listeners[instance_id] = listener
        self.selector.register(listener, selectors.EVENT_READ, instance_id)

    def _close(self, instance_id):
        """Stopped: refuse new connections and end open sessions, as a shutdown would."""
        listener = self.listeners.pop(instance_id, None)
        if listener is not None:
            self.selector.unregister(listener)
            listener.close()
        for process in self.sessions.pop(instance_id, []):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)  # the sshd and whatever of its session shares its process group
                except ProcessLookupError:
                    pass
                process.kill()
                process.wait()

    # -- the connections ---------------------------------------------------------------------------------------------

    def _serve(self):
        while not self.stopping.is_set():
            ready = self.selector.select(0.1)
            if self.ticker is not None:  # never while holding self.lock: the emulator's lock comes first
                self.ticker()
            for key, _events in ready:
                with self.lock:
                    if self.listeners.get(key.data) is not key.fileobj:
                        continue  # closed meanwhile
                    try:
                        connection, _peer = key.fileobj.accept()
                    except OSError:
                        continue
                    self._spawn(key.data, connection)
            self._reap()

    def _spawn(self, instance_id, connection):
        """One `sshd -i` per connection, started from this (long-lived) thread so that PR_SET_PDEATHSIG holds."""
        with connection:
            command = self.prefix + [self.sshd, "-i", "-e", "-f", self.config_path, "-o", "AuthorizedKeysFile=" + self.keys_file(instance_id)]
            try:
                # A bare environment: the emulator's own (its control token, credentials) never reaches the login account.
                process = subprocess.Popen(command, stdin=connection.fileno(), stdout=connection.fileno(),  # pylint: disable=consider-using-with
                                           stderr=self.log, env=dict(SSHD_ENV), cwd="/", start_new_session=True,
                                           preexec_fn=_die_with_parent)  # pylint: disable=subprocess-popen-preexec-fn
            except OSError as error:
                sys.stderr.write("cvm_emulator: cannot run sshd for %s: %s\n" % (instance_id, error))
                return
        self.sessions.setdefault(instance_id, []).append(process)

    def _reap(self):
        with self.lock:
            for instance_id, processes in list(self.sessions.items()):
                alive = [process for process in processes if process.poll() is None]
                if alive:
                    self.sessions[instance_id] = alive
                else:
                    del self.sessions[instance_id]

    # -- key pairs, status, shutdown ---------------------------------------------------------------------------------

    def make_key_pair(self, name):
        """A real key pair for CreateKeyPair: (OpenSSH public key line, private key PEM); nothing is kept on disk."""
        scratch = tempfile.mkdtemp(prefix="keygen-", dir=self.dir)
        try:
            return run_keygen(os.path.join(scratch, "key"), name)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def status(self):
        with self.lock:
            return {
                "enabled": True, "user": self.user, "uid": self.account.pw_uid, "port": SSH_PORT, "slot": self.slot, "sshd": self.sshd, "dir": self.dir,
                "instances": {instance_id: {"address": address, "listening": instance_id in self.listeners,
                                            "authorized_key_ids": list(self.injected.get(instance_id, [])),
                                            "error": self.bind_errors.get(instance_id)}
                              for instance_id, address in self.addresses.items()},
                "session_pids": sorted(process.pid for processes in self.sessions.values() for process in processes
                                       if process.poll() is None),
            }

    def close(self):
        """Stop listening, end every session, remove the working directory."""
        self.stopping.set()
        self.thread.join(5)
        with self.lock:
            for instance_id in list(self.listeners) + list(self.sessions):
                self._close(instance_id)
            self.claim.close()
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
