#!/usr/bin/python
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cvm_keypair
short_description: Create, import or delete an SSH key pair of Tencent Cloud CVM
version_added: 0.1.0
description:
  - Makes an SSH key pair with a given name exist (O(state=present)) or not (O(state=absent)) in a region,
    through the CVM API actions C(CreateKeyPair), C(ImportKeyPair) and C(DeleteKeyPairs).
  - Key pairs are found by their name, which is unique in a region. When a key pair of that name exists, O(state=present)
    changes nothing, so a second run reports no change.
  - With O(public_key), the key pair is imported from that public key. Without it, Tencent Cloud creates the key pair and
    returns its private key once, which the module writes to O(private_key_path) or returns as RV(private_key).
  - Key pairs cannot be changed in place. When the existing key pair has another public key than O(public_key), the module
    fails before any change.
  - A key pair bound to instances cannot be deleted. With O(force=true) the module first unbinds it from all its instances
    (in the same way as M(tencentcloud.cvm.cvm_keypair_association), following each operation to its end, and unbinding again
    where another client bound it meanwhile, at most 3 rounds), then deletes it. A bound instance that no longer exists is skipped.
  - A key pair used by a custom image cannot be deleted (C(InvalidKeyPair.NotSupported)); the module fails saying so.
author:
  - tencentcloud.cvm maintainers (@tencentcloud-cvm)
options:
  name:
    description:
      - The key pair's name, unique in the region, like V(ops_team). Names match exactly.
      - A key pair the module creates or imports needs a name of letters, digits and underscores, at most 25 characters.
    type: str
    required: true
  state:
    description:
      - V(present) creates or imports the key pair unless one with this name exists.
      - V(absent) deletes the key pair with this name if there is one.
    type: str
    choices: [present, absent]
    default: present
  public_key:
    description:
      - An OpenSSH public key line (V(<type> <base64 blob> [comment]), the contents of a C(.pub) file) to import as the key pair.
      - Without it, O(state=present) lets Tencent Cloud create a new key pair and its private key.
      - When the key pair exists, its public key must be this one (compared without the comment), or the module fails.
      - With O(state=absent), the key pair is only deleted if its public key is this one; otherwise the module fails.
    type: str
  project_id:
    description:
      - The project the key pair is created in, when the module creates or imports it. An existing key pair keeps its project.
    type: int
    default: 0
  private_key_path:
    description:
      - Where to write the private key of a key pair the module creates (without O(public_key)), with mode C(0600), on the host that
        runs the module. The private key is then never part of the module's result.
      - The path must not exist yet. The module never overwrites a file, and fails before creating the key pair if it exists.
      - Every check of the path is made before the key pair is created, so a path the module could not write never leaves a key pair
        behind. It must name a file (no trailing V(/)), each name in it must fit the file system (usually 255 bytes), and the nearest
        existing directory must be a writable directory.
      - A missing directory of the path is created, with mode C(0700) so that only its owner can enter it, before the key pair is
        created (not in check mode). Directories that exist are left as they are.
      - The private key is only available when the key pair is created. When the key pair exists and this file does not, the module warns.
      - While the key pair is being created, a marker file (this path with C(.pending) added, mode C(0600)) says that its private key
        is not stored yet; it is removed once the key is written. When a run is stopped in between (a cancelled job), the key pair
        exists without its private key. The next run finds the marker and fails, saying to delete the key pair (O(state=absent)) and
        run again, rather than report V(ok) for a key nobody holds.
      - Not allowed with O(public_key) or O(state=absent).
    type: path
  force:
    description:
      - With O(state=absent), delete a key pair that is bound to instances by first unbinding it from all of them.
      - Without it, deleting a bound key pair fails before any change, naming the instances.
      - Not allowed with O(state=present).
    type: bool
    default: false
  force_stop:
    description:
      - With O(force=true), let the API force-stop instances that are not stopped to unbind the key pair, and start again those
        that were running. The API forces the shutdown, so data the instances have not saved to disk can be lost.
        Without it, the module fails before any change when such an instance would need a change.
      - Not allowed without O(force=true).
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for each unbinding operation when O(force=true). Instances still busy after that are reported, the key
        pair is not deleted and the module fails.
      - Also the longest the module retries C(DeleteKeyPairs) while the API still refuses it with
        C(InvalidParameterValue.KeyPairNotSupported) after the key pair was unbound or an instance of it terminated (a lag of the API;
        the Terraform provider retries it for 5 minutes). Retries start after 1 second and double up to 10 seconds apart. This applies
        with O(force=true), or when the key pair still lists instances.
      - The default of 300 seconds is the Terraform provider's bound for that lag. At most V(86400) (one day).
    type: int
    default: 300
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - tencentcloud.cvm.connection
attributes:
  check_mode:
    support: full
    details:
      - Runs the same reading and checks as a real run and sends no write; RV(changed) and the diff are what a real run would report.
      - No file is written and no private key is returned.
  diff_mode:
    support: full
    details: The diff shows the key pair's name, ID, public key fingerprint and bound instances before and after; an empty mapping when there is none.
  platform:
    platforms: all
  action:
    support: none
  async:
    support: none
  bypass_host_loop:
    support: none
