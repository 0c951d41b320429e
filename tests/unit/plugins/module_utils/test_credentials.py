# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Narrow unit tests of the credential chain (_credentials): each source, tccli profiles, role settings, and the
renewal of assumed-role keys by the expiry STS states (the STS call through a real CvmApi with a scripted SDK client)."""

from __future__ import annotations

import json

import pytest

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _credentials
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApi, CvmApiError, RateLimiter, SettingsError
from ansible_collections.tencentcloud.cvm.tests.unit.plugins.module_utils.fake_clock import FakeClock
# pylint: disable=protected-access  # a narrow unit test reaches the internals it is about

ROLE = "qcs::cam::uin/100000000001:roleName/ops"


@pytest.fixture
def no_ambient_credentials(monkeypatch, tmp_path):
    """No profile file, no instance role, no TKE: only what the test gives."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TKE_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_credentials._BoundedCvmRoleCredential, "get_credential", lambda self: None)
    real_exists = _credentials.os.path.exists
    monkeypatch.setattr(_credentials.os.path, "exists", lambda path: False if path == "/etc/tencentcloud/credentials" else real_exists(path))
    return tmp_path


@pytest.mark.usefixtures("no_ambient_credentials")
def test_explicit_credentials_win():
    cred = _credentials.resolve_credential("AKIDexample", "secretvalue", "tokenvalue")
    assert cred.get_credential_info() == ("AKIDexample", "secretvalue", "tokenvalue")


@pytest.mark.parametrize(
    "secret_id, secret_key, missing",
    [
        ("AKIDexample", None, "secret_key (TENCENTCLOUD_SECRET_KEY)"),
        (None, "secretvalue", "secret_id (TENCENTCLOUD_SECRET_ID)"),
    ],
)
@pytest.mark.usefixtures("no_ambient_credentials")
def test_half_a_key_is_refused(secret_id, secret_key, missing):
    with pytest.raises(SettingsError) as caught:
        _credentials.resolve_credential(secret_id, secret_key)
    assert missing in str(caught.value)
    assert "secretvalue" not in str(caught.value)


def test_profile_file_is_used(no_ambient_credentials):
    folder = no_ambient_credentials / ".tencentcloud"
    folder.mkdir()
    (folder / "credentials").write_text("[default]\nsecret_id = AKIDprofile\nsecret_key = profilesecret\n")
    assert _credentials.resolve_credential().get_credential_info()[:2] == ("AKIDprofile", "profilesecret")


@pytest.mark.usefixtures("no_ambient_credentials")
def test_instance_role_is_used_last(monkeypatch):
    class Role:
        def get_credential_info(self):
            return ("AKIDrole", "rolesecret", "roletoken")

    monkeypatch.setattr(_credentials._BoundedCvmRoleCredential, "get_credential", lambda self: Role())
    assert _credentials.resolve_credential().get_credential_info() == ("AKIDrole", "rolesecret", "roletoken")


