# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/ee-test's decisions (ee_build.py) without building: the Debian archive it takes from apt's sources, the
definition it builds, the build CAs it accepts and its TLS preflight (against an HTTPS emulator on 127.0.0.1). The
build itself runs in ./scripts/test --stage ee."""

from __future__ import annotations

import socket

import pytest
import yaml

import ee_build  # pylint: disable=import-error
from awx_support import EE_EXAMPLE_FILE, self_signed_certificate  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from shared_constants import PROXY_VARIABLES  # pylint: disable=import-error

MIRROR = "http://mirror.example/debian"


@pytest.mark.parametrize("sources", [
    # deb822: the security and updates suites come first, the main archive's stanza after them.
    [("debian.sources", "Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n\n"
                        "Types: deb\nURIs: %s http://second.example/debian\nSuites: bookworm bookworm-updates\n"
                        "Components: main\n" % MIRROR)],
    # one-line format, with options and an updates suite first; a commented line is no entry.
    [("sources.list", "# deb http://old.example/debian bookworm main\n"
                      "deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://updates.example/debian bookworm-updates main\n"
                      "deb [arch=amd64] %s bookworm main\n" % MIRROR)],
    # deb822 without a main suite: the one-line file after it decides.
    [("extra.sources", "URIs: http://security.example/debian-security\nSuites: trixie-security\n"),
     ("sources.list", "deb %s trixie main contrib\n" % MIRROR)],
])
def test_the_main_archive_is_the_first_entry_for_a_suite_without_a_dash(sources):
    assert ee_build.main_archive(sources) == MIRROR


def test_no_main_archive_in_the_sources_is_none():
    assert ee_build.main_archive([("sources.list", "deb http://security.example/debian-security bookworm-security main\n")]) is None


def test_the_local_definition_changes_only_the_base_and_what_a_debian_base_needs():
    documented = yaml.safe_load(EE_EXAMPLE_FILE.read_text())
    built = ee_build.local_definition(yaml.safe_load(EE_EXAMPLE_FILE.read_text()), "localhost/base:1")
    assert built["images"]["base_image"]["name"] == "localhost/base:1"
    assert built["dependencies"]["python_interpreter"] == {"python_path": "/usr/bin/python3"}
    assert built["options"]["package_manager_path"] == "/usr/bin/apt-get" and built["options"]["skip_pip_install"] is True
    for changed in (built, documented):
        del changed["images"], changed["dependencies"]["python_interpreter"]
        for option in ("package_manager_path", "skip_pip_install"):
            changed.get("options", {}).pop(option, None)
    assert built == documented


def test_a_definition_without_the_collection_tarball_is_refused():
    definition = yaml.safe_load(EE_EXAMPLE_FILE.read_text())
    definition["additional_build_files"] = []
    with pytest.raises(ee_build.Failed, match="additional_build_files no longer takes tencentcloud-cvm.tar.gz"):
        ee_build.local_definition(definition, "localhost/base:1")


def test_build_cas_come_from_the_options_then_the_environment_and_must_be_pem(tmp_path, monkeypatch):
    pem, other, text = tmp_path / "a.pem", tmp_path / "b.pem", tmp_path / "notes.txt"
    pem.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    other.write_text(pem.read_text())
    text.write_text("not a certificate\n")
    monkeypatch.setenv("EE_EXTRA_CA_CERTS", "%s:" % other)
    assert ee_build.build_ca_files([str(pem)]) == [str(pem), str(other)]
    monkeypatch.setenv("EE_EXTRA_CA_CERTS", "")
    assert ee_build.build_ca_files([]) == []
    for bad in (text, tmp_path / "missing.pem"):
        with pytest.raises(ee_build.Failed, match="--build-ca: '%s' is not a readable PEM certificate file" % bad):
            ee_build.build_ca_files([str(bad)])


@pytest.fixture(scope="module")
def https_server(tmp_path_factory):
    """An HTTPS server on 127.0.0.1 (the emulator) with a fresh self-signed certificate: (a URL of its signed API, which
    answers anyone (an API error), unlike its control API, the cert)."""
    cert_file, key_file = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    with EmulatorProcess(tls=(cert_file, key_file)) as emu:
        yield emu.url + "/", str(cert_file)


@pytest.fixture
def no_proxies(monkeypatch):
    for name in PROXY_VARIABLES:  # the probe honours proxy settings, as pip does; 127.0.0.1 is reached directly
        monkeypatch.delenv(name, raising=False)


def test_the_preflight_stops_at_a_certificate_the_build_would_not_trust(https_server, no_proxies):
    url, _cert = https_server
    with pytest.raises(ee_build.Failed, match="does not trust the TLS certificate.*EE_EXTRA_CA_CERTS"):
        ee_build.tls_preflight([], url=url)


def test_the_preflight_passes_with_the_ca_that_signed_it(https_server, no_proxies):
    url, cert = https_server
    assert ee_build.tls_preflight([cert], url=url).endswith("certificate trusted")


def test_no_answer_is_no_verdict(no_proxies):
    with socket.socket() as unused:  # a loopback port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert "no answer" in ee_build.tls_preflight([], url="https://127.0.0.1:%d/" % port, timeout=5)