notes:
  - When the module creates a key pair without O(private_key_path), RV(private_key) holds the private key in the task result, in
    registered variables and, at higher verbosity, on screen. Set C(no_log=true) on such a task, or better, use O(private_key_path).
  - Unbinding the last key pair of an instance brings back its password login; an instance with neither password nor key pair can
    only be logged into again after its password is reset.
  - O(force_stop=true) lets the API force the shutdown, as its current documentation says, which interrupts whatever the instances
    run and can lose data not saved to disk.
  - Use the action group C(tencentcloud.cvm.tencentcloud) in C(module_defaults) to give the connection options once.
seealso:
  - module: tencentcloud.cvm.cvm_keypair_association
  - module: tencentcloud.cvm.cvm_keypair_association_info
  - name: CreateKeyPair API
    description: The API action this module creates key pairs with.
    link: https://www.tencentcloud.com/document/api/213/15702
  - name: ImportKeyPair API
    description: The API action this module imports public keys with.
    link: https://www.tencentcloud.com/document/api/213/15693
  - name: DeleteKeyPairs API
    description: The API action this module deletes key pairs with.
    link: https://www.tencentcloud.com/document/api/213/15700
"""

EXAMPLES = r"""
- name: Import the deploy user's public key
  tencentcloud.cvm.cvm_keypair:
    region: ap-guangzhou
    name: deploy
    public_key: "{{ lookup('ansible.builtin.file', 'files/deploy.pub') }}"

- name: Let Tencent Cloud create a key pair, and keep its private key in a file on the controller (secrets/ is created 0700)
  tencentcloud.cvm.cvm_keypair:
    name: ops_team
    private_key_path: "{{ playbook_dir }}/secrets/ops_team.pem"
  delegate_to: localhost

- name: Create a key pair and get its private key in the result (keep it out of logs)
  tencentcloud.cvm.cvm_keypair:
    name: ci_runner
  register: ci_key
  no_log: true

- name: Preview the deletion below (check mode, with diff); without force it fails while the key pair is bound, as the deletion would
  tencentcloud.cvm.cvm_keypair:
    name: alice
    state: absent
    force: true
    force_stop: true
  check_mode: true
  diff: true

- name: Delete a key pair, unbinding it from its instances first (stopping and restarting running ones)
  tencentcloud.cvm.cvm_keypair:
    name: alice
    state: absent
    force: true
    force_stop: true
"""

RETURN = r"""
changed:
  description: Whether the key pair was (or in check mode would be) created, imported, unbound or deleted.
  returned: always
  type: bool
  sample: true