@pytest.mark.usefixtures("no_ambient_credentials")
def test_no_credentials_message_names_every_way():
    with pytest.raises(SettingsError) as caught:
        _credentials.resolve_credential()
    assert str(caught.value) == _credentials.NO_CREDENTIALS_MSG
    for name in ("secret_id", "secret_key", "TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "~/.tencentcloud/credentials", "CAM role"):
        assert name in _credentials.NO_CREDENTIALS_MSG


@pytest.mark.usefixtures("no_ambient_credentials")
def test_sdk_default_chain_bare_oserror_is_not_what_we_raise():
    """The SDK's own provider chain ends in a bare OSError; ours ends in the readable message."""
    from tencentcloud.common import credential as sdk_credential  # pylint: disable=import-outside-toplevel

    with pytest.raises(OSError):
        sdk_credential.DefaultTkeOIDCRoleArnProvider().get_credential()
    with pytest.raises(SettingsError):
        _credentials.resolve_credential()


def write_tccli_profile(home, name="prod", credential=None, configure=None, folder_mode=0o700, file_mode=0o600):
    folder = home / ".tccli"
    folder.mkdir(exist_ok=True)
    path = folder / ("%s.credential" % name)
    path.write_text(json.dumps(credential if credential is not None else {"secretId": "AKIDtccli", "secretKey": "tcclisecret"}))
    path.chmod(file_mode)
    if configure is not None:
        (folder / ("%s.configure" % name)).write_text(json.dumps(configure))
    folder.chmod(folder_mode)
    return path


def test_tccli_profile_gives_its_keys_and_token(no_ambient_credentials):
    write_tccli_profile(no_ambient_credentials, credential={"secretId": "AKIDtccli", "secretKey": "tcclisecret", "token": "tccliToken"})
    assert _credentials.resolve_credential(profile="prod").get_credential_info() == ("AKIDtccli", "tcclisecret", "tccliToken")


def test_a_named_tccli_profile_wins_over_the_sdk_profile_file(no_ambient_credentials):
    folder = no_ambient_credentials / ".tencentcloud"
    folder.mkdir()
    (folder / "credentials").write_text("[default]\nsecret_id = AKIDprofile\nsecret_key = profilesecret\n")
    write_tccli_profile(no_ambient_credentials)
    assert _credentials.resolve_credential(profile="prod").get_credential_info()[0] == "AKIDtccli"
    assert _credentials.resolve_credential().get_credential_info()[0] == "AKIDprofile"


def test_tccli_profile_region_from_its_configure_file(no_ambient_credentials):
    write_tccli_profile(no_ambient_credentials, configure={"_sys_param": {"region": "ap-shanghai", "output": "json"}})
    assert _credentials.profile_region("prod") == "ap-shanghai"
    assert _credentials.profile_region(None) is None


@pytest.mark.usefixtures("no_ambient_credentials")
def test_missing_tccli_profile_names_the_file_and_the_fix():
    with pytest.raises(SettingsError) as caught:
        _credentials.resolve_credential(profile="nosuch")
    assert "nosuch.credential does not exist" in str(caught.value) and "tccli configure --profile nosuch" in str(caught.value)


def test_unreadable_tccli_profile_never_shows_its_text(no_ambient_credentials):
    path = write_tccli_profile(no_ambient_credentials)
    path.write_text('{"secretId": "AKIDtccli", "secretKey": "tcclisecret",')
    with pytest.raises(SettingsError) as caught:
        _credentials.resolve_credential(profile="prod")
    assert "cannot be read as tccli's JSON" in str(caught.value) and "tcclisecret" not in str(caught.value)


@pytest.mark.parametrize("name", ["../etc/passwd", "a b", "x" * 65, 5])
@pytest.mark.usefixtures("no_ambient_credentials")
def test_profile_names_are_checked(name):
    with pytest.raises(SettingsError, match="is not a tccli profile name"):
        _credentials.resolve_credential(profile=name)


def test_keys_and_profile_together_are_refused(no_ambient_credentials):
    write_tccli_profile(no_ambient_credentials)
    with pytest.raises(SettingsError, match="give one of them") as caught:
        _credentials.resolve_credential("AKIDexample", "secretvalue", profile="prod")
    assert "secretvalue" not in str(caught.value)


def test_tccli_profile_of_a_type_only_tccli_renews_is_refused(no_ambient_credentials):
    write_tccli_profile(no_ambient_credentials, credential={"type": "sso", "secretId": "AKIDx", "secretKey": "k"})
    with pytest.raises(SettingsError, match="only tccli itself can renew"):
        _credentials.resolve_credential(profile="prod")


@pytest.mark.parametrize(
    "folder_mode, file_mode, warned",
    [
        (0o700, 0o644, False),
        (0o755, 0o644, True),
        (0o755, 0o600, False),
        (0o750, 0o640, True),
    ],
)
def test_a_profile_other_users_can_read_is_warned_about(no_ambient_credentials, folder_mode, file_mode, warned):
    path = write_tccli_profile(no_ambient_credentials, folder_mode=folder_mode, file_mode=file_mode)
    warnings = []
    _credentials.resolve_credential(profile="prod", warn=warnings.append)
    assert bool(warnings) == warned
    if warned:
        assert str(path) in warnings[0] and "chmod 600" in warnings[0] and "tcclisecret" not in warnings[0]


def test_the_profile_names_a_role_when_role_arn_is_not_set(no_ambient_credentials):
    profile = {"secretId": "AKIDtccli", "secretKey": "tcclisecret", "role-arn": ROLE, "role-session-name": "from-tccli"}
    write_tccli_profile(no_ambient_credentials, credential=profile)
    credential = _credentials.connect({"profile": "prod", "endpoint": "http://127.0.0.1:9"}, "ap-guangzhou")
    assert isinstance(credential, _credentials.AssumedRoleCredential)
    assert credential.role_arn == ROLE and credential._params["RoleSessionName"] == "from-tccli"


@pytest.mark.parametrize(
    "settings, fragment",
    [
        (dict(role_arn="arn:aws:iam::1:role/x"), "role_arn 'arn:aws:iam::1:role/x' is not a CAM role ARN"),
        (dict(role_arn=ROLE, session_name="a"), "role_session_name 'a' is not valid"),
        (dict(role_arn=ROLE, session_name="has space"), "role_session_name 'has space' is not valid"),
        (dict(role_arn=ROLE, duration=0), "role_duration must be a whole number of seconds from 1 to 43200"),
        (dict(role_arn=ROLE, duration=43201), "got 43201"),
        (dict(role_arn=ROLE, duration=True), "got True"),
        (dict(role_arn=ROLE, external_id="bad id!"), "role_external_id (7 characters) is not valid"),
    ],
)
def test_role_settings_are_checked_before_any_request(settings, fragment):
    values = dict(dict(session_name=_credentials.DEFAULT_SESSION_NAME, duration=7200, external_id=None), **settings)
    with pytest.raises(SettingsError) as caught:
        _credentials.check_role_settings(values["role_arn"], values["session_name"], values["duration"], values["external_id"])
    assert fragment in str(caught.value)
    assert "bad id!" not in str(caught.value)


@pytest.mark.parametrize(
    "endpoint, sts_endpoint, expected",
    [
        (None, None, "sts.tencentcloudapi.com"),
        ("cvm.tencentcloudapi.com", None, "sts.tencentcloudapi.com"),
        ("https://cvm.ap-guangzhou.tencentcloudapi.com", None, "https://sts.ap-guangzhou.tencentcloudapi.com"),
        ("http://127.0.0.1:8400", None, "http://127.0.0.1:8400"),
        ("cvm.tencentcloudapi.com", "sts.internal.example", "sts.internal.example"),
    ],
)
def test_the_sts_endpoint_is_derived_from_the_cvm_endpoint(endpoint, sts_endpoint, expected):
    assert _credentials.sts_endpoint_for(endpoint, sts_endpoint) == expected


class ScriptedSts:
    """Stands in for the SDK client of the STS CvmApi: answers AssumeRole with keys that expire `lifetimes[i]` seconds later."""

    def __init__(self, wall, lifetimes=(), failures=()):
        self.wall = wall
        self.lifetimes = list(lifetimes)
        self.failures = list(failures)
        self.calls = []
        self.request = type("Request", (), {"conn": type("Conn", (), {"timeout": None})()})()

    def call_json(self, action, params):
        self.calls.append((action, dict(params)))
        if self.failures:
            raise self.failures.pop(0)
        number = len(self.calls)
        return {
            "Response": {
                "Credentials": {"TmpSecretId": "AKIDtmp%d" % number, "TmpSecretKey": "key%d" % number, "Token": "token%d" % number},
                "ExpiredTime": int(self.wall() + self.lifetimes.pop(0)),
                "Expiration": "",
                "RequestId": "req-%d" % number,
            }
        }


def assumed(monkeypatch, lifetimes=(), failures=(), duration=7200, external_id=None):
    """(an STS role credential whose assume-role calls answer `lifetimes` or raise `failures`, its client, its sleeps)."""
    clock = FakeClock()
    wall = FakeClock(1_800_000_000.0)

    def sleep(seconds):
        clock.sleep(seconds)
        wall.sleep(seconds)

    sts_api = CvmApi(
        _credentials.sdk_credential.Credential("AKIDbase", "basesecret"),
        "ap-guangzhou",
        endpoint="http://127.0.0.1:9",
        sleep=sleep,
        rng=lambda low, high: high,
        clock=clock,
        service="sts",
        version="2018-08-13",
    )
    client = ScriptedSts(wall, lifetimes, failures)
    monkeypatch.setattr(sts_api, "_sdk_client", lambda: client)
    monkeypatch.setattr(sts_api, "_limiter", lambda action: RateLimiter(1000, clock=clock, sleep=clock.sleep))
    credential = _credentials.AssumedRoleCredential(sts_api, ROLE, duration=duration, external_id=external_id, clock=clock, wall_clock=wall)
    return credential, client, sleep


def test_assumed_keys_are_renewed_by_the_expiry_the_answer_states(monkeypatch):
    """Asked for 7200 s, given 5 s: renewed once less than half of the 5 s is left, not after 7200 s."""
    credential, client, sleep = assumed(monkeypatch, lifetimes=[5, 5, 5])
    assert credential.get_credential_info() == ("AKIDtmp1", "key1", "token1")
    assert client.calls == [("AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "ansible-tencentcloud-cvm", "DurationSeconds": 7200})]
    sleep(2.4)
    assert credential.ensure_fresh() == 1 and len(client.calls) == 1
    sleep(0.2)
    assert credential.ensure_fresh() == 2 and credential.get_credential_info()[0] == "AKIDtmp2"
    assert len(client.calls) == 2


def test_long_sessions_are_renewed_five_minutes_before_they_expire(monkeypatch):
    credential, client, sleep = assumed(monkeypatch, lifetimes=[7200, 7200])
    credential.ensure_fresh()
    sleep(7200 - 301)
    credential.ensure_fresh()
    assert len(client.calls) == 1
    sleep(2)
    credential.ensure_fresh()
    assert len(client.calls) == 2


def test_external_id_is_sent_when_given(monkeypatch):
    credential, client, _sleep = assumed(monkeypatch, lifetimes=[60], external_id="role-external-id")
    credential.ensure_fresh()
    assert client.calls[0][1]["ExternalId"] == "role-external-id"


def test_a_refused_token_is_renewed_once_per_generation(monkeypatch):
    credential, client, _sleep = assumed(monkeypatch, lifetimes=[60, 60, 60])
    generation = credential.ensure_fresh()
    credential.renew_after_token_failure(generation)
    credential.renew_after_token_failure(generation)  # a second thread that saw the same refusal: already renewed
    assert len(client.calls) == 2 and credential.generation == 2


def test_a_failed_assume_role_says_it_was_assuming_the_role(monkeypatch):
    credential, client, _sleep = assumed(monkeypatch, failures=[TencentCloudSDKException("ResourceNotFound.RoleNotFound", "no role", "req-9")])
    with pytest.raises(CvmApiError) as caught:
        credential.ensure_fresh()
    text = caught.value.describe("read the instances", "ap-guangzhou", "http://127.0.0.1:9")
    assert text.startswith("Failed to read the instances: assuming the CAM role %s (role_arn) failed: no role (ResourceNotFound.RoleNotFound)." % ROLE)
    assert "check role_arn (TENCENTCLOUD_ROLE_ARN)" in text and "RequestId: req-9." in text
    assert len(client.calls) == 1


def test_sts_unauthorized_gets_the_role_hint_not_the_cvm_one(monkeypatch):
    credential, _client, _sleep = assumed(monkeypatch, failures=[TencentCloudSDKException("UnauthorizedOperation", "denied", "req-7")])
    with pytest.raises(CvmApiError) as caught:
        credential.ensure_fresh()
    assert "may not assume role_arn" in caught.value.describe("read", "ap-guangzhou", "http://127.0.0.1:9")


def test_sts_internal_errors_are_retried_like_the_cvm_ones(monkeypatch):
    credential, client, _sleep = assumed(monkeypatch, lifetimes=[60], failures=[TencentCloudSDKException("InternalError.SystemError", "x", "r")])
    assert credential.get_credential_info()[0] == "AKIDtmp2"
    assert len(client.calls) == 2
