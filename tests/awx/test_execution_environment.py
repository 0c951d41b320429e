# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection in an execution environment: ansible-builder finds and installs its Python requirements.

No container engine is needed: `ansible-builder create` writes the build context, and the test then runs
the two build steps that matter here on this host, as the generated Containerfile runs them: the galaxy
stage's `ansible-galaxy collection install -r requirements.yml` (in the context's _build/, the image's
/build), and the builder stage's `introspect.py introspect --write-pip=...`. Finally pip resolves the
requirements file that step wrote, from the package index, as the image build would.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from ansible_env import BIN, clean_environment  # pylint: disable=import-error
from awx_support import EE_EXAMPLE_FILE  # pylint: disable=import-error
from shared_constants import REPO  # pylint: disable=import-error

ansible_builder = pytest.importorskip("ansible_builder", reason="ansible-builder is not installed (tests/requirements.txt)")
from ansible_builder.ee_schema import validate_schema  # noqa: E402  pylint: disable=wrong-import-position

SDK_PACKAGES = {"tencentcloud-sdk-python-common", "tencentcloud-sdk-python-cvm"}
# What requirements.txt names: the SDK, tenacity (the client's retries), and redis for the option rate_limit_url (imported
# only when it is set).
REQUIRED_PACKAGES = SDK_PACKAGES | {"tenacity", "redis"}


def requirement_names(lines):
    """Distribution names of pip requirement lines (comments and blank lines skipped), normalised."""
    names = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(re.split(r"[\s<>=!~;\[]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def run(cmd, **kwargs):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, check=False, **kwargs)
    assert proc.returncode == 0, "%s failed (rc=%d)\nstdout:\n%s\nstderr:\n%s" % (" ".join(map(str, cmd)), proc.returncode, proc.stdout, proc.stderr)
    return proc


def test_collection_metadata_is_a_valid_v3_definition_naming_the_sdk():
    meta = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text())
    validate_schema(meta)  # raises DefinitionError when it is not a valid version 3 definition
    assert meta["version"] == 3
    deps = meta["dependencies"]
    assert set(deps) == {"python", "system"}
    # Paths are relative to the collection root (ansible-builder's introspection joins them to it).
    python_file, system_file = REPO / deps["python"], REPO / deps["system"]
    assert python_file == REPO / "requirements.txt", "the EE must get the same requirements as `pip install -r requirements.txt`"
    assert set(requirement_names(python_file.read_text().splitlines())) == REQUIRED_PACKAGES
    assert system_file.is_file()
    # No system package is needed: the SDK is pure Python. The file says so and lists nothing.
    assert [line for line in system_file.read_text().splitlines() if line.strip() and not line.startswith("#")] == []


# One worker builds the tarball once for every test that needs it.
pytestmark = pytest.mark.xdist_group("collection_tarball")


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    """The collection artifact, built from this checkout as `ansible-galaxy collection build` does for a release."""
    out = tmp_path_factory.mktemp("build")
    home = tmp_path_factory.mktemp("home")
    run([BIN / "ansible-galaxy", "collection", "build", "--output-path", out, REPO], env=clean_environment(home))
    (artifact,) = out.glob("tencentcloud-cvm-*.tar.gz")
    return artifact


def test_ansible_builder_context_installs_the_collection_and_its_sdk(tarball, tmp_path):
    # The documented EE definition as it is, with the collection's tarball where it expects it (next to it).
    definition = yaml.safe_load(EE_EXAMPLE_FILE.read_text())
    galaxy = definition["dependencies"]["galaxy"]
    assert galaxy == {"collections": [{"name": "collections/tencentcloud-cvm.tar.gz", "type": "file"}]}
    assert definition["additional_build_files"] == [{"src": "tencentcloud-cvm.tar.gz", "dest": "collections"}]
    ee_file = tmp_path / "execution-environment.yml"
    shutil.copy(EE_EXAMPLE_FILE, ee_file)
    shutil.copy(tarball, tmp_path / "tencentcloud-cvm.tar.gz")
    context = tmp_path / "context"
    home = tmp_path / "home"
    home.mkdir()

    run([sys.executable, "-m", "ansible_builder", "create", "--file", ee_file, "--context", context, "--output-filename", "Containerfile"],
        env=clean_environment(home), cwd=tmp_path)

    build = context / "_build"
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    introspect_step = re.search(r"^RUN \$PYCMD /output/scripts/introspect\.py introspect(?P<args>.*)$", containerfile, re.M)
    assert introspect_step, containerfile
    assert "--write-pip=/tmp/src/requirements.txt" in introspect_step.group("args")
    assert (build / "collections" / "tencentcloud-cvm.tar.gz").read_bytes() == tarball.read_bytes()
    assert yaml.safe_load((build / "requirements.yml").read_text()) == galaxy

    # Galaxy stage (WORKDIR /build): install the collection into the image's collections path.
    image_collections = tmp_path / "image" / "usr" / "share" / "ansible" / "collections"
    run([BIN / "ansible-galaxy", "collection", "install", "-r", "requirements.yml", "--collections-path", image_collections],
        env=clean_environment(home), cwd=build)
    installed = image_collections / "ansible_collections" / "tencentcloud" / "cvm"
    assert json.loads((installed / "MANIFEST.json").read_text())["collection_info"]["name"] == "cvm"

    # Builder stage: the introspection script of the context, on what the galaxy stage installed.
    pip_file, bindep_file = tmp_path / "image" / "tmp" / "src" / "requirements.txt", tmp_path / "image" / "tmp" / "src" / "bindep.txt"
    proc = run([sys.executable, build / "scripts" / "introspect.py", "introspect", image_collections,
                "--write-pip=%s" % pip_file, "--write-bindep=%s" % bindep_file], env=clean_environment(home))
    report = yaml.safe_load(proc.stdout)
    assert report["system"] == []
    lines = pip_file.read_text().splitlines()
    assert set(requirement_names(lines)) == REQUIRED_PACKAGES
    assert all(line.endswith("# from collection tencentcloud.cvm") for line in lines if line.strip())
    assert not bindep_file.exists()  # nothing for the system package manager

    # And pip resolves that file from the package index (what the builder stage's `assemble` installs).
    resolved = tmp_path / "pip-report.json"
    run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--disable-pip-version-check",
         "--report", resolved, "-r", pip_file], env=clean_environment(home, proxies=True))
    will_install = {item["metadata"]["name"].lower() for item in json.loads(resolved.read_text())["install"]}
    assert SDK_PACKAGES <= will_install
    assert "requests" in will_install  # the SDK's own dependency came along: a real resolution, not a name check