key_pair:
  description:
    - The key pair. With O(state=present), as it is after the run; with O(state=absent), as it was before it was deleted.
    - In check mode, when it would be created, RV(key_pair.key_id) and RV(key_pair.created_time) are V(null).
  returned: success, except with O(state=absent) when no key pair has this name (then V(null))
  type: dict
  contains:
    key_id:
      description: The key pair ID.
      type: str
      sample: skey-4e5ty7i8
    key_name:
      description: The key pair name.
      type: str
      sample: ops_team
    public_key:
      description: The OpenSSH public key line.
      type: str
      sample: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ8ZqUQ7vYVi0z8o2bVbWw5k2E7m3CqU9PsmmvQ1Qy5x ops_team
    fingerprint:
      description: The SHA256 fingerprint of the public key, as C(ssh-keygen -l) shows it.
      type: str
      sample: SHA256:1ncG6o2Pq2zE0y6bH2rY0I2kC0m4l4cJ0uX7Q6t2f8c
    project_id:
      description: The project of the key pair.
      type: int
      sample: 0
    associated_instance_ids:
      description: The instances the key pair is bound to, sorted.
      type: list
      elements: str
      sample: []
    created_time:
      description: When the key pair was created (ISO 8601, UTC).
      type: str
      sample: "2026-01-10T08:00:00Z"
private_key:
  description:
    - The private key of the key pair the module created, in OpenSSH or PEM armour. Available only from this one run.
    - Protect it with C(no_log=true) on the task, or use O(private_key_path) instead.
  returned: when the module created the key pair (without O(public_key)) and O(private_key_path) was not given
  type: str
  sample: "-----BEGIN OPENSSH PRIVATE KEY-----\n...\n-----END OPENSSH PRIVATE KEY-----\n"
request_ids:
  description: The RequestIds of the write calls sent, in order. Quote them to Tencent Cloud support.
  returned: always
  type: list
  elements: str
  sample: [6ef60bec-0242-43af-bb20-270359fb54a7]
error:
  description: The API error that made the module fail.
  returned: when an API call failed
  type: dict
  contains:
    code:
      description: The API's error code.
      type: str
      sample: InvalidPublicKey.Duplicate
    message:
      description: The API's error message.
      type: str
      sample: The public key is already imported as key pair skey-4e5ty7i8.
    request_id:
      description: The RequestId of the failed call, when the API answered.
      type: str
      sample: 6ef60bec-0242-43af-bb20-270359fb54a7
    action:
      description: The API action that failed.
      type: str
      sample: ImportKeyPair
"""

import contextlib
import errno
import os

from ansible_collections.tencentcloud.cvm.plugins.module_utils._base import TencentCloudModule
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import seconds_problem
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _ids as ids
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _key_pairs as key_pairs

MAX_PROJECT_ID = 2**63 - 1  # the API's Integer is 64 bits


def argument_spec():
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        public_key=dict(type="str", no_log=False),
        project_id=dict(type="int", default=0),
        private_key_path=dict(type="path", no_log=False),
        force=dict(type="bool", default=False),
        force_stop=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
    )


def public_key_errors(public_key):
    """Why public_key cannot be imported, as sentences; empty when it can."""
    text = public_key.strip()
    if not text:
        return ["public_key is empty: give an OpenSSH public key line, or leave the option out to let Tencent Cloud create the key pair."]
    if "PRIVATE KEY" in text:
        return ["public_key holds a private key (its value is not shown): give the public key, the contents of the .pub file."]
    if len(text.splitlines()) > 1:
        return ["public_key holds %d lines: give exactly one OpenSSH public key line." % len(text.splitlines())]
    if key_pairs.parse_public_key(text) is None:
        return [
            "public_key is not an OpenSSH public key line ('<type> <base64 blob> [comment]', like the contents of ~/.ssh/id_ed25519.pub); "
            "it starts with %r." % text[:24]
        ]
    return []


def validation_errors(params):
    """Everything wrong with the module's own options, as sentences; empty when they are usable."""
    errors = key_pairs.name_errors(params["name"], creating=False)
    if params["public_key"] is not None:
        errors += public_key_errors(params["public_key"])
    if params["state"] == "present":
        if params["private_key_path"] and params["public_key"] is not None:
            errors.append(
                "private_key_path only applies when Tencent Cloud creates the key pair; with public_key you hold the private key "
                "already. Remove one of the two."
            )
        if params["force"] or params["force_stop"]:
            errors.append("force and force_stop only apply to state=absent: remove them.")
    else:
        if params["private_key_path"]:
            errors.append("private_key_path only applies to state=present: remove it.")
        if params["force_stop"] and not params["force"]:
            errors.append("force_stop only applies with force=true (unbinding before deleting): set force: true, or remove force_stop.")
    if not 0 <= params["project_id"] <= MAX_PROJECT_ID:
        errors.append(
            "project_id must be 0 (the default project) or a positive project ID (at most %d), got %s." % (MAX_PROJECT_ID, ids.shown(params["project_id"]))
        )
    if params["private_key_path"] and "\0" in params["private_key_path"]:
        errors.append("private_key_path holds a NUL character, which no file name can: give a plain path.")
    elif params["private_key_path"] and params["state"] == "present":
        errors += [p for p in [private_key_path_text_problem(params["private_key_path"])] if p]
    errors += [p for p in [seconds_problem("wait_timeout", params["wait_timeout"])] if p]
    return errors


