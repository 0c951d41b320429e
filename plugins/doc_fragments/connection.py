# -*- coding: utf-8 -*-
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
      - When neither O(secret_id) nor O(secret_key) is set anywhere, the credentials come from the profile file
        C(~/.tencentcloud/credentials) (section C([default]), keys C(secret_id) and C(secret_key)), and then from the CAM role of
        the CVM instance the module runs on.
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
  region:
    description:
      - The region of the instances and key pairs, for example V(ap-guangzhou).
      - If not set, the environment variable E(TENCENTCLOUD_REGION) is used. One of the two is required.
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
"""

    # For plugins (inventory): the same options, read from the environment through Ansible's configuration.
    # Modules get these fallbacks from their argument spec; plugins only from `env:` entries. Use it after
    # tencentcloud.cvm.connection, whose descriptions it keeps (fragments merge option by option).
    PLUGIN = r"""
options:
  secret_id:
    env:
      - name: TENCENTCLOUD_SECRET_ID
  secret_key:
    env:
      - name: TENCENTCLOUD_SECRET_KEY
  security_token:
    env:
      - name: TENCENTCLOUD_SECURITY_TOKEN
  region:
    env:
      - name: TENCENTCLOUD_REGION
  endpoint:
    env:
      - name: TENCENTCLOUD_ENDPOINT
  ca_bundle:
    env:
      - name: TENCENTCLOUD_CA_BUNDLE
  api_deadline:
    env:
      - name: TENCENTCLOUD_API_DEADLINE
  allow_insecure_http:
    env:
      - name: TENCENTCLOUD_ALLOW_INSECURE_HTTP
"""
