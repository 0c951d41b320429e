# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The execution environment (EE) as AWX runs it: build the image with ansible-builder from
docs/awx/execution-environment.yml, offline from container registries, and run AWX-style jobs in it.

  scripts/ee-test [--cold] [--build-ca PEM]... [--preflight]
    --cold           remove the caches first (base image, podman storage), then build and test
    --preflight      only check, in seconds, that the build's pip will trust PyPI's TLS certificate as this
                     network presents it (the public CAs plus the build CAs); ./scripts/test runs this before
                     its first stage, so a missing proxy CA stops the run at once, not after the other stages
    --build-ca PEM   a CA that pip trusts DURING THE BUILD, in addition to the public CAs (repeatable):
                     for a proxy that re-signs TLS, such as the CI machines' egress proxy. Mounted
                     into the build's RUN steps only, never copied into the image. Without it, no CA
                     beyond the public ones is trusted: none is taken from the host implicitly.

Steps:
  1. podman, runc and debootstrap from Debian's packages when missing (apt-get; needs root).
  2. podman configured only through files of our own (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF) in
     the cache; nothing under /etc is changed. Images live in the cache's own storage.
  3. A Debian 13 (trixie, Python 3.13) base image (debootstrap --variant=minbase, from the Debian
     mirror apt already uses, with python3 and pip), reused while its inputs (mirror, suite, packages,
     this recipe) are unchanged. Python 3.13 runs ansible-core 2.21, which the definition installs.
  4. The EE image: ansible-builder build on the documented definition, with the base swapped for the
     local one (and the three options a Debian base needs) and the collection from its built tarball.
  5. The image's contents: ansible-core 2.21 on Python 3.13, ansible-doc of the module works; no test
     output, no virtualenv, no CA.
  6. AWX-style jobs (ansible-runner --process-isolation, podman) against the emulator on the host:
     tests/awx/test_ee_image.py (first job binds, rerun changes nothing, the secret leaks nowhere).

Settings (environment):
  EE_EXTRA_CA_CERTS  PEM files (colon-separated), the same as one --build-ca each; unset or empty: none
  EE_DEBIAN_MIRROR   the Debian mirror for the base image (default: the main Debian archive named
                     in /etc/apt/sources.list*)
  TC_EE_CACHE        the cache folder (default ~/.cache/tencentcloud-cvm/ee)

Every container this command (or ansible-runner for it) starts carries a label and is removed on
exit, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import inspect
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from process_groups import interrupt_on_signals, run  # tests/support, on PYTHONPATH (scripts/ee-test)
from shared_constants import REPO