DEFAULT_NAME_MAX = 255  # bytes in one file name, when the file system does not say (os.pathconf)
DEFAULT_PATH_MAX = 4096  # bytes in a whole path (Linux's PATH_MAX)
PENDING_SUFFIX = ".pending"  # the marker next to private_key_path while a created key pair's private key is not stored yet


def private_key_path_text_problem(path):
    """Why `path` cannot name a file, from its text alone (no file system access), or None."""
    if path.endswith(("/", os.sep)) or os.path.basename(path) in ("", ".", ".."):
        return "private_key_path %s names a directory, not a file: give the path of the file to create, like %s." % (
            path,
            os.path.join(path.rstrip("/" + os.sep) or "secrets", "key.pem"),
        )
    return None


def _name_max(directory):
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):
        return DEFAULT_NAME_MAX


def private_key_path_problem(path):
    """Why the private key could not be written to `path`, or None; every check here completes before the key pair is created,
    so a path that cannot be written never costs a CreateKeyPair (and a DeleteKeyPairs, or an orphaned key pair)."""
    problem = private_key_path_text_problem(path)
    if problem:
        return problem
    if os.path.lexists(path):
        return "private_key_path %s already exists: the module never overwrites a file. Remove it, or choose another path." % path
    target = os.path.abspath(path)
    if len(os.fsencode(target)) >= DEFAULT_PATH_MAX:
        return "private_key_path %s is %d bytes long; paths are limited to %d bytes: choose a shorter path." % (
            path[:60] + "...",
            len(os.fsencode(target)),
            DEFAULT_PATH_MAX - 1,
        )
    directory = existing = os.path.dirname(target)
    missing = [os.path.basename(target)]
    while not os.path.isdir(existing):  # the module creates the missing part (make_key_directory)
        if os.path.lexists(existing):
            return "%s in private_key_path %s is not a directory: choose another path." % (existing, path)
        missing.append(os.path.basename(existing))
        existing = os.path.dirname(existing)
    name_max = _name_max(existing)
    missing[0] += PENDING_SUFFIX  # the pending marker's name is the longest one made there
    for name in missing:
        if len(os.fsencode(name)) > name_max:
            return (
                "private_key_path %s holds the name %s... of %d bytes; the file system allows at most %d bytes (NAME_MAX) in one name: "
                "choose a shorter name." % (path[:60] + ("..." if len(path) > 60 else ""), name[:20], len(os.fsencode(name)), name_max)
            )
    if not os.access(existing, os.W_OK | os.X_OK):
        if existing == directory:
            return "The directory %s of private_key_path is not writable by this user." % existing
        return "The directory %s, where private_key_path's directory %s would be created, is not writable by this user." % (existing, directory)
    return None


