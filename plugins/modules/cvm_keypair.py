#!/usr/bin/python
# -*- coding: utf-8 -*-
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
      - A missing directory of the path is created, with mode C(0700) so that only its owner can enter it, before the key pair is
        created (not in check mode). Directories that exist are left as they are.
      - The private key is only available when the key pair is created. When the key pair exists and this file does not, the module warns.
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

import base64
import hashlib
import os
import re
import time

from ansible_collections.tencentcloud.cvm.plugins.module_utils._base import TencentCloudModule
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApiError, seconds_problem
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _ids as ids
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _key_changes as key_changes
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _lookup as lookup


# DeleteKeyPairs answers this for a while after the key pair was unbound (or its instance terminated); retried with these
# delays (seconds, doubling) for at most wait_timeout.
# The names CreateKeyPair / ImportKeyPair accept: letters, digits and underscores, at most 25 characters.
# Checked only when creating: lookups take any name (older key pairs may have other characters).
KEY_NAME_RE = re.compile(r"[A-Za-z0-9_]{1,25}\Z")  # \Z, not $: "$" would let a trailing newline through
DELETION_LAG_CODE = "InvalidParameterValue.KeyPairNotSupported"
MAX_PROJECT_ID = 2 ** 63 - 1  # the API's Integer is 64 bits
DELETE_RETRY_FIRST = 1.0
DELETE_RETRY_CAP = 10.0
# A write whose answer was lost (the connection dropped after it was sent, a 5xx, a timeout) is never resent blindly:
# the key pair is read again by name (or ID) and the next step decided from what is there. At most this many sends
# of one write; each further one only after a read showed that the previous ones did not take effect.
MAX_WRITE_SENDS = 6
# Refusals that, after an ambiguous send of the same write, mean that send took effect: settled by reading too.
NAME_TAKEN = frozenset(["InvalidKeyPairName.Duplicate", "InvalidPublicKey.Duplicate"])
GONE = frozenset(["InvalidKeyPairId.NotFound", "InvalidParameterValue.KeyPairNotFound", "ResourceNotFound.KeyPairNotFound"])


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


def parse_public_key(text):
    """(type, blob) of an OpenSSH public key line, compared without its comment; None when it is not one."""
    parts = (text or "").split()
    if len(parts) < 2:
        return None
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        return None
    name = parts[0].encode()
    if blob[:4] != len(name).to_bytes(4, "big") or blob[4:4 + len(name)] != name:
        return None
    return parts[0], blob


def fingerprint(public_key):
    """The SHA256 fingerprint as ssh-keygen -l shows it, or None."""
    parsed = parse_public_key(public_key)
    if parsed is None:
        return None
    return "SHA256:" + base64.b64encode(hashlib.sha256(parsed[1]).digest()).decode().rstrip("=")


def name_errors(name, creating):
    """Any name can be looked up (older key pairs may have other characters); a new key pair's name must follow the API's rules."""
    if not name:
        return ["name is empty: give the key pair's name, like ops_team."]
    if creating and not KEY_NAME_RE.match(name):
        if len(name) > 25 and KEY_NAME_RE.match(name[:25]):
            text = "name %s has %d characters: at most 25 are allowed." % (ids.shown(name), len(name))
        else:
            text = "name %s may contain only letters, digits and underscores (at most 25), like ops_team." % ids.shown(name)
        if ids.KEY_PAIR.match(name):
            text += " It looks like a key pair ID: this module finds key pairs by name."
        return [text]
    return []


def public_key_errors(public_key):
    text = public_key.strip()
    if not text:
        return ["public_key is empty: give an OpenSSH public key line, or leave the option out to let Tencent Cloud create the key pair."]
    if "PRIVATE KEY" in text:
        return ["public_key holds a private key (its value is not shown): give the public key, the contents of the .pub file."]
    if len(text.splitlines()) > 1:
        return ["public_key holds %d lines: give exactly one OpenSSH public key line." % len(text.splitlines())]
    if parse_public_key(text) is None:
        return ["public_key is not an OpenSSH public key line ('<type> <base64 blob> [comment]', like the contents of ~/.ssh/id_ed25519.pub); "
                "it starts with %r." % text[:24]]
    return []


