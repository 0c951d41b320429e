# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the AWX tests: the shipped AWX files, the collection linked for import, and what AWX does with a
credential type. The environments the tests run tools in come from tests/support/ansible_env.py.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import stat
import tempfile
from pathlib import Path

import yaml
from jinja2 import StrictUndefined, sandbox

# tests/support is on pytest's pythonpath (pytest.ini).
from collection_path import link_collection, put_on_sys_path  # pylint: disable=import-error
from shared_constants import REPO  # pylint: disable=import-error

CREDENTIAL_TYPE_FILE = REPO / "docs" / "awx" / "credential_type.yml"
EE_EXAMPLE_FILE = REPO / "docs" / "awx" / "execution-environment.yml"


def collections_root(tmp_path):
    """A directory holding ansible_collections/tencentcloud/cvm -> this checkout (what tc_link_collection makes)."""
    return link_collection(Path(tmp_path) / "collections")


def import_collection_root(tmp_path):
    """collections_root(tmp_path), also put on sys.path: the collection can then be imported by its FQCN path."""
    root = collections_root(tmp_path)
    put_on_sys_path(root)
    return root


def import_connection_argument_spec(tmp_path):
    """connection_argument_spec() of plugins/module_utils/_base.py, imported the way ansible imports it (by its FQCN path)."""
    import_collection_root(tmp_path)
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._base import connection_argument_spec  # pylint: disable=import-outside-toplevel
    return connection_argument_spec()


def job_events(artifacts):
    """The events of a finished ansible-runner job (its artifacts/<ident> folder) in their order, and the job's stdout."""
    events = [json.loads(path.read_text()) for path in sorted((artifacts / "job_events").glob("*.json"))]
    events.sort(key=lambda event: event["counter"])
    stdout = (artifacts / "stdout").read_text() if (artifacts / "stdout").exists() else ""
    return events, stdout


def task_result(events, task):
    """The result of the one task of that name that ran ok."""
    oks = [event for event in events if event["event"] == "runner_on_ok" and event["event_data"]["task"] == task]
    assert len(oks) == 1, [(event["event"], event["event_data"].get("task")) for event in events]
    return oks[0]["event_data"]["res"]


def load_credential_type():
    with open(CREDENTIAL_TYPE_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# --- what AWX does with a custom credential type ---------------------------------------------------------------------
# Re-stated from awx/main/models/credential/__init__.py (CredentialType.inject_credential) and
# awx/main/fields.py (CredentialTypeInjectorField.validate), so that the tests render the injectors exactly as
# a job would get them.

class _Namespace:
    """AWX's `tower` namespace: `tower.filename` is the path of the file written by the unnamed file injector."""


def inject_credential(credential_type, inputs, private_data_dir, container_root=None):
    """Render the injectors for a credential with these inputs, as AWX does when it prepares a job.

    Empty inputs are left out of the namespace (they render as ''), the unnamed `file` template is written,
    mode 0600, to a new file in <private_data_dir>/env and its path becomes `tower.filename` (seen from
    container_root, as in an execution environment, when given). Returns the env injector's variables.
    """
    tower = _Namespace()
    namespace = {"tower": tower}
    for name, value in inputs.items():
        if isinstance(value, bool) or len(value):
            namespace[name] = value
    env_dir = Path(private_data_dir) / "env"
    env_dir.mkdir(parents=True, exist_ok=True)
    jinja = sandbox.ImmutableSandboxedEnvironment()
    injectors = credential_type.get("injectors") or {}
    for label, template in (injectors.get("file") or {}).items():
        data = jinja.from_string(template).render(**namespace)
        handle, path = tempfile.mkstemp(dir=str(env_dir))
        with os.fdopen(handle, "w") as out:
            out.write(data)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if container_root:
            path = os.path.join(container_root, os.path.relpath(path, str(private_data_dir)))
        if "." not in label:
            tower.filename = path
        else:
            if not hasattr(tower, "filename"):
                tower.filename = _Namespace()
            setattr(tower.filename, label.split(".", 1)[1], path)
    return {name: jinja.from_string(template).render(**namespace) for name, template in (injectors.get("env") or {}).items()}


def validation_errors(credential_type):
    """What AWX would refuse when the credential type is created; empty when AWX accepts it."""
    errors = []
    inputs = credential_type.get("inputs") or {}
    fields = inputs.get("fields") or []
    allowed_keys = {"id", "label", "type", "help_text", "secret", "multiline", "format", "choices", "ask_at_runtime", "default"}
    ids = []
    for field in fields:
        ids.append(field.get("id"))
        if not isinstance(field.get("id"), str) or not field["id"].isidentifier():
            errors.append("field id %r is not a valid name" % field.get("id"))
        if not field.get("label"):
            errors.append("field %r has no label" % field.get("id"))
        if field.get("type", "string") not in ("string", "boolean"):
            errors.append("field %r has type %r" % (field.get("id"), field.get("type")))
        if set(field) - allowed_keys:
            errors.append("field %r has unknown keys %s" % (field.get("id"), sorted(set(field) - allowed_keys)))
    if len(set(ids)) != len(ids):
        errors.append("duplicate field ids")
    for name in inputs.get("required") or []:
        if name not in ids:
            errors.append("required names an undefined field %r" % name)
    injectors = credential_type.get("injectors") or {}
    if set(injectors) - {"file", "env", "extra_vars"}:
        errors.append("unknown injector kinds %s" % sorted(set(injectors) - {"file", "env", "extra_vars"}))
    valid_namespace = {name: "EXAMPLE" for name in ids}
    tower = _Namespace()
    templates = [label for label in (injectors.get("file") or {}) if label.startswith("template")]
    if "template" in templates:
        tower.filename = "EXAMPLE_FILENAME"
        if len(templates) > 1:
            errors.append("must use multi-file syntax when injecting multiple files")
    elif templates:  # multi-file syntax: template.NAME is tower.filename.NAME
        tower.filename = _Namespace()
        for label in templates:
            setattr(tower.filename, label.split(".", 1)[1], "EXAMPLE_FILENAME")
    valid_namespace["tower"] = tower
    for kind, injector in injectors.items():
        for key, template in (injector or {}).items():
            if kind == "env" and (key.startswith("ANSIBLE_") or key in ("PATH", "PYTHONPATH", "VIRTUAL_ENV", "JOB_ID", "AWX_HOST")):
                errors.append("environment variable %s is not allowed in credentials" % key)
            if kind == "env" and not template.isascii():
                errors.append("environment variable %s: the template must be ASCII" % key)
            try:
                sandbox.ImmutableSandboxedEnvironment(undefined=StrictUndefined).from_string(template).render(valid_namespace)
            except Exception as exc:  # pylint: disable=broad-exception-caught  # AWX reports each kind; one message is enough here
                errors.append("%s.%s: %s" % (kind, key, exc))
    return errors


def self_signed_certificate(directory):
    """(cert.pem, key.pem) in `directory`: a fresh self-signed certificate for 127.0.0.1, its own CA."""
    from cryptography import x509  # pylint: disable=import-outside-toplevel  # a dependency of ansible-core
    from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = Path(directory) / "cert.pem", Path(directory) / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_file, key_file