def make_key_directory(path):
    """Create the missing directories of `path`; the last one with mode 0700, as it holds a private key (umask cannot widen it)."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)


def write_private_key(path, content):
    """Create `path` with mode 0600 holding `content`; never replaces an existing file or follows a link."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    owned = True  # until os.fdopen's file object owns the descriptor
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            owned = False
            handle.write(content)
    except Exception:
        if owned:
            os.close(fd)
        os.unlink(path)
        raise


def diff_view(key_pair):
    if not key_pair:
        return {}
    return dict(
        name=key_pair["key_name"], key_id=key_pair["key_id"], fingerprint=key_pair["fingerprint"], associated_instance_ids=key_pair["associated_instance_ids"]
    )


class PrivateKeyFile:
    """The private_key_path store of the key pair changes (_key_pairs.KeyPairGoal): checks, directory and file, each failure worded, and
    the pending marker (private_key_path + PENDING_SUFFIX): written before CreateKeyPair is sent, removed once the private key
    is stored, so that a run stopped in between (a cancelled job) is found by the next run instead of reported ok."""

    def __init__(self, path):
        self.path = path
        self.marker = path + PENDING_SUFFIX

    def pending(self):
        return os.path.lexists(self.marker)

    def begin(self):
        try:
            fd = os.open(self.marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                return "%s exists: another run is creating this key pair's private key file now. Let it finish, then run again." % self.marker
            return "Could not write the marker %s next to private_key_path: %s." % (self.marker, exc.strerror or exc)
        try:
            os.write(fd, b"CreateKeyPair sent; the private key is not stored yet\n")
        finally:
            os.close(fd)
        return None

    def done(self):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.marker)

    def missing(self):
        return not os.path.lexists(self.path)

    def problem(self):
        return private_key_path_problem(self.path)

    def prepare(self):
        try:
            make_key_directory(self.path)
        except OSError as exc:
            return "Could not create the directory of private_key_path %s: %s." % (self.path, exc.strerror or exc)
        return None

    def write(self, private_key):
        try:
            write_private_key(self.path, private_key)
        except (OSError, ValueError) as exc:
            return "Could not write the private key to %s: %s." % (self.path, getattr(exc, "strerror", None) or exc)
        return None


class KeyPair:
    """Build the goal from the options -> converge_key_pair (the key pair engine) -> report."""

    def __init__(self, module):
        self.module = module
        self.module.result.update(key_pair=None, request_ids=[])

    def run(self):
        """The module's result; raises ModuleFailure (through self.module.fail) when the run cannot go on."""
        return self.report(key_pairs.converge_key_pair(self.module.api, self.goal(), self.module.check_mode))

    def goal(self):
        params = self.module.params
        path = params["private_key_path"]
        return key_pairs.KeyPairGoal(
            params["name"],
            state=params["state"],
            public_key=params["public_key"],
            project_id=params["project_id"],
            private_key_store=PrivateKeyFile(path) if path else None,
            force=params["force"],
            force_stop=params["force_stop"],
            wait_timeout=params["wait_timeout"],
        )

    def report(self, outcome):
        """The result from the outcome; a failure the outcome holds raises ModuleFailure with that result."""
        self.module.no_log_values.update(outcome.secrets)  # before anything is shown
        for warning in outcome.warnings:
            self.module.warn(warning)
        result = self.module.result
        result["changed"] = outcome.changed
        result["request_ids"] = outcome.request_ids
        failure = outcome.failure
        if failure is not None:
            if failure.message is None:
                self.module.fail_api(failure.error, failure.attempting)
            self.module.fail(failure.message, **({"error": failure.error.to_dict()} if failure.error is not None else {}))
        result["key_pair"] = outcome.key_pair
        if outcome.private_key:
            result["private_key"] = outcome.private_key
        if self.module.diff:
            result["diff"] = dict(before=diff_view(outcome.before), after=diff_view(outcome.after))
        return result


def main():
    module = TencentCloudModule(argument_spec(), supports_check_mode=True)
    module.finish(lambda: KeyPair(module).run(), validation_errors(module.params))


if __name__ == "__main__":
    main()