CACHE = Path(os.environ.get("TC_EE_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tencentcloud-cvm" / "ee")
SUITE = "trixie"
# What the image must report: the definition's ansible-core on the base's Python.
EXPECT_ANSIBLE_CORE, EXPECT_PYTHON = "2.21", "3.13"
BASE_PACKAGES = "python3,python3-pip,ca-certificates"
BASE_REPO = "localhost/tencentcloud-cvm-ee-base"
IMAGE = "localhost/tencentcloud-cvm-ee:test"
LABEL = "tencentcloud-cvm.ee-test"
RUN_ID = "%d-%d" % (os.getpid(), time.time())
DEFINITION = REPO / "docs" / "awx" / "execution-environment.yml"
USAGE = "scripts/ee-test [--cold] [--build-ca PEM]... [--preflight]"
PYPI_PROBE = "https://pypi.org/simple/pip/"  # what the build's pip fetches first
UNTRUSTED_PYPI = ("pip does not trust the TLS certificate it got for PyPI. Behind a proxy that re-signs TLS, give its CA: "
                  "EE_EXTRA_CA_CERTS=/path/to/proxy-ca.pem or scripts/ee-test --build-ca /path/to/proxy-ca.pem")

# Limits within the host's hard limits (the image's defaults exceed them here); runc because crun refuses this
# host's cgroup hybrid mode; cgroupfs and the file logger because there is no systemd.
CONTAINERS_CONF = """# Written by scripts/ee-test; used only through CONTAINERS_CONF.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "{cache}/run/libpod"

[network]
network_config_dir = "{cache}/cni"
"""
# Our own image store: the cache holds the images, and --cold removes them with it.
STORAGE_CONF = """# Written by scripts/ee-test; used only through CONTAINERS_STORAGE_CONF.
[storage]
driver = "overlay"
graphroot = "{cache}/storage"
runroot = "{cache}/run/storage"
"""


class Failed(Exception):
    """The check or step named in the message failed."""


def log(message):
    print("%s [ee-test] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


def output(*command, **kwargs):
    """The command's stdout (and stderr), stripped; raises Failed with `what` and its output when it fails."""
    what = kwargs.pop("what", None)
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False, **kwargs)
    if proc.returncode and what:
        raise Failed("%s: %s" % (what, proc.stdout.strip()))
    return proc.stdout.strip()


def logged(command, log_file, what, tail=30, **kwargs):
    """Run a long step in its own process group with its output in log_file; on failure show its last lines."""
    with open(log_file, "w", encoding="utf-8") as handle:
        rc = run(command, stdout=handle, stderr=subprocess.STDOUT, **kwargs)
    if rc:
        sys.stderr.write("".join(Path(log_file).read_text(errors="replace").splitlines(True)[-tail:]))
        raise Failed(what)


# --- 1. and 2.: the container tools and podman's configuration ---------------------------------------------------

def install_tools(work):
    """podman, runc and debootstrap from Debian's packages (catatonit: podman's init for --init)."""
    missing = [tool for tool in ("podman", "runc", "debootstrap") if not shutil.which(tool)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise Failed("%s missing; install them (apt-get install %s) or run as root" % (" ".join(missing), " ".join(missing)))
    if not shutil.which("apt-get"):
        raise Failed("%s missing and this is not a Debian-like system (no apt-get)" % " ".join(missing))
    log("installing %s from Debian's packages" % " ".join(missing))
    # No recommends: buildah, slirp4netns etc. are not needed as root.
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    logged(["apt-get", "update", "-qq"], work / "apt.log", "apt-get update failed", env=env)
    logged(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, "catatonit"], work / "apt.log",
           "apt-get could not install %s" % " ".join(missing), env=env)


def configure_podman(work):
    """podman reads our files (the environment names them); nothing under /etc changes."""
    for folder in ("storage", "run", "cni"):
        (CACHE / folder).mkdir(parents=True, exist_ok=True)
    (CACHE / "containers.conf").write_text(CONTAINERS_CONF.format(cache=CACHE), encoding="utf-8")
    (CACHE / "storage.conf").write_text(STORAGE_CONF.format(cache=CACHE), encoding="utf-8")
    os.environ.update(CONTAINERS_CONF=str(CACHE / "containers.conf"), CONTAINERS_STORAGE_CONF=str(CACHE / "storage.conf"))
    output("podman", "info", what="podman does not work with %s" % (CACHE / "containers.conf"), cwd=work)


def remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def remove_cache():
    """--cold: everything in the cache but its lock (nothing runs in the store while we hold it)."""
    def clear():
        for path in CACHE.iterdir():
            if path.name != ".lock":
                remove(path)
    try:
        clear()
    except OSError:
        # Only a crashed run could leave a layer mounted, and then podman itself has to undo it.
        env = dict(os.environ, CONTAINERS_CONF=str(CACHE / "containers.conf"), CONTAINERS_STORAGE_CONF=str(CACHE / "storage.conf"))
        subprocess.run(["podman", "system", "reset", "--force"], env=env, capture_output=True, check=False)
        try:
            clear()
        except OSError as exc:
            raise Failed("cannot remove %s: %s" % (CACHE, exc)) from exc


def remove_containers():
    """Every container in our store: ours and ansible-runner's (labelled), and an interrupted build's ("external")."""
    ids = output("podman", "ps", "--all", "--external", "--quiet").split()
    if ids:
        log("removing containers: %s" % " ".join(ids))
        subprocess.run(["podman", "rm", "--force", "--time", "5", *ids], capture_output=True, check=False)
    left = output("podman", "ps", "--all", "--external", "--quiet")
    if left:
        log("WARNING: containers still there after cleanup: %s" % left)


# --- 3.: the base image ------------------------------------------------------------------------------------------

def main_archive(sources):
    """The main Debian archive in apt's sources: the URI of the first entry for a suite without a "-" (bookworm, not
    bookworm-security or bookworm-updates). `sources` is [(file name, text)], the deb822 .sources files first."""
    for name, text in sources:
        if name.endswith(".sources"):
            for stanza in re.split(r"\n[ \t]*\n", text):
                fields = dict(re.findall(r"^([A-Za-z-]+):[ \t]*(.*)$", stanza, re.M))
                if fields.get("URIs") and any("-" not in suite for suite in fields.get("Suites", "").split()):
                    return fields["URIs"].split()[0]
        else:
            for line in text.splitlines():
                words = re.sub(r"\[[^]]*\]", "", line).split()  # [options] aside
                if len(words) >= 3 and words[0] == "deb" and "-" not in words[2]:
                    return words[1]
    return None


def debian_mirror():
    """EE_DEBIAN_MIRROR, else the archive apt uses. The host may run another release: the mirror serves every suite."""
    if os.environ.get("EE_DEBIAN_MIRROR"):
        return os.environ["EE_DEBIAN_MIRROR"]
    apt = Path("/etc/apt")
    files = sorted((apt / "sources.list.d").glob("*.sources")) + [apt / "sources.list"] + sorted((apt / "sources.list.d").glob("*.list"))
    mirror = main_archive([(path.name, path.read_text(errors="replace")) for path in files if path.is_file()])
    if not mirror:
        raise Failed("no Debian archive in /etc/apt/sources.list*; set EE_DEBIAN_MIRROR")
    return mirror


def make_base_rootfs(mirror, rootfs, work):
    logged(["debootstrap", "--variant=minbase", "--include=" + BASE_PACKAGES, SUITE, str(rootfs), mirror],
           work / "debootstrap.log", "debootstrap %s from %s failed" % (SUITE, mirror))
    # apt inside the image uses the same mirror; the downloaded packages and lists are not kept.
    (rootfs / "etc" / "apt" / "sources.list").write_text("deb %s %s main\n" % (mirror, SUITE))
    for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*", "var/log/*.log"):
        for path in rootfs.glob(pattern):
            remove(path)


def image_size(image):
    return "%.0f MB" % (int(output("podman", "image", "inspect", "--format", "{{.Size}}", image)) / 1e6)


def base_image(work):
    """Tagged with a hash of everything it is made from, this recipe included: a changed input makes a new image."""
    mirror = debian_mirror()
    recipe = "%s %s %s\n%s" % (mirror, SUITE, BASE_PACKAGES, inspect.getsource(make_base_rootfs))
    tag = "%s:%s" % (BASE_REPO, hashlib.sha256(recipe.encode()).hexdigest()[:16])
    if subprocess.run(["podman", "image", "exists", tag], check=False).returncode == 0:
        log("base image %s: cached" % tag)
        return tag
    log("base image %s: debootstrap %s (%s) from %s" % (tag, SUITE, BASE_PACKAGES, mirror))
    start, rootfs = time.monotonic(), work / "rootfs"
    make_base_rootfs(mirror, rootfs, work)
    with subprocess.Popen(["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE) as tar:
        imported = subprocess.run(["podman", "import", "--quiet", "--change", 'CMD ["/bin/bash"]', "-", tag],
                                  stdin=tar.stdout, stdout=subprocess.DEVNULL, check=False)
    if tar.returncode or imported.returncode:
        raise Failed("podman import of the base image failed")
    shutil.rmtree(rootfs)
    log("base image made in %d s; size %s" % (time.monotonic() - start, image_size(tag)))
    # Older base images (other inputs) are no longer used.
    old = [name for name in output("podman", "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=" + BASE_REPO).split()
           if name != tag]
    if old:
        subprocess.run(["podman", "rmi", "--force", *old], capture_output=True, check=False)
    return tag


# --- 4.: the EE image --------------------------------------------------------------------------------------------

def local_definition(definition, base):
    """The documented definition, changed only where a local Debian base needs it."""
    definition["images"]["base_image"]["name"] = base
    # Debian's python3 is already there (no package_system to install); pip comes from python3-pip, as
    # Debian's Python refuses ensurepip; packages (bindep) would come from apt-get.
    definition["dependencies"]["python_interpreter"] = {"python_path": "/usr/bin/python3"}
    definition.setdefault("options", {}).update(package_manager_path="/usr/bin/apt-get", skip_pip_install=True)
    # Everything else as documented, the collection included: this checkout's tarball, placed by the caller.
    if {"src": "tencentcloud-cvm.tar.gz", "dest": "collections"} not in definition.get("additional_build_files", []):
        raise Failed("%s: additional_build_files no longer takes tencentcloud-cvm.tar.gz; update tests/awx/ee_build.py" % DEFINITION)
    return definition


def build_ca_files(options):
    """--build-ca files, then EE_EXTRA_CA_CERTS's; each must be a readable PEM certificate."""
    files = list(options) + [name for name in os.environ.get("EE_EXTRA_CA_CERTS", "").split(":") if name]
    for name in files:
        try:
            pem = Path(name).read_text(errors="replace")
        except OSError:
            pem = ""
        if "-----BEGIN CERTIFICATE-----" not in pem:
            raise Failed("--build-ca: '%s' is not a readable PEM certificate file" % name)
    return files


def build_ca_volume(files, work):
    """A folder mounted at /etc/xdg/pip (pip's site configuration) in every RUN step: pip.conf naming
    bundle.pem = the public CAs (certifi's bundle) + the extra ones. No files: no mount."""
    if not files:
        log("no build CA given (--build-ca): pip trusts the public CAs only")
        return []
    # The venv's certifi: the public CAs pip trusts by default.
    import certifi  # pylint: disable=import-outside-toplevel
    log("pip trusts during the build, in addition to the public CAs: %s" % " ".join(files))
    folder = work / "build-ca"
    folder.mkdir()
    (folder / "bundle.pem").write_text("".join(Path(name).read_text() for name in [certifi.where(), *files]))
    (folder / "pip.conf").write_text("[global]\ncert = /etc/xdg/pip/bundle.pem\n")
    return ["--volume", "%s:/etc/xdg/pip:ro" % folder]


def tls_preflight(ca_files, url=PYPI_PROBE, timeout=20):
    """Raise Failed when `url` presents a certificate that the build's pip would not trust (certifi's public CAs plus
    ca_files), through this machine's proxy settings as pip's would be. No answer at all is no verdict: the build
    reports its own network errors. Returns what was found, for the log."""
    import certifi  # pylint: disable=import-outside-toplevel  # the venv's: the public CAs pip trusts by default
    context = ssl.create_default_context(cafile=certifi.where())
    for name in ca_files:
        context.load_verify_locations(cafile=name)
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(url, timeout=timeout):  # the headers only: the body is never read
            return "%s: certificate trusted" % url
    except (urllib.error.URLError, ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise Failed(UNTRUSTED_PYPI) from exc
        if isinstance(exc, urllib.error.HTTPError):
            return "%s: certificate trusted (HTTP %d)" % (url, exc.code)
        return "%s: no answer (%s); the build will say more" % (url, reason)


def build_image(work, base, ca_files):
    # The venv's PyYAML, imported here: --help and the checks before the build need none of it.
    import yaml  # pylint: disable=import-outside-toplevel
    output("ansible-galaxy", "collection", "build", "--output-path", str(work / "collection"), str(REPO),
           what="ansible-galaxy collection build failed")
    # Where the documented definition expects it (additional_build_files, relative to the definition).
    tarball, = (work / "collection").glob("tencentcloud-cvm-*.tar.gz")
    tarball.rename(work / "tencentcloud-cvm.tar.gz")
    definition = local_definition(yaml.safe_load(DEFINITION.read_text(encoding="utf-8")), base)
    (work / "execution-environment.yml").write_text(yaml.safe_dump(definition, sort_keys=False), encoding="utf-8")
    extra = ["--network=host", "--label=%s.image=1" % LABEL, *build_ca_volume(ca_files, work)]
    log("ansible-builder build -> %s" % IMAGE)
    start, build_log = time.monotonic(), work / "ansible-builder.log"
    try:
        logged(["ansible-builder", "build", "--file", str(work / "execution-environment.yml"), "--context", str(work / "context"),
                "--tag", IMAGE, "--container-runtime", "podman", "--verbosity", "3", "--extra-build-cli-args", " ".join(extra)],
               build_log, "ansible-builder build failed (last lines above)", tail=60)
    except Failed as exc:
        if "CERTIFICATE_VERIFY_FAILED" in build_log.read_text(errors="replace"):
            raise Failed("ansible-builder build failed: " + UNTRUSTED_PYPI) from exc
        raise
    shutil.copy(build_log, CACHE / "last-build.log")
    log("built in %d s; size %s; log: %s" % (time.monotonic() - start, image_size(IMAGE), CACHE / "last-build.log"))
    # Layers of earlier builds that no tag uses any more; the last hour's stay as build cache.
    subprocess.run(["podman", "image", "prune", "--force", "--filter", "until=1h"], capture_output=True, check=False)


# --- 5. and 6.: the image's contents, the AWX-style jobs ---------------------------------------------------------

def in_image(*command, what=None):
    """A command in the image, as its default (non-root) user; labelled for cleanup."""
    return output("podman", "run", "--rm", "--network=none", "--label", "%s=%s" % (LABEL, RUN_ID), IMAGE, *command, what=what)


def check_image():
    doc = in_image("ansible-doc", "tencentcloud.cvm.cvm_keypair_association",
                   what="ansible-doc tencentcloud.cvm.cvm_keypair_association failed in the image")
    if "instance_ids" not in doc:
        raise Failed("ansible-doc in the image does not document instance_ids: %s" % doc)
    in_image("python3", "-c", "import tencentcloud.cvm.v20170312.cvm_client, ansible_runner, ansible",
             what="the SDK, ansible-runner or ansible-core cannot be imported in the image")
    # The versions the definition and the base promise: ansible --version's first line and its Python.
    version = in_image("ansible", "--version", what="ansible --version failed in the image")
    if not re.search(r"^ansible \[core %s\.[0-9]+" % re.escape(EXPECT_ANSIBLE_CORE), version, re.M):
        raise Failed("the image's ansible-core is not %s: %s" % (EXPECT_ANSIBLE_CORE, version))
    python = re.search(r"^  python version = (%s\.\S+)" % re.escape(EXPECT_PYTHON), version, re.M)
    if not python:
        raise Failed("the image's Python is not %s: %s" % (EXPECT_PYTHON, version))
    # No test output, no virtualenv, no CA from the build, no collection copy beyond the installed one.
    unwanted = in_image("sh", "-c", "find / -xdev \\( -name pyvenv.cfg -o -name .venv -o -path '*/tests/output' -o -name .pytest_cache "
                        "-o -name .nox -o -path '/etc/xdg/pip/*' \\) -print 2>/dev/null")
    if unwanted:
        raise Failed("the image holds files it must not (test output, virtualenv or build CA): %s" % unwanted)
    user = in_image("id", "-u")
    if user == "0":
        raise Failed("the image's default user is root")
    log("image contents: %s, Python %s; ansible-doc works, SDK importable, no test output/virtualenv/CA, user %s"
        % (version.splitlines()[0], python.group(1), user))


