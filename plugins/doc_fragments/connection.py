# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The connection options shared by every tencentcloud.cvm module.
    DOCUMENTATION = r"""
options:
  secret_id:
    description:
      - The SecretId of a Tencent Cloud API key (CAM console, API keys).
      - If not set, the environment variable E(TENCENTCLOUD_SECRET_ID) is used.
      - When neither O(secret_id) nor O(secret_key) is set anywhere, the credentials come from the tccli profile O(profile) when
        it is set, else from the profile file C(~/.tencentcloud/credentials) (section C([default]), keys C(secret_id) and
        C(secret_key)), and then from the CAM role of the CVM instance the module runs on.
      - With O(role_arn), these credentials are the identity that assumes the role.
    type: str
  secret_key:
    description:
      - The SecretKey belonging to O(secret_id). Never shown in output or logs.
      - If not set, the environment variable E(TENCENTCLOUD_SECRET_KEY) is used.
    type: str
  security_token:
    description:
      - The security token of temporary credentials (STS, CAM role), given together with their O(secret_id) and O(secret_key).
        Never shown in output or logs.
      - If not set, the environment variable E(TENCENTCLOUD_SECURITY_TOKEN) is used.
    type: str
  profile:
    description:
      - The name of a tccli profile to take the credentials from, as C(tccli configure --profile NAME) writes them, in
        C(~/.tccli/NAME.credential) (C(secretId), C(secretKey), and C(token) for temporary keys; C(role-arn) and
        C(role-session-name) when O(role_arn) is not set), and the region from C(~/.tccli/NAME.configure) when O(region) is not set.
      - When set, it wins over the SDK's profile file C(~/.tencentcloud/credentials), which is then not read. Giving it together
        with O(secret_id) and O(secret_key) is refused.
      - A credential file that other users can read gets a warning.
      - If not set, the environment variable E(TENCENTCLOUD_PROFILE) is used.
    type: str
  role_arn:
    description:
      - Assume this CAM role (STS C(AssumeRole)) with the credentials found as described in O(secret_id), and call the API with
        its temporary keys, for example V(qcs::cam::uin/100000000001:roleName/cvm-ops).
      - The temporary keys are renewed before they expire (when less than 5 minutes, or half of a shorter lifetime, is left of
        the expiry the answer states), so a run may outlast O(role_duration).
      - The STS request goes to O(sts_endpoint), with the same O(ca_bundle), O(request_timeout), O(api_deadline) and retries as the
        CVM requests. Temporary keys and tokens never appear in output.
      - If not set, the environment variable E(TENCENTCLOUD_ROLE_ARN) is used.
    type: str
  role_session_name:
    description:
      - The session name of the assumed role, shown in CloudAudit; 2 to 128 letters, digits and C(=,.@_-).
      - If not set, the environment variable E(TENCENTCLOUD_ROLE_SESSION_NAME) is used, and then V(ansible-tencentcloud-cvm).
    type: str
  role_duration:
    description:
      - How long each set of temporary keys of O(role_arn) is valid, in seconds, from 1 to V(43200) (12 hours, the API's maximum);
        the role's maximum session duration may be lower.
      - If not set, the environment variable E(TENCENTCLOUD_ROLE_DURATION) is used.
    type: int
    default: 7200
  role_external_id:
    description:
      - The external ID the role's trust policy requires (C(ExternalId) of C(AssumeRole)), 2 to 128 letters, digits and C(=,.@:/-).
        Never shown in output.
      - If not set, the environment variable E(TENCENTCLOUD_ROLE_EXTERNAL_ID) is used.
    type: str
  sts_endpoint:
    description:
      - The STS endpoint for O(role_arn), in the forms of O(endpoint).
      - If not set, the environment variable E(TENCENTCLOUD_STS_ENDPOINT) is used; else it is derived from O(endpoint)
        (V(cvm.X) becomes V(sts.X); any other endpoint, like the collection's local emulator, is used for STS too); else
        V(sts.tencentcloudapi.com).
    type: str
  region:
    description:
      - The region of the instances and key pairs, for example V(ap-guangzhou).
      - If not set, the environment variable E(TENCENTCLOUD_REGION) is used, and then the region of the tccli O(profile).
        One of them is required.
    type: str
  endpoint:
    description:
      - The CVM API endpoint. V(host) or V(host:port) means HTTPS; a URL starting with V(http://) or V(https://) is used as given.
      - If not set, the environment variable E(TENCENTCLOUD_ENDPOINT) is used, and then the public endpoint V(cvm.tencentcloudapi.com).
      - Point it at the collection's local CVM emulator (for example V(http://127.0.0.1:8400)) to test playbooks offline.
      - A V(http://) endpoint that is not this machine (by its text, not V(localhost), 127.0.0.0/8 or V([::1])) sends the signed
        C(Authorization) header, the security token and every request and answer, including the private key of a key pair
        M(tencentcloud.cvm.cvm_keypair) creates, unencrypted; the module warns once per run unless O(allow_insecure_http=true).
      - User info (V(user:password@host)) is refused, and never shown (the result shows the endpoint with C(***) in its place).
      - An endpoint without a scheme means HTTPS; against a server that speaks plain HTTP the TLS handshake fails at once (not
        retried) and the message says to write V(http://).
    type: str
  allow_insecure_http:
    description:
      - Silence the warning about a plain V(http://) O(endpoint) that is not this machine, on a network you trust.
        Plain HTTP is allowed either way; this only says you know what travels unencrypted.
      - If not set, the environment variable E(TENCENTCLOUD_ALLOW_INSECURE_HTTP) is used.
    type: bool
    default: false
  ca_bundle:
    description:
      - Path of a PEM file of CA certificates to verify the endpoint's HTTPS certificate with, instead of the bundled public CAs.
      - Certificate verification cannot be turned off; name the CA of a private or self-signed endpoint here.
      - If not set, the environment variable E(TENCENTCLOUD_CA_BUNDLE) is used.
    type: path
  rate_limit_url:
    description:
      - A Redis server that keeps the client-side rate limit for every process of every machine that names it. The budget of
        each API action is shared per account (a hash of O(secret_id)), region and endpoint, as the processes of one machine share
        it without this option. Use it when several machines or pods (AWX execution nodes, container groups, sliced jobs) call the
        API with one account.
      - V(redis://host[:port][/db]), V(rediss://host[:port][/db]) (TLS, see O(rate_limit_ca_bundle)) or V(unix:///path/to/socket).
        Any other scheme is refused before any request.
      - A password may be given in the URL (V(redis://:password@host)) or in O(rate_limit_password); it is never shown (messages and
        the invocation show C(***) in its place).
      - If the server cannot be used (unreachable, lost in mid-run, slower than 1 s, refusing the password, answering what is not
        Redis), the module warns once, naming the URL without its password, and goes on with the single-machine limit. It never
        waits on the server for longer than one connect and one answer timeout.
      - Needs the Python library C(redis) on the host that runs the module (in the collection's C(requirements.txt)); without this
        option it is never imported.
      - If not set, the environment variable E(TENCENTCLOUD_RATE_LIMIT_URL) is used. Not set means the single-machine limit.
    type: str
  rate_limit_password:
    description:
      - The password of the O(rate_limit_url) server, when the URL holds none. Never shown in output or logs.
      - If not set, the environment variable E(TENCENTCLOUD_RATE_LIMIT_PASSWORD) is used.
    type: str
  rate_limit_ca_bundle:
    description:
      - Path of a PEM file of CA certificates to verify a V(rediss://) O(rate_limit_url) server's certificate with, instead of
        the system's CAs.
      - If not set, the environment variable E(TENCENTCLOUD_RATE_LIMIT_CA_BUNDLE) is used.
    type: path
  request_timeout:
    description:
      - The longest one attempt of an API request may take, in seconds, before it counts as a network error (which is retried
        a few times). Connecting gets a third of it (at most 10 seconds), waiting for the answer the rest.
      - At most V(86400) (one day); larger values are refused before any request.
    type: int
    default: 30
  api_deadline:
    description:
      - The longest one API call may take with all its retries, in seconds. No retry starts that could not end within it;
        the last attempt gets a shorter O(request_timeout), or the call fails saying how long it took, how many attempts it
        made and the last cause.
      - Counted are the time spent waiting for answers and the pauses between retries after network and service errors.
        Not counted are waiting for the client-side rate limit, the pauses after throttling and after a busy instance (each
        bounded by its own number of attempts), and waiting for operations to finish (C(wait_timeout) where a module has it).
      - At most V(86400) (one day); larger values are refused before any request.
      - If not set, the environment variable E(TENCENTCLOUD_API_DEADLINE) is used.
    type: int
    default: 60
notes:
  - Requests are rate limited on the client to the documented API limits (10 requests per second per key-pair action,
    40 per second for C(DescribeInstances)) and retried with jittered exponential backoff on throttling, network errors and
    transient service errors, within O(api_deadline) per call. An endpoint that does not answer, refuses connections or does
    not resolve is tried three times. Permanent errors (authentication, invalid input, quota) fail at once.
  - Failures carry an C(error) dictionary with the API's C(code), C(message), C(request_id) and the C(action) attempted.
requirements:
  - python >= 3.9
  - tencentcloud-sdk-python-common
  - tencentcloud-sdk-python-cvm
  - tenacity
"""
