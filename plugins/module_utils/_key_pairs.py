# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: the key pair changes, the one owner of creating, importing and deleting a key pair.

Layer 6 (key pairs). May import: _ids, _errors, _shared_limiter, _client, _lookup, _key_changes (and the standard library);
never _base or a module.

converge_key_pair() runs one key pair's whole workflow for a KeyPairGoal and returns one KeyPairOutcome:
read by name -> refuse (several of that name, another public key, a name the API would refuse) ->
present: (unless check mode) import, or create and hand the private key to the caller's store
         (deleting the key pair again when the store cannot keep it);
absent:  unbind from its instances through the key changes engine (force), then delete,
         waiting out the API's refusals for a while after an unbind.
No write is resent blindly: a lost answer is settled by reading the key pair by name or ID.
cvm_keypair maps its options to a KeyPairGoal and the KeyPairOutcome to its result, with no write call of its own.
The scaffold is the one of _key_changes: a run raises Stop(Failure(...)) and its converge function catches it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from typing import Any, Callable, NoReturn

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _errors, _ids, _key_changes, _lookup
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApi, CvmApiError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._key_changes import Failure, READ_FAILED, REFUSED, WRITE_FAILED, Stop

# The names CreateKeyPair / ImportKeyPair accept: letters, digits and underscores, at most 25 characters.
# Checked only when creating: lookups take any name (older key pairs may have other characters).
KEY_NAME_RE = re.compile(r"[A-Za-z0-9_]{1,25}\Z")  # \Z, not $: "$" would let a trailing newline through
# DeleteKeyPairs answers this for a while after the key pair was unbound (or its instance terminated); retried with these
# delays (seconds, doubling) for at most wait_timeout (Terraform's provider retries it for 5 minutes).
DELETION_LAG_CODE = "InvalidParameterValue.KeyPairNotSupported"
# DeleteKeyPairs answers this for a key pair a custom image uses: never retried, worded by the error table.
USED_BY_IMAGE_CODE = "InvalidKeyPair.NotSupported"
DELETE_RETRY_FIRST = 1.0
DELETE_RETRY_CAP = 10.0
# A write whose answer was lost (the connection dropped after it was sent, a 5xx, a timeout) is never resent blindly:
# the key pair is read again by name (or ID) and the next step decided from what is there. At most this many sends
# of one write; each further one only after a read showed that the previous ones did not take effect.
MAX_WRITE_SENDS = 6
# Refusals that, after an ambiguous send of the same write, mean that send took effect: settled by reading too.
NAME_TAKEN = frozenset(["InvalidKeyPairName.Duplicate", "InvalidPublicKey.Duplicate"])
GONE = frozenset(["InvalidKeyPairId.NotFound", "InvalidParameterValue.KeyPairNotFound", "ResourceNotFound.KeyPairNotFound"])


def parse_public_key(text: str | None) -> tuple[str, bytes] | None:
    """(type, blob) of an OpenSSH public key line, compared without its comment; None when it is not one."""
    parts = (text or "").split()
    if len(parts) < 2:
        return None
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        return None
    name = parts[0].encode()
    if blob[:4] != len(name).to_bytes(4, "big") or blob[4 : 4 + len(name)] != name:
        return None
    return parts[0], blob


def fingerprint(public_key: str | None) -> str | None:
    """The SHA256 fingerprint as ssh-keygen -l shows it, or None."""
    parsed = parse_public_key(public_key)
    if parsed is None:
        return None
    return "SHA256:" + base64.b64encode(hashlib.sha256(parsed[1]).digest()).decode().rstrip("=")


