# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/awx/credential_type.yml against the modules' real argument spec, so the two cannot drift apart.

The AWX credential type injects environment variables; the modules read them as env_fallback of their
connection options (plugins/module_utils/_base.py). Every option with an environment fallback has an input of
the same name, the input reaches exactly that variable, and an input is secret exactly when the option is no_log.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_env import BIN, ansible_environment  # pylint: disable=import-error
from awx_support import (  # pylint: disable=import-error
    collections_root, import_connection_argument_spec, inject_credential, load_credential_type, self_signed_certificate,
    validation_errors,
)
from harness import EmulatorProcess  # pylint: disable=import-error
from shared_constants import REPO  # pylint: disable=import-error


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return import_connection_argument_spec(tmp_path_factory.mktemp("spec"))


@pytest.fixture(scope="module")
def fallbacks(spec):
    """option -> the environment variable it falls back to, for every connection option that has one."""
    result = {}
    for option, settings in spec.items():
        if "fallback" in settings:
            function, names = settings["fallback"][0], settings["fallback"][1]
            assert function.__name__ == "env_fallback" and len(names) == 1, (option, settings["fallback"])
            result[option] = names[0]
    return result


@pytest.fixture(scope="module")
def credential_type():
    return load_credential_type()


def fields_by_id(credential_type):
    return {field["id"]: field for field in credential_type["inputs"]["fields"]}


def test_awx_accepts_the_credential_type(credential_type):
    assert validation_errors(credential_type) == []
    assert credential_type["kind"] == "cloud"
    assert credential_type["name"] and credential_type["description"]
    assert set(credential_type) == {"name", "description", "kind", "inputs", "injectors"}


def test_injected_variables_are_exactly_the_modules_environment_fallbacks(credential_type, fallbacks):
    assert sorted(credential_type["injectors"]["env"]) == sorted(fallbacks.values())
    assert sorted(fallbacks.values()) == [
        "TENCENTCLOUD_ALLOW_INSECURE_HTTP", "TENCENTCLOUD_API_DEADLINE", "TENCENTCLOUD_CA_BUNDLE", "TENCENTCLOUD_ENDPOINT", "TENCENTCLOUD_PROFILE",
        "TENCENTCLOUD_RATE_LIMIT_CA_BUNDLE", "TENCENTCLOUD_RATE_LIMIT_PASSWORD", "TENCENTCLOUD_RATE_LIMIT_URL",
        "TENCENTCLOUD_REGION", "TENCENTCLOUD_ROLE_ARN", "TENCENTCLOUD_ROLE_DURATION", "TENCENTCLOUD_ROLE_EXTERNAL_ID",
        "TENCENTCLOUD_ROLE_SESSION_NAME", "TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_SECURITY_TOKEN",
        "TENCENTCLOUD_STS_ENDPOINT",
    ]


def test_inputs_are_the_options_with_an_environment_fallback(credential_type, fallbacks):
    assert list(fields_by_id(credential_type)) == list(fallbacks), "same names, in the options' order"


def test_secret_inputs_are_exactly_the_no_log_options(credential_type, spec, fallbacks):
    secret_inputs = {field_id for field_id, field in fields_by_id(credential_type).items() if field.get("secret")}
    no_log_options = {option for option in fallbacks if spec[option].get("no_log")}
    assert secret_inputs == no_log_options == {"secret_key", "security_token", "role_external_id", "rate_limit_password"}
    # secret_id is deliberately not secret (like an AWS access key id): shown in output, useful in support cases.
    assert spec["secret_id"]["no_log"] is False


def test_each_input_reaches_the_variable_of_its_option(credential_type, spec, fallbacks, tmp_path):
    marks = {field_id: "value-of-%s" % field_id for field_id in fields_by_id(credential_type)}
    env = inject_credential(credential_type, marks, tmp_path)
    for option, variable in fallbacks.items():
        if spec[option]["type"] == "path":
            # A file option: AWX writes the input to a file in the job's env/ and the variable names that file.
            path = Path(env[variable])
            assert path.parent == tmp_path / "env"
            assert path.read_text() == marks[option]
            assert path.stat().st_mode & 0o777 == 0o600
        else:
            assert env[variable] == marks[option], variable


def test_required_inputs_are_the_api_key(credential_type):
    assert credential_type["inputs"]["required"] == ["secret_id", "secret_key"]