def validation_errors(params):
    """Everything wrong with the module's own options, as sentences; empty when they are usable."""
    errors = name_errors(params["name"], creating=False)
    if params["public_key"] is not None:
        errors += public_key_errors(params["public_key"])
    if params["state"] == "present":
        if params["private_key_path"] and params["public_key"] is not None:
            errors.append("private_key_path only applies when Tencent Cloud creates the key pair; with public_key you hold the private key "
                          "already. Remove one of the two.")
        if params["force"] or params["force_stop"]:
            errors.append("force and force_stop only apply to state=absent: remove them.")
    else:
        if params["private_key_path"]:
            errors.append("private_key_path only applies to state=present: remove it.")
        if params["force_stop"] and not params["force"]:
            errors.append("force_stop only applies with force=true (unbinding before deleting): set force: true, or remove force_stop.")
    if not 0 <= params["project_id"] <= MAX_PROJECT_ID:
        errors.append("project_id must be 0 (the default project) or a positive project ID (at most %d), got %s."
                      % (MAX_PROJECT_ID, ids.shown(params["project_id"])))
    if params["private_key_path"] and "\0" in params["private_key_path"]:
        errors.append("private_key_path holds a NUL character, which no file name can: give a plain path.")
    if seconds_problem("wait_timeout", params["wait_timeout"]):
        errors.append(seconds_problem("wait_timeout", params["wait_timeout"]))
    return errors


def private_key_path_problem(path):
    """Why the private key could not be written to `path`, or None; checked before the key pair is created."""
    if os.path.lexists(path):
        return "private_key_path %s already exists: the module never overwrites a file. Remove it, or choose another path." % path
    directory = existing = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(existing):  # the module creates the missing part (make_key_directory)
        if os.path.lexists(existing):
            return "%s in private_key_path %s is not a directory: choose another path." % (existing, path)
        existing = os.path.dirname(existing)
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
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            fd = None
            handle.write(content)
    except Exception:
        if fd is not None:
            os.close(fd)
        os.unlink(path)
        raise


def describe(pair):
    """The returned key_pair for a lookup.key_pair_dict."""
    return dict(
        key_id=pair["key_id"],
        key_name=pair["key_name"],
        public_key=pair["public_key"],
        fingerprint=fingerprint(pair["public_key"]),
        project_id=pair["project_id"],
        associated_instance_ids=list(pair["associated_instance_ids"]),
        created_time=pair["created_time"],
    )


def diff_view(key_pair):
    if not key_pair:
        return {}
    return dict(name=key_pair["key_name"], key_id=key_pair["key_id"], fingerprint=key_pair["fingerprint"],
                associated_instance_ids=key_pair["associated_instance_ids"])