def name_errors(name: str, creating: bool) -> list[str]:
    """Any name can be looked up (older key pairs may have other characters); a new key pair's name must follow the API's rules."""
    if not name:
        return ["name is empty: give the key pair's name, like ops_team."]
    if creating and not KEY_NAME_RE.match(name):
        if len(name) > 25 and KEY_NAME_RE.match(name[:25]):
            text = "name %s has %d characters: at most 25 are allowed." % (_ids.shown(name), len(name))
        else:
            text = "name %s may contain only letters, digits and underscores (at most 25), like ops_team." % _ids.shown(name)
        if _ids.KEY_PAIR.match(name):
            text += " It looks like a key pair ID: this module finds key pairs by name."
        return [text]
    return []


def key_pair_result(pair: dict[str, Any]) -> dict[str, Any]:
    """The key pair as the module returns it, from a _lookup.key_pair_dict."""
    return dict(
        key_id=pair["key_id"],
        key_name=pair["key_name"],
        public_key=pair["public_key"],
        fingerprint=fingerprint(pair["public_key"]),
        project_id=pair["project_id"],
        associated_instance_ids=list(pair["associated_instance_ids"]),
        created_time=pair["created_time"],
    )


def _unread_result(goal: KeyPairGoal, key_id: str | None) -> dict[str, Any]:
    """The result for a key pair not read back (check mode, or an import the API has not listed yet): what the goal asked."""
    return dict(
        key_id=key_id,
        key_name=goal.name,
        public_key=goal.public_key,
        fingerprint=fingerprint(goal.public_key),
        project_id=goal.project_id,
        associated_instance_ids=[],
        created_time=None,
    )


class KeyPairGoal:
    """What one key pair should be. `private_key_store` (present, without public_key) keeps the private key of a key pair this
    run creates; without one, the KeyPairOutcome returns it. A store has `path` and `marker` (the pending marker's path) and these
    methods: missing() (no file there yet), problem() (why it could not keep a key, checked before creating), prepare() and
    write(private_key) (each a problem sentence, or None when done), and the pending marker's: pending() (a marker is there),
    begin() (write it before CreateKeyPair is sent: a problem sentence, or None) and done() (remove it)."""

    def __init__(
        self,
        name: str,
        state: str = "present",
        public_key: str | None = None,
        project_id: int = 0,
        private_key_store: Any = None,
        force: bool = False,
        force_stop: bool = False,
        wait_timeout: int = 300,
    ) -> None:
        self.name = name
        self.state = state
        self.public_key = public_key.strip() if public_key is not None else None
        self.project_id = project_id
        self.private_key_store = private_key_store
        self.force = force
        self.force_stop = force_stop
        self.wait_timeout = wait_timeout


class KeyPairOutcome:
    """What a run did, for the caller to report: the key pair before and after (None where there is none), the key pair to
    return, whether anything changed (or would, in check mode), the RequestIds of the accepted writes, warnings, the private
    key to return (created without a store), values to mask in anything shown (a private key a store keeps), and the Failure
    that stopped the run (None when it reached the goal)."""

    def __init__(self) -> None:
        self.before: dict[str, Any] | None = None
        self.after: dict[str, Any] | None = None
        self.key_pair: dict[str, Any] | None = None
        self.changed = False
        self.request_ids: list[str] = []
        self.warnings: list[str] = []
        self.private_key: str | None = None
        self.secrets: list[str] = []
        self.failure: Failure | None = None


def _stop(kind: str, message: str | None = None, error: CvmApiError | None = None, attempting: str | None = None) -> NoReturn:
    raise Stop(Failure(kind, message, error, attempting))


def converge_key_pair(
    api: CvmApi, goal: KeyPairGoal, check_mode: bool = False, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
) -> KeyPairOutcome:
    """Bring the key pair to `goal` through `api` and return the KeyPairOutcome; never raises for API failures."""
    return _KeyPairRun(api, goal, check_mode, clock, sleep).run()


