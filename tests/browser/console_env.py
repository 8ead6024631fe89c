"""What the browser tests share: the running service over REST (to arrange and to check),
the browser's contexts, screenshots, and logging in as a person does."""

import itertools
import json
import urllib.error
import urllib.request

from playwright.sync_api import expect

_orgs = itertools.count(1)


class Env:
    """The running service, its admin token, the browser and where screenshots go."""

    def __init__(self, base, admin, browser, shots):
        self.base, self.admin, self.browser, self.shots = base, admin, browser, shots
        self.contexts = []

    def api(self, method, path, token=None, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {token or self.admin}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                text = answer.read()
                return answer.status, json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def org(self):
        """A fresh org with repo-a, repo-b, owner octocat and member mona: (org, tokens)."""
        org = f"octo-org-{next(_orgs)}"
        assert self.api("POST", "/orgs", body={"login": org})[0] == 201
        for repo in ("repo-a", "repo-b"):
            assert self.api("PUT", f"/orgs/{org}/repos/{repo}")[0] in (200, 201)
        tokens = {}
        for user, role in ((f"{org}-owner", "owner"), (f"{org}-member", "member")):
            assert self.api("PUT", f"/orgs/{org}/memberships/{user}", body={"role": role})[0] == 200
            tokens[role] = self.api("POST", f"/users/{user}/tokens", body={})[1]["token"]
        return org, tokens

    def policies(self, org):
        status, body = self.api("GET", f"/orgs/{org}/codespaces/policies")
        assert status == 200, body
        return body["policies"]

    def page(self, **options):
        context = self.browser.new_context(**options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        return context.new_page()

    def close_contexts(self):
        for context in self.contexts:
            context.close()
        self.contexts = []

    def shot(self, page, name):
        page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def login(self, token, **options):
        page = self.page(**options)
        page.goto(self.base + "/ui/login")
        page.get_by_label("Token").fill(token)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Organizations", exact=True)).to_be_visible()
        return page

    def policies_page(self, page, org):
        page.goto(f"{self.base}/ui/orgs/{org}/codespaces/policies")
        expect(page.get_by_role("heading", name="Codespaces policies", exact=True)).to_be_visible()