class KeyPair:
    """read -> check -> (unless check mode) create, import, or unbind and delete -> report."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.name = self.params["name"]
        self.public_key = self.params["public_key"].strip() if self.params["public_key"] is not None else None
        self.region = self.params["region"]
        self.module.result.update(key_pair=None, request_ids=[])
        self.clock = time.monotonic
        self.sleep = time.sleep
        self.lost_answers = 0  # writes of this run whose answer was lost (settled by reading)

    def run(self):
        """The module's result; raises ModuleFailure (through self.module.fail) when the run cannot go on."""
        try:
            pairs = lookup.find_key_pairs(self.module.api, key_names=[self.name])
        except CvmApiError as exc:
            self.module.fail_api(exc, "read the key pairs")
        if len(pairs) > 1:
            self.module.fail("Several key pairs are named %r in region %s: %s. This module needs the name to be unique: delete or rename the "
                             "extra ones, then run again. Nothing was changed." % (self.name, self.region, ", ".join(p["key_id"] for p in pairs)))
        current = describe(pairs[0]) if pairs else None
        if current and self.public_key is not None and fingerprint(self.public_key) != current["fingerprint"]:
            verb = "delete it" if self.params["state"] == "absent" else "replace its public key"
            self.module.fail("The key pair %r (%s) has another public key (%s) than public_key (%s); key pairs cannot be changed in place, "
                             "so the module will not %s. Delete it first (state=absent without public_key), or use another name. "
                             "Nothing was changed." % (self.name, current["key_id"], current["fingerprint"], fingerprint(self.public_key), verb))
        if self.params["state"] == "present":
            return self.present(current)
        return self.absent(current)

    # -- present -----------------------------------------------------------------------------------------------
    def present(self, current):
        path = self.params["private_key_path"]
        if current:
            if path and not os.path.lexists(path):
                self.module.warn("The key pair %r exists, so its private key cannot be written to %s: Tencent Cloud returns a private key only "
                                 "when it creates the key pair." % (self.name, path))
            return self.report(current, current)
        problems = name_errors(self.name, creating=True)
        if path:
            problems.append(private_key_path_problem(path))
        problems = [p for p in problems if p]
        if problems:
            self.module.fail(" ".join(problems) + " Nothing was changed.")
        self.module.result["changed"] = True
        if self.module.check_mode:
            preview = dict(key_id=None, key_name=self.name, public_key=self.public_key, fingerprint=fingerprint(self.public_key),
                           project_id=self.params["project_id"], associated_instance_ids=[], created_time=None)
            return self.report(None, preview)
        if self.public_key is not None:
            return self.report(None, self.import_key())
        if path:
            try:
                make_key_directory(path)
            except OSError as exc:
                self.module.fail("Could not create the directory of private_key_path %s: %s. Nothing was changed." % (path, exc.strerror or exc))
        return self.report(None, self.create_key(path))

    def import_key(self):
        params = {"KeyName": self.name, "ProjectId": self.params["project_id"], "PublicKey": self.public_key}
        attempting = "import the key pair %r" % self.name
        for _send in range(MAX_WRITE_SENDS):
            response, lost = self.send_settled("ImportKeyPair", params, attempting, NAME_TAKEN)
            if not lost:
                key_id = response.get("KeyId")
                found = self.read_key_pairs(key_ids=[key_id], attempting="read the imported key pair %s" % key_id)
                if found:
                    return describe(found[0])
                return dict(key_id=key_id, key_name=self.name, public_key=self.public_key, fingerprint=fingerprint(self.public_key),
                            project_id=self.params["project_id"], associated_instance_ids=[], created_time=None)
            current = self.read_by_name()
            if current is None and lost.code in NAME_TAKEN:
                self.module.fail_api(lost, attempting)  # refused for another key pair than this name's: a real refusal
            if current and current["fingerprint"] == fingerprint(self.public_key):
                return current  # the send whose answer was lost took effect
            if current:
                self.module.fail("The answer to ImportKeyPair was lost, and the key pair %r (%s) now has another public key (%s): another "
                                 "client created it meanwhile. Nothing was changed by this module; delete it or use another name."
                                 % (self.name, current["key_id"], current["fingerprint"]), error=lost.to_dict())
        return self.gave_up("ImportKeyPair", attempting)

    def create_key(self, path):
        response = self.create_settled()
        raw = response.get("KeyPair") or {}
        private_key = raw.get("PrivateKey")
        if private_key:
            # Whatever happens next, this value is masked in anything the module prints, unless it is meant to be returned.
            if path:
                self.module.no_log_values.add(private_key)
        created = describe(lookup.key_pair_dict(raw))
        if not path:
            if private_key:
                self.module.result["private_key"] = private_key
            else:
                self.module.warn("The API returned no private key for the new key pair %s." % created["key_id"])
            return created
        try:
            if not private_key:
                raise OSError("the API returned no private key")
            write_private_key(path, private_key)
        except (OSError, ValueError) as exc:
            self.rollback(created["key_id"], "Could not write the private key to %s: %s." % (path, getattr(exc, "strerror", None) or exc))
        return created

    def rollback(self, key_id, problem):
        """The private key is lost: delete the new key pair again rather than leave one nobody can use."""
        try:
            self.delete_settled(key_id)
        except CvmApiError as exc:
            self.module.fail("%s The new key pair %s could not be deleted again (%s: %s): delete it yourself, its private key is lost."
                             % (problem, key_id, exc.code, exc.message), error=exc.to_dict())
        self.module.fail("%s The new key pair %s was deleted again, since its private key would be lost." % (problem, key_id))

    # -- absent ------------------------------------------------------------------------------------------------
    def absent(self, current):
        if not current:
            return self.report(None, None)
        bound = current["associated_instance_ids"]
        if bound:
            if not self.params["force"]:
                self.module.fail("The key pair %r (%s) is bound to %s. Set force: true to unbind it from them first (with force_stop: true "
                                 "for instances that are not STOPPED), or unbind it with tencentcloud.cvm.cvm_keypair_association. "
                                 "Nothing was changed." % (self.name, current["key_id"], ", ".join(bound)))
            self.unbind(current)  # in check mode: read, plan and preflight only
        self.module.result["changed"] = True
        if self.module.check_mode:
            return self.report(current, None, key_pair=current)
        self.delete(current, lag_possible=bool(bound) or self.params["force"])
        return self.report(current, None, key_pair=current)

    def delete(self, current, lag_possible):
        """DeleteKeyPairs; after an unbind (or a termination) the API refuses it for a while with KeyPairNotSupported
        (Terraform retries that for 5 minutes): retry through that lag for at most wait_timeout seconds."""
        attempting = "delete the key pair %r (%s)" % (self.name, current["key_id"])
        deadline = self.clock() + self.params["wait_timeout"]
        delay = DELETE_RETRY_FIRST
        while True:
            try:
                self.delete_settled(current["key_id"])
            except CvmApiError as exc:
                if exc.code == "InvalidKeyPair.NotSupported":
                    self.module.fail("The key pair %r (%s) is used by a custom image, and Tencent Cloud does not delete key pairs that images "
                                     "use: delete the custom images created with it (or keep the key pair), then run again. Nothing was deleted."
                                     % (self.name, current["key_id"]), error=exc.to_dict())
                if exc.code == DELETION_LAG_CODE and lag_possible and self.clock() + delay <= deadline:
                    self.sleep(delay)
                    delay = min(DELETE_RETRY_CAP, delay * 2)
                    continue
                if exc.code == DELETION_LAG_CODE and lag_possible:
                    self.module.fail("The key pair %r (%s) is unbound, but Tencent Cloud still refused to delete it after wait_timeout=%ds "
                                     "(%s: %s): the API lags after an unbind or a termination. Run again later, or raise wait_timeout."
                                     % (self.name, current["key_id"], self.params["wait_timeout"], exc.code, exc.message.rstrip(".")),
                                     error=exc.to_dict())
                self.module.fail_api(exc, attempting)
            return

    def unbind(self, current):
        """Unbind the key pair from every instance it is bound to, through the key changes engine. An instance that no longer
        exists holds no key, so it is skipped (AssociatedInstanceIds can still list a terminated one)."""
        goal = key_changes.Goal([current["key_id"]], instance_ids=current["associated_instance_ids"], must_exist=False, state="absent",
                                force_stop=self.params["force_stop"], wait=True, wait_timeout=self.params["wait_timeout"])
        wording = key_changes.Wording(read="read the instances of the key pair", failed_subject="Unbinding failed",
                                      not_stopped_subject="The key pair must be unbound from instances that are not STOPPED")
        outcome = key_changes.converge(self.module.api, goal, self.module.check_mode, wording)
        self.module.result["request_ids"].extend(outcome.request_ids)
        failure = outcome.failure
        if failure is None:
            return
        self.module.result["changed"] = bool(outcome.written)
        if failure.kind == key_changes.WRITE_FAILED:
            self.module.fail_api(failure.error, "unbind the key pair %s from its instances (%d were unbound before the failure; "
                                 "the key pair was not deleted)" % (current["key_id"], len(outcome.written)))
        if failure.error is not None:
            self.module.fail_api(failure.error, failure.attempting)
        if failure.kind in (key_changes.OPERATIONS, key_changes.UNSETTLED):
            self.module.fail(failure.message + " The key pair was not deleted; run again to retry.")
        self.module.fail(failure.message)

    # -- writes settled by reading ---------------------------------------------------------------------------------
    def send_settled(self, action, params, attempting, taken_codes=frozenset()):
        """Send a write once, without the client's blind resend: (response, None), or (None, the error) when its answer was lost.

        Lost: an ambiguous failure (the write may have taken effect), or, after such a failure, a refusal in taken_codes
        (which says an earlier send took effect). The caller then reads and decides; any other failure ends the run.
        """
        try:
            response = self.module.api.call(action, params, resend_safe=False)
        except CvmApiError as exc:
            if key_changes.is_ambiguous(exc) or (exc.code in taken_codes and self.lost_answers):
                self.lost_answers += 1
                return None, exc
            self.module.fail_api(exc, attempting)
        self.module.result["request_ids"].append(response.get("RequestId"))
        return response, None

    def create_settled(self):
        """CreateKeyPair until an answer (with the private key) arrives. A key pair of this name that appears after a lost answer
        was made by that send, and its private key is lost with the answer: it is deleted again, then created anew."""
        params = {"KeyName": self.name, "ProjectId": self.params["project_id"]}
        attempting = "create the key pair %r" % self.name
        for _send in range(MAX_WRITE_SENDS):
            response, lost = self.send_settled("CreateKeyPair", params, attempting, NAME_TAKEN)
            if not lost:
                return response
            current = self.read_by_name()
            if current is None and lost.code in NAME_TAKEN:
                self.module.fail_api(lost, attempting)
            if current is None:
                continue  # it did not take effect: sending again cannot make a second key pair
            if current["associated_instance_ids"]:
                self.module.fail("The answer to CreateKeyPair was lost, and the key pair %r (%s) now exists, bound to %s: another client "
                                 "created and used it meanwhile. Nothing was changed by this module." % (
                                     self.name, current["key_id"], ", ".join(current["associated_instance_ids"])), error=lost.to_dict())
            try:
                self.delete_settled(current["key_id"])
            except CvmApiError as exc:
                self.module.fail("The answer to CreateKeyPair was lost after the key pair %r (%s) was created, and its private key with "
                                 "it; deleting that key pair failed (%s: %s): delete it yourself, then run again."
                                 % (self.name, current["key_id"], exc.code, exc.message), error=exc.to_dict())
            self.module.warn("The answer to CreateKeyPair was lost after the key pair %s was created, and with it its private key: "
                             "the module deleted that key pair and created another." % current["key_id"])
        return self.gave_up("CreateKeyPair", attempting)

    def delete_settled(self, key_id):
        """DeleteKeyPairs for one key pair; a lost answer is settled by reading it by ID (gone: done). Raises CvmApiError when
        the API refuses (the caller words it), and fails when every answer was lost and the key pair is still there."""
        for _send in range(MAX_WRITE_SENDS):
            try:
                response = self.module.api.call("DeleteKeyPairs", {"KeyIds": [key_id]}, resend_safe=False)
            except CvmApiError as exc:
                if not (key_changes.is_ambiguous(exc) or (exc.code in GONE and self.lost_answers)):
                    raise
                self.lost_answers += 1
                if not self.read_key_pairs(key_ids=[key_id], attempting="read the key pair %s after a lost answer" % key_id):
                    return  # the send whose answer was lost took effect
                continue
            self.module.result["request_ids"].append(response.get("RequestId"))
            return
        self.gave_up("DeleteKeyPairs", "delete the key pair %s" % key_id)

    def read_by_name(self):
        pairs = self.read_key_pairs(key_names=[self.name], attempting="read the key pair %r after a lost answer" % self.name)
        if len(pairs) > 1:
            self.module.fail("After a lost answer, several key pairs are named %r in region %s: %s. Another client writes the same "
                             "name: delete the extra ones, then run again." % (self.name, self.region, ", ".join(p["key_id"] for p in pairs)))
        return describe(pairs[0]) if pairs else None

    def read_key_pairs(self, attempting, **selector):
        try:
            return lookup.find_key_pairs(self.module.api, **selector)
        except CvmApiError as exc:
            return self.module.fail_api(exc, attempting)

    def gave_up(self, action, attempting):
        self.module.fail("Failed to %s: the answers to %d sends of %s were all lost (the connection dropped after each request was sent), "
                         "and re-reading after each showed it had not taken effect. Nothing was changed; check the endpoint, proxy "
                         "and network, then run again." % (attempting, MAX_WRITE_SENDS, action))

    def report(self, before, after, key_pair=None):
        result = self.module.result
        result["key_pair"] = key_pair if key_pair is not None else after
        if self.module.diff:
            result["diff"] = dict(before=diff_view(before), after=diff_view(after))
        return result


def main():
    module = TencentCloudModule(argument_spec(), supports_check_mode=True)
    module.finish(lambda: KeyPair(module).run(), validation_errors(module.params))


if __name__ == "__main__":
    main()
