#!/usr/bin/env python3
"""A private registry for a codespace, end to end, as a GitHub REST API client would do it.

    python3 docs/examples/private_registry.py http://127.0.0.1:8080 ADMIN_TOKEN

Creates the org `octo-org` with the repository `repo-a` and the member `mona` (if they are
not there yet), stores the Azure Container Registry triplet `ACR_CONTAINER_REGISTRY_SERVER`,
`_USER` and `_PASSWORD` as organization secrets sealed with PyNaCl (`pip install pynacl`),
creates a codespace whose image is on that registry, and prints its `registries` and its
creation log. It then checks that the password is in no answer but the orchestrator's read.
Only the standard library and PyNaCl; the README's "Walk-through: a private registry" runs it.
"""

import base64
import json
import sys
import urllib.error
import urllib.request

from nacl import encoding, public

API, ADMIN = sys.argv[1], sys.argv[2]
PASSWORD = "acr-password-5b7e1d"  # in real life: the registry's access key
IMAGE = "octoacr.azurecr.io/devcontainers/python:3.12"


def call(method, path, token, body=None):
    """One request; the decoded JSON answer (None when empty) and its headers."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(API + path, data=data, method=method)
    request.add_header("Authorization", "Bearer " + token)
    request.add_header("Accept", "application/vnd.github+json")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request) as response:
            text = response.read().decode()
            return (json.loads(text) if text else None), response.headers, text
    except urllib.error.HTTPError as error:
        sys.exit(f"{method} {path}: {error.code} {error.read().decode()}")


def seal(public_key_b64, value):
    """What GitHub's documentation shows: a sealed box for the public key, base64."""
    key = public.PublicKey(public_key_b64.encode("utf-8"), encoding.Base64Encoder())
    sealed = public.SealedBox(key).encrypt(value.encode("utf-8"))
    return base64.b64encode(sealed).decode("utf-8")


# The org, its repository and a member (PUTs are idempotent; the org may exist already).
orgs = urllib.request.Request(API + "/orgs", data=b'{"login":"octo-org"}', method="POST",
                              headers={"Authorization": "Bearer " + ADMIN,
                                       "Content-Type": "application/json"})
try:
    urllib.request.urlopen(orgs).read()
except urllib.error.HTTPError as error:
    if error.code != 409:
        sys.exit(f"POST /orgs: {error.code}")
call("PUT", "/orgs/octo-org/repos/repo-a", ADMIN)
call("PUT", "/orgs/octo-org/memberships/mona", ADMIN, {"role": "member"})

# Seal each value for the org's public key and PUT it, exactly as for GitHub.
key, _, _ = call("GET", "/orgs/octo-org/codespaces/secrets/public-key", ADMIN)
for name, value in [("ACR_CONTAINER_REGISTRY_SERVER", "octoacr.azurecr.io"),
                    ("ACR_CONTAINER_REGISTRY_USER", "octoacr"),
                    ("ACR_CONTAINER_REGISTRY_PASSWORD", PASSWORD)]:
    call("PUT", f"/orgs/octo-org/codespaces/secrets/{name}", ADMIN,
         {"encrypted_value": seal(key["key"], value), "key_id": key["key_id"],
          "visibility": "all"})

# The orchestrator creates a codespace whose image is on that registry.
service, _, _ = call("POST", "/service-tokens", ADMIN, {"name": "orchestrator"})
svc = service["token"]
codespace, _, created_text = call("POST", "/codespaces", svc, {
    "repository": "octo-org/repo-a", "user": "mona", "devcontainer": {"image": IMAGE}})
print("registries:", json.dumps(codespace["registries"]))
for line in codespace["creation_log"]:
    print("log:", line)

# The orchestrator's read is the one answer that holds the password.
secrets, headers, _ = call("GET", f"/codespaces/{codespace['id']}/secrets", svc)
assert headers["Cache-Control"] == "no-store"
opened = {s["name"]: s for s in secrets["secrets"]}
assert opened["ACR_CONTAINER_REGISTRY_PASSWORD"]["value"] == PASSWORD
print("orchestrator read:", ", ".join(f"{n} ({s['source']})" for n, s in opened.items()))

seen = [created_text]
for path in [f"/codespaces/{codespace['id']}", "/orgs/octo-org/codespaces",
             "/orgs/octo-org/codespaces/secrets",
             "/orgs/octo-org/codespaces/secrets/ACR_CONTAINER_REGISTRY_PASSWORD",
             "/orgs/octo-org/audit-log?per_page=100"]:
    seen.append(call("GET", path, svc if path.startswith("/codespaces") else ADMIN)[2])
assert not any(PASSWORD in text for text in seen), "the password leaked into an answer"
assert codespace["registries"] == [{"server": "octoacr.azurecr.io", "secret_prefix": "ACR"}]
assert any("with the credentials in ACR_CONTAINER_REGISTRY_*" in l for l in codespace["creation_log"])
print("the password is in no other answer")