def test_inputs_left_empty_inject_empty_values(credential_type, tmp_path):
    """AWX sets every variable of the env injector; an input left empty becomes ''. The modules treat '' as not set."""
    env = inject_credential(credential_type, {"secret_id": "AKIDEXAMPLE", "secret_key": "k", "security_token": ""}, tmp_path)
    assert env == {
        "TENCENTCLOUD_SECRET_ID": "AKIDEXAMPLE",
        "TENCENTCLOUD_SECRET_KEY": "k",
        "TENCENTCLOUD_SECURITY_TOKEN": "",
        "TENCENTCLOUD_PROFILE": "",
        "TENCENTCLOUD_ROLE_ARN": "",
        "TENCENTCLOUD_ROLE_SESSION_NAME": "",
        "TENCENTCLOUD_ROLE_DURATION": "",  # the modules drop it, so the default applies
        "TENCENTCLOUD_ROLE_EXTERNAL_ID": "",
        "TENCENTCLOUD_STS_ENDPOINT": "",
        "TENCENTCLOUD_REGION": "",
        "TENCENTCLOUD_ENDPOINT": "",
        "TENCENTCLOUD_ALLOW_INSECURE_HTTP": "",  # the modules drop it, so the default (false) applies
        "TENCENTCLOUD_CA_BUNDLE": "",  # AWX writes the (empty) file anyway; the variable does not point at it
        "TENCENTCLOUD_API_DEADLINE": "",  # the modules drop it, so the default applies
        "TENCENTCLOUD_RATE_LIMIT_URL": "",  # not set: the single-machine limit
        "TENCENTCLOUD_RATE_LIMIT_PASSWORD": "",
        "TENCENTCLOUD_RATE_LIMIT_CA_BUNDLE": "",  # as TENCENTCLOUD_CA_BUNDLE
    }


def test_doc_fragment_documents_every_variable(fallbacks):
    """The connection doc fragment (what ansible-doc shows) names each option's environment variable."""
    namespace = {}
    exec(compile((REPO / "plugins" / "doc_fragments" / "connection.py").read_text(), "connection.py", "exec"), namespace)  # pylint: disable=exec-used
    options = yaml.safe_load(namespace["ModuleDocFragment"].DOCUMENTATION)["options"]
    for option, variable in fallbacks.items():
        assert "E(%s)" % variable in " ".join(options[option]["description"]), option


# --- the CA bundle input, end to end against an HTTPS emulator ----------------------------------------------------------

@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory):
    """An emulator serving HTTPS with a fresh self-signed certificate for 127.0.0.1."""
    cert_file, key_file = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    with EmulatorProcess(tls=(cert_file, key_file)) as emu:
        yield emu, cert_file.read_text()


def run_check_mode_job(emu, credential_env, tmp_path):
    """`ansible localhost -m cvm_keypair_association --check` with only the injected variables as settings."""
    env = ansible_environment(tmp_path, collections_root(tmp_path), ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
                              ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal", **credential_env)
    args = {"instance_ids": ["ins-a1000004"], "key_ids": ["skey-k1000003"], "request_timeout": 5}
    proc = subprocess.run([str(BIN / "ansible"), "localhost", "-m", "tencentcloud.cvm.cvm_keypair_association", "-a", json.dumps(args), "--check"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    match = re.search(r"^localhost \| (?P<status>\w+)[^{]*(?P<result>\{.*\})\s*$", proc.stdout, re.S | re.M)
    assert match, "unexpected ansible output (rc=%d)\nstdout:\n%s\nstderr:\n%s" % (proc.returncode, proc.stdout, proc.stderr)
    return match.group("status"), json.loads(match.group("result"))


def test_ca_bundle_input_lets_the_module_verify_a_private_endpoint(tls_emulator, credential_type, tmp_path):
    emu, cert_pem = tls_emulator
    inputs = {"secret_id": emu.secret_id, "secret_key": emu.secret_key, "region": emu.region, "endpoint": emu.url, "ca_bundle": cert_pem}
    status, result = run_check_mode_job(emu, inject_credential(credential_type, inputs, tmp_path), tmp_path)
    assert status == "CHANGED", result
    assert result["instances"][0]["key_ids"] == ["skey-k1000003"]


def test_credential_without_ca_bundle_keeps_certificate_verification(tls_emulator, credential_type, tmp_path):
    """AWX injects TENCENTCLOUD_CA_BUNDLE='' when no CA was given: that must mean the public CAs, never no verification."""
    emu = tls_emulator[0]
    inputs = {"secret_id": emu.secret_id, "secret_key": emu.secret_key, "region": emu.region, "endpoint": emu.url}
    env = inject_credential(credential_type, inputs, tmp_path)
    assert env["TENCENTCLOUD_CA_BUNDLE"] == ""
    status, result = run_check_mode_job(emu, env, tmp_path)
    assert status == "FAILED", "the self-signed certificate was accepted without a CA bundle: %s" % result
    assert "CERTIFICATE_VERIFY_FAILED" in result["msg"]


def test_role_input_assumes_the_role_through_the_same_verified_endpoint(tls_emulator, credential_type, tmp_path):
    """One API key, one role per account: the STS call goes to the same HTTPS endpoint, verified with the same CA bundle."""
    emu, cert_pem = tls_emulator
    since = emu.requests()["requests"][-1]["seq"] if emu.requests()["requests"] else 0
    inputs = {"secret_id": emu.secret_id, "secret_key": emu.secret_key, "region": emu.region, "endpoint": emu.url, "ca_bundle": cert_pem,
              "role_arn": "qcs::cam::uin/100000000001:roleName/cvm-emulator-ops", "role_session_name": "awx-job-42"}
    status, result = run_check_mode_job(emu, inject_credential(credential_type, inputs, tmp_path), tmp_path)
    assert status == "CHANGED", result
    records = emu.requests(since=since)["requests"]
    assert [(r["action"], r["params"]["RoleSessionName"]) for r in records[:1]] == [("AssumeRole", "awx-job-42")]
    assert {r["secret_id"] for r in records[1:]} == {records[0]["issued"]["secret_id"]}
