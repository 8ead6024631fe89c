#!/usr/bin/env python3
"""Puts 300 Codespaces secrets in reach of one repository's codespaces, over the REST API,
sealed with PyNaCl exactly as GitHub's documentation tells its clients to seal them.

    scripts/load_secrets.py API ADMIN_TOKEN ORG REPO USER

100 at each level (the org's with visibility `all`, the repository's, and USER's selected
for REPO), among them 10 complete registry triplets whose three secrets sit at three
levels: `Rk_CONTAINER_REGISTRY_SERVER` at the org, `_USER` at the repository, `_PASSWORD`
at the user. R3's server is ghcr.io, so an image there is pulled with its credentials.
Used by scripts/load; prints nothing on success.
"""

import base64
import json
import sys
import urllib.request

from nacl import encoding, public


def call(api, method, path, token, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(api + path, data=data, method=method)
    request.add_header("Authorization", "Bearer " + token)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request) as response:
        text = response.read()
        return json.loads(text) if text else None


def seal(public_key, value):
    box = public.SealedBox(public.PublicKey(public_key.encode(), encoding.Base64Encoder()))
    return base64.b64encode(box.encrypt(value.encode())).decode()


def put_level(api, base, token, secrets, extra):
    key = call(api, "GET", base + "/public-key", token)
    for name, value in secrets:
        body = {"encrypted_value": seal(key["key"], value), "key_id": key["key_id"], **extra}
        call(api, "PUT", f"{base}/{name}", token, body)


def level(kind, suffix):
    """10 triplet secrets of `suffix`, then 90 plain ones, for one level."""
    triplet = [
        (f"R{k}_CONTAINER_REGISTRY_{suffix}",
         ("ghcr.io" if k == 3 else f"registry-{k}.example.com") if suffix == "SERVER"
         else f"{kind}-{suffix.lower()}-{k}")
        for k in range(10)
    ]
    plain = [(f"{kind.upper()}_SETTING_{k:02d}", f"{kind}-value-{k:02d}-" + "x" * 40) for k in range(90)]
    return triplet + plain


def main():
    api, admin, org, repo, user = sys.argv[1:6]
    repo_id = call(api, "PUT", f"/orgs/{org}/repos/{repo}", admin)["id"]
    user_token = call(api, "POST", f"/users/{user}/tokens", admin, {})["token"]
    put_level(api, f"/orgs/{org}/codespaces/secrets", admin, level("org", "SERVER"),
              {"visibility": "all"})
    put_level(api, f"/repos/{org}/{repo}/codespaces/secrets", admin, level("repo", "USER"), {})
    put_level(api, "/user/codespaces/secrets", user_token, level("user", "PASSWORD"),
              {"selected_repository_ids": [repo_id]})


if __name__ == "__main__":
    main()