def run_jobs():
    """pytest drives ansible-runner and the emulator (tests/awx/test_ee_image.py)."""
    log("AWX-style jobs in the image (tests/awx/test_ee_image.py)")
    env = dict(os.environ, TC_EE_IMAGE=IMAGE, TC_EE_CONTAINER_LABEL="%s=%s" % (LABEL, RUN_ID))
    if run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(REPO / "tests" / "awx" / "test_ee_image.py")],
           env=env, cwd=REPO):
        raise Failed("the AWX-style jobs in the image (tests/awx/test_ee_image.py; see above)")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="scripts/ee-test", usage=USAGE, description=__doc__.split("\n\n", 1)[0],
                                     epilog=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", action="store_true", help="remove the caches first, then build and test")
    parser.add_argument("--build-ca", action="append", default=[], metavar="PEM", help="a CA pip trusts during the build")
    parser.add_argument("--preflight", action="store_true", help="only check that the build's pip will trust PyPI's certificate")
    args = parser.parse_args(argv)
    if args.preflight:
        try:
            log("preflight: " + tls_preflight(build_ca_files(args.build_ca)))
        except Failed as exc:
            print("ee-test preflight FAILED: %s" % exc, file=sys.stderr)
            return 1
        return 0
    start = time.monotonic()
    CACHE.mkdir(parents=True, exist_ok=True)
    interrupt_on_signals()
    with open(CACHE / ".lock", "w", encoding="utf-8") as lock, tempfile.TemporaryDirectory(prefix="tc-ee-test.") as tmp:
        # One run at a time per cache: they share the image store.
        fcntl.flock(lock, fcntl.LOCK_EX)
        work = Path(tmp)
        try:
            ca_files = build_ca_files(args.build_ca)
            install_tools(work)
            if args.cold:
                log("--cold: removing %s (images, storage, configuration)" % CACHE)
                remove_cache()
            configure_podman(work)
            try:
                build_image(work, base_image(work), ca_files)
                check_image()
                run_jobs()
            finally:
                remove_containers()
        except Failed as exc:
            print("\nee-test FAILED: %s" % exc, file=sys.stderr)
            log("failed (exit 1)")
            return 1
        except SystemExit as exc:
            log("failed (exit %s)" % exc.code)
            raise
    log("passed in %d s (load: %s)" % (time.monotonic() - start, " ".join(Path("/proc/loadavg").read_text().split()[:3])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