class _KeyPairRun:
    """One converge_key_pair() call: read -> refuse -> create, import, or unbind and delete, each write settled by reading."""

    def __init__(self, api, goal, check_mode, clock, sleep):
        self.api = api
        self.goal = goal
        self.check_mode = check_mode
        self.clock = clock
        self.sleep = sleep
        self.outcome = KeyPairOutcome()
        self.lost_answers = 0  # writes of this run whose answer was lost (settled by reading)
        self.keep_marker = False  # a key pair of this run exists without its private key stored: the pending marker stays

    def run(self):
        try:
            current = self.read_current()
            self.outcome.before = current
            if self.goal.state == "present":
                self.present(current)
            else:
                self.absent(current)
        except Stop as stop:
            self.outcome.failure = stop.failure
        return self.outcome

    def read_current(self):
        """The key pair of the goal's name as the API has it now, or None."""
        goal = self.goal
        pairs = self.read_key_pairs("read the key pairs", key_names=[goal.name])
        if len(pairs) > 1:
            _stop(
                REFUSED,
                "Several key pairs are named %r in region %s: %s. This module needs the name to be unique: delete or rename the "
                "extra ones, then run again. Nothing was changed." % (goal.name, self.api.region, ", ".join(p["key_id"] for p in pairs)),
            )
        current = key_pair_result(pairs[0]) if pairs else None
        if current and goal.public_key is not None and fingerprint(goal.public_key) != current["fingerprint"]:
            verb = "delete it" if goal.state == "absent" else "replace its public key"
            _stop(
                REFUSED,
                "The key pair %r (%s) has another public key (%s) than public_key (%s); key pairs cannot be changed in place, "
                "so the module will not %s. Delete it first (state=absent without public_key), or use another name. "
                "Nothing was changed." % (goal.name, current["key_id"], current["fingerprint"], fingerprint(goal.public_key), verb),
            )
        return current

    # -- present -----------------------------------------------------------------------------------------------
    def present(self, current):
        """Make the key pair exist as asked: create or import it, or check the one there."""
        goal, outcome, store = self.goal, self.outcome, self.goal.private_key_store
        if store and store.pending():
            if current and store.missing():
                # A run that created this key pair was stopped (a cancelled job) after CreateKeyPair was sent and before the
                # private key was stored: the key is lost, and an ok here would hide that until a login fails.
                _stop(
                    REFUSED,
                    "The key pair %r (%s) exists, but its private key was never stored at %s: the run that created it "
                    "was stopped (a cancelled job?) after CreateKeyPair was sent and before the key was written, as the marker %s "
                    "shows. Tencent Cloud returns a private key only when it creates the key pair, so this one is lost. To fix it, "
                    "delete the key pair (this module with state: absent, and force: true if it is bound), then run this task "
                    "again: it creates a new key pair and stores its private key. Nothing was changed."
                    % (goal.name, current["key_id"], store.path, store.marker),
                )
            if not self.check_mode:
                # Stale: the key was stored (stopped before the marker went), or CreateKeyPair never took effect.
                store.done()
        if current:
            if store and store.missing():
                outcome.warnings.append(
                    "The key pair %r exists, so its private key cannot be written to %s: Tencent Cloud returns a "
                    "private key only when it creates the key pair." % (goal.name, store.path)
                )
            outcome.after = outcome.key_pair = current
            return
        problems = [p for p in name_errors(goal.name, creating=True) + [store and store.problem()] if p]
        if problems:
            _stop(REFUSED, " ".join(problems) + " Nothing was changed.")
        if self.check_mode:
            outcome.changed = True
            outcome.after = outcome.key_pair = _unread_result(goal, None)
            return
        if goal.public_key is None and store:
            problem = store.prepare() or store.begin()  # the marker is there before CreateKeyPair is sent
            if problem:
                _stop(REFUSED, problem + " Nothing was changed.")
        outcome.changed = True
        outcome.after = outcome.key_pair = self.import_key() if goal.public_key is not None else self.create_key()

    def import_key(self):
        """Import the goal's public key under its name."""
        goal = self.goal
        params = {"KeyName": goal.name, "ProjectId": goal.project_id, "PublicKey": goal.public_key}
        attempting = "import the key pair %r" % goal.name
        for _send in range(MAX_WRITE_SENDS):
            response, lost = self.send_settled("ImportKeyPair", params, attempting, NAME_TAKEN)
            if not lost:
                key_id = response.get("KeyId")
                found = self.read_key_pairs("read the imported key pair %s" % key_id, key_ids=[key_id])
                if found:
                    return key_pair_result(found[0])
                return _unread_result(goal, key_id)
            current = self.read_by_name()
            if current is None and lost.code in NAME_TAKEN:
                _stop(WRITE_FAILED, error=lost, attempting=attempting)  # refused for another key pair than this name's: a real refusal
            if current and current["fingerprint"] == fingerprint(goal.public_key):
                return current  # the send whose answer was lost took effect
            if current:
                _stop(
                    WRITE_FAILED,
                    "The answer to ImportKeyPair was lost, and the key pair %r (%s) now has another public key (%s): another "
                    "client created it meanwhile. Nothing was changed by this module; delete it or use another name."
                    % (goal.name, current["key_id"], current["fingerprint"]),
                    error=lost,
                )
        return self.gave_up("ImportKeyPair", attempting)

    def create_key(self):
        store = self.goal.private_key_store
        if store is None:
            return self._create_key(None)
        self.keep_marker = False
        try:
            return self._create_key(store)
        finally:
            if not self.keep_marker:  # kept only when a key pair of this run exists without its private key stored
                store.done()

    def _create_key(self, store):
        response = self.create_settled()
        raw = response.get("KeyPair") or {}
        private_key = raw.get("PrivateKey")
        created = key_pair_result(_lookup.key_pair_dict(raw))
        if not store:
            if private_key:
                self.outcome.private_key = private_key
            else:
                self.outcome.warnings.append("The API returned no private key for the new key pair %s." % created["key_id"])
            return created
        if not private_key:
            problem = "Could not write the private key to %s: the API returned no private key." % store.path
        else:
            self.outcome.secrets.append(private_key)  # masked in whatever is shown, whatever happens next
            problem = store.write(private_key)
        if problem:
            self.rollback(created["key_id"], problem)
        return created

    def rollback(self, key_id, problem):
        """The private key is lost: delete the new key pair again rather than leave one nobody can use."""
        try:
            self.delete_settled(key_id)
        except CvmApiError as exc:
            self.keep_marker = True  # the next run fails too, until the key pair is deleted
            _stop(
                WRITE_FAILED,
                "%s The new key pair %s could not be deleted again (%s: %s): delete it yourself, its private key is lost."
                % (problem, key_id, exc.code, exc.message),
                error=exc,
            )
        _stop(WRITE_FAILED, "%s The new key pair %s was deleted again, since its private key would be lost." % (problem, key_id))

    # -- absent ------------------------------------------------------------------------------------------------
    def absent(self, current):
        """Unbind the key pair from every instance, then delete it."""
        goal, outcome = self.goal, self.outcome
        if not current:
            return
        bound = current["associated_instance_ids"]
        if bound:
            if not goal.force:
                _stop(
                    REFUSED,
                    "The key pair %r (%s) is bound to %s. Set force: true to unbind it from them first (with force_stop: true "
                    "for instances that are not STOPPED), or unbind it with tencentcloud.cvm.cvm_keypair_association. "
                    "Nothing was changed." % (goal.name, current["key_id"], ", ".join(bound)),
                )
            self.unbind(current)  # in check mode: read, plan and preflight only
        outcome.changed = True
        outcome.key_pair = current
        if not self.check_mode:
            self.delete(current, lag_possible=bool(bound) or goal.force)

    def unbind(self, current):
        """Unbind the key pair from every instance it is bound to, through the key changes engine. An instance that no longer
        exists holds no key, so it is skipped (AssociatedInstanceIds can still list a terminated one)."""
        goal = _key_changes.BindingGoal(
            [current["key_id"]],
            instance_ids=current["associated_instance_ids"],
            must_exist=False,
            state="absent",
            force_stop=self.goal.force_stop,
            wait=True,
            wait_timeout=self.goal.wait_timeout,
        )
        unbound = _key_changes.converge_bindings(self.api, goal, self.check_mode)
        self.outcome.request_ids.extend(unbound.request_ids)
        self.outcome.warnings.extend(unbound.warnings)
        failure = unbound.failure
        if failure is None:
            return
        self.outcome.changed = bool(unbound.written)
        if failure.kind == WRITE_FAILED:
            _stop(
                WRITE_FAILED,
                error=failure.error,
                attempting="unbind the key pair %s from its instances (%d were unbound before the "
                "failure; the key pair was not deleted)" % (current["key_id"], len(unbound.written)),
            )
        if failure.error is not None:
            _stop(failure.kind, error=failure.error, attempting="%s, to unbind the key pair %s" % (failure.attempting, current["key_id"]))
        if failure.kind in (_key_changes.OPERATIONS, _key_changes.UNSETTLED):
            _stop(failure.kind, "%s The key pair was not deleted; run again to retry." % failure.message)
        _stop(failure.kind, "The key pair %s must be unbound before it is deleted. %s" % (current["key_id"], failure.message))

    def delete(self, current, lag_possible):
        """DeleteKeyPairs; after an unbind (or a termination) the API refuses it for a while with DELETION_LAG_CODE: retried
        through that lag for at most wait_timeout seconds."""
        goal = self.goal
        deadline = self.clock() + goal.wait_timeout
        delay = DELETE_RETRY_FIRST
        while True:
            try:
                self.delete_settled(current["key_id"])
                return
            except CvmApiError as exc:
                if exc.code == USED_BY_IMAGE_CODE:
                    _stop(
                        WRITE_FAILED,
                        "Cannot delete the key pair %r (%s). %s Nothing was deleted." % (goal.name, current["key_id"], _errors.hint(USED_BY_IMAGE_CODE)),
                        error=exc,
                    )
                if exc.code != DELETION_LAG_CODE or not lag_possible:
                    _stop(WRITE_FAILED, error=exc, attempting="delete the key pair %r (%s)" % (goal.name, current["key_id"]))
                if self.clock() + delay > deadline:
                    _stop(
                        WRITE_FAILED,
                        "The key pair %r (%s) is unbound, but Tencent Cloud still refused to delete it after wait_timeout=%ds "
                        "(%s: %s): the API lags after an unbind or a termination. Run again later, or raise wait_timeout."
                        % (goal.name, current["key_id"], goal.wait_timeout, exc.code, exc.message.rstrip(".")),
                        error=exc,
                    )
                self.sleep(delay)
                delay = min(DELETE_RETRY_CAP, delay * 2)

    # -- writes settled by reading ---------------------------------------------------------------------------------
    def send_settled(self, action, params, attempting, taken_codes=frozenset()):
        """Send a write once, without the client's blind resend: (response, None), or (None, the error) when its answer was lost.

        Lost: an ambiguous failure (the write may have taken effect), or, after such a failure, a refusal in taken_codes
        (which says an earlier send took effect). The caller then reads and decides; any other failure ends the run.
        """
        try:
            response = self.api.call(action, params, resend_safe=False)
        except CvmApiError as exc:
            if _key_changes.is_ambiguous(exc) or (exc.code in taken_codes and self.lost_answers):
                self.lost_answers += 1
                return None, exc
            _stop(WRITE_FAILED, error=exc, attempting=attempting)
        self.outcome.request_ids.append(response.get("RequestId"))
        return response, None

    def create_settled(self):
        """CreateKeyPair until an answer (with the private key) arrives. A key pair of this name that appears after a lost answer
        was made by that send, and its private key is lost with the answer: it is deleted again, then created anew."""
        goal = self.goal
        params = {"KeyName": goal.name, "ProjectId": goal.project_id}
        attempting = "create the key pair %r" % goal.name
        for _send in range(MAX_WRITE_SENDS):
            response, lost = self.send_settled("CreateKeyPair", params, attempting, NAME_TAKEN)
            if not lost:
                return response
            current = self.read_by_name()
            if current is None and lost.code in NAME_TAKEN:
                _stop(WRITE_FAILED, error=lost, attempting=attempting)
            if current is None:
                continue  # it did not take effect: sending again cannot make a second key pair
            if current["associated_instance_ids"]:
                _stop(
                    WRITE_FAILED,
                    "The answer to CreateKeyPair was lost, and the key pair %r (%s) now exists, bound to %s: another client "
                    "created and used it meanwhile. Nothing was changed by this module."
                    % (goal.name, current["key_id"], ", ".join(current["associated_instance_ids"])),
                    error=lost,
                )
            try:
                self.delete_settled(current["key_id"])
            except CvmApiError as exc:
                self.keep_marker = True  # the next run fails too, until the key pair is deleted
                _stop(
                    WRITE_FAILED,
                    "The answer to CreateKeyPair was lost after the key pair %r (%s) was created, and its private key with "
                    "it; deleting that key pair failed (%s: %s): delete it yourself, then run again." % (goal.name, current["key_id"], exc.code, exc.message),
                    error=exc,
                )
            self.outcome.warnings.append(
                "The answer to CreateKeyPair was lost after the key pair %s was created, and with it its private "
                "key: the module deleted that key pair and created another." % current["key_id"]
            )
        return self.gave_up("CreateKeyPair", attempting)

    def delete_settled(self, key_id):
        """DeleteKeyPairs for one key pair; a lost answer is settled by reading it by ID (gone: done). Raises CvmApiError when
        the API refuses (the caller words it), and stops when every answer was lost and the key pair is still there."""
        for _send in range(MAX_WRITE_SENDS):
            try:
                response = self.api.call("DeleteKeyPairs", {"KeyIds": [key_id]}, resend_safe=False)
            except CvmApiError as exc:
                if not (_key_changes.is_ambiguous(exc) or (exc.code in GONE and self.lost_answers)):
                    raise
                self.lost_answers += 1
                if not self.read_key_pairs("read the key pair %s after a lost answer" % key_id, key_ids=[key_id]):
                    return  # the send whose answer was lost took effect
                continue
            self.outcome.request_ids.append(response.get("RequestId"))
            return
        self.gave_up("DeleteKeyPairs", "delete the key pair %s" % key_id)

    def read_by_name(self):
        goal = self.goal
        pairs = self.read_key_pairs("read the key pair %r after a lost answer" % goal.name, key_names=[goal.name])
        if len(pairs) > 1:
            _stop(
                WRITE_FAILED,
                "After a lost answer, several key pairs are named %r in region %s: %s. Another client writes the same "
                "name: delete the extra ones, then run again." % (goal.name, self.api.region, ", ".join(p["key_id"] for p in pairs)),
            )
        return key_pair_result(pairs[0]) if pairs else None

    def read_key_pairs(self, attempting, **selector):
        try:
            return _lookup.find_key_pairs(self.api, **selector)
        except CvmApiError as exc:
            return _stop(READ_FAILED, error=exc, attempting=attempting)

    @staticmethod
    def gave_up(action, attempting):
        _stop(
            WRITE_FAILED,
            "Failed to %s: the answers to %d sends of %s were all lost (the connection dropped after each request was sent), "
            "and re-reading after each showed it had not taken effect. Nothing was changed; check the endpoint, proxy "
            "and network, then run again." % (attempting, MAX_WRITE_SENDS, action),
        )