def test_documented_definition_is_valid_and_needs_no_extra_python_requirement():
    validate_schema(yaml.safe_load(EE_EXAMPLE_FILE.read_text()))  # fills in defaults: check a copy
    definition = yaml.safe_load(EE_EXAMPLE_FILE.read_text())
    assert definition["version"] == 3
    # The SDK comes from the collection's metadata, not from the EE definition: one place to keep it.
    assert "python" not in definition["dependencies"]
    # ansible-core (the current release, 2.21) and ansible-runner are installed by pip, on a Python that
    # ansible-core 2.21 supports (3.12 or later).
    assert definition["dependencies"]["ansible_core"] == {"package_pip": "ansible-core>=2.21,<2.22"}
    assert definition["dependencies"]["python_interpreter"] == {"package_system": "python3.12", "python_path": "/usr/bin/python3.12"}
    # Every input is pinned (docs/awx/README.md, "Pinning"): ranges with an upper bound, and the base by digest.
    assert re.fullmatch(r"ansible-runner>=[0-9.]+,<[0-9.]+", definition["dependencies"]["ansible_runner"]["package_pip"])
    sdk = [line for line in (REPO / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert sdk and all(re.fullmatch(r"(tencentcloud-sdk-python-[a-z]+|tenacity|redis)>=[0-9.]+,<[0-9.]+", line) for line in sdk), sdk
    # The default base (what AWX's own awx-ee is built from) and the settings that base needs; README.md
    # documents both, and how to swap the base.
    assert re.fullmatch(r"quay\.io/centos/centos:stream9@sha256:[0-9a-f]{64}", definition["images"]["base_image"]["name"])
    assert definition["options"] == {"package_manager_path": "/usr/bin/dnf"}
    readme = (REPO / "docs" / "awx" / "README.md").read_text()
    assert "quay.io/centos/centos:stream9" in readme and "EE_BASE_IMAGE" in readme
