"""The owners' console in Chromium, following the seed's own steps, each result checked
against the REST API. Run by run.py, which passes each test an Env (console_env.py)."""

from playwright.sync_api import expect

def test_login_and_logout(env):
    org, tokens = env.org()
    page = env.page()
    page.goto(env.base + "/ui/login")
    env.shot(page, "login")
    page.get_by_label("Token").fill(tokens["owner"])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Organizations", exact=True)).to_be_visible()
    env.shot(page, "org-picker")
    page.get_by_role("link", name=org).click()
    expect(page.get_by_role("heading", name="Codespaces policies", exact=True)).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in", exact=True)).to_be_visible()
    page.goto(f"{env.base}/ui/orgs/{org}/codespaces/policies")
    expect(page.get_by_label("Token")).to_be_visible()
    assert page.url.endswith("/ui/login")


def test_a_wrong_token_is_refused(env):
    page = env.page()
    page.goto(env.base + "/ui/login")
    page.get_by_label("Token").fill("bip_not-a-token")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")


def create_with_seed_steps(env, page, org, name, values, repos):
    """The seed: Create policy, a name, Add constraint -> Base images, each value in
    Allowed values, All repositories then Selected repositories and the repositories, Save."""
    env.policies_page(page, org)
    page.get_by_role("link", name="Create policy").click()
    expect(page.get_by_role("heading", name="Create policy", exact=True)).to_be_visible()
    page.get_by_label("Name").fill(name)
    page.get_by_text("Add constraint").click()
    page.get_by_role("button", name="Base images").click()
    field = page.get_by_label("Allowed values")
    for value in values:
        field.fill(value)
        page.get_by_role("button", name="Add value").click()
    page.get_by_label("All repositories").check()
    page.get_by_label("Selected repositories").check()
    for repo in repos:
        page.get_by_label(repo, exact=True).check()
    env.shot(page, "create-policy")
    page.get_by_role("button", name="Save").click()


def test_create_edit_and_delete_a_policy_with_the_seeds_steps(env):
    org, tokens = env.org()
    page = env.login(tokens["owner"])
    values = ["mcr.microsoft.com/devcontainers/*", "node:18"]
    create_with_seed_steps(env, page, org, "Approved images", values, ["repo-a"])
    expect(page.get_by_role("status")).to_contain_text("Policy saved")
    env.shot(page, "policies")
    [policy] = env.policies(org)
    assert policy["name"] == "Approved images"
    assert policy["target"] == "selected_repositories"
    assert policy["repositories"] == ["repo-a"]
    assert policy["constraints"]["base_images"]["allowed_values"] == values

    page.get_by_role("link", name="Approved images").click()
    expect(page.get_by_role("heading", name="Edit policy Approved images", exact=True)).to_be_visible()
    env.shot(page, "edit-policy")
    page.get_by_role("button", name="Remove node:18").click()
    page.get_by_label("Allowed values").fill("python:3")
    page.get_by_label("Allowed values").press("Enter")
    page.get_by_label("All repositories").check()
    page.get_by_label("Report only").check()
    page.get_by_text("Add constraint").click()
    page.get_by_role("button", name="Maximum idle timeout").click()
    page.get_by_label("Maximum idle timeout").fill("30")
    page.get_by_text("Add constraint").click()
    page.get_by_role("button", name="Port visibility").click()
    page.get_by_label("The organization").check()
    env.shot(page, "edit-policy-other-constraints")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Policy saved")
    [policy] = env.policies(org)
    assert policy["constraints"]["max_idle_timeout_minutes"] == {"value": 30}
    assert policy["constraints"]["port_visibility"] == {"allowed_values": ["org"]}
    assert policy["constraints"]["base_images"]["allowed_values"] == [values[0], "python:3"]
    assert policy["target"] == "all_repositories" and policy["repositories"] == []
    assert policy["enforcement"] == "report"

    page.get_by_role("link", name="Approved images").click()
    page.get_by_role("link", name="Delete policy").click()
    expect(page.get_by_role("heading", name="Delete policy Approved images?", exact=True)).to_be_visible()
    env.shot(page, "delete-policy")
    assert len(env.policies(org)) == 1, "asking deletes nothing"
    page.get_by_role("button", name="Delete policy").click()
    expect(page.get_by_role("status")).to_contain_text("Policy deleted")
    assert env.policies(org) == []
    status, audit = env.api("GET", f"/orgs/{org}/audit-log")
    actions = [entry["action"] for entry in audit["entries"][:3]]
    assert actions == ["policy.delete", "policy.update", "policy.create"], actions


def test_a_refused_value_is_shown_beside_its_field(env):
    org, tokens = env.org()
    page = env.login(tokens["owner"])
    create_with_seed_steps(env, page, org, "Typo", ["node:18", "node 18"], [])
    error = page.locator("[id='constraints.base_images.allowed_values[1]-error']")
    expect(error).to_be_visible()
    field = page.get_by_label("Allowed value 2", exact=True)
    expect(field).to_have_value("node 18")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("The policy was not saved")
    env.shot(page, "refused-value")
    assert env.policies(org) == []


def test_a_member_and_another_orgs_owner_are_turned_away(env):
    org, tokens = env.org()
    other, other_tokens = env.org()
    member = env.login(tokens["member"])
    answer = member.goto(f"{env.base}/ui/orgs/{org}/codespaces/policies")
    assert answer.status == 403
    expect(member.get_by_role("heading", name="You cannot do this", exact=True)).to_be_visible()
    env.shot(member, "member-refused")
    stranger = env.login(other_tokens["owner"])
    answer = stranger.goto(f"{env.base}/ui/orgs/{org}/codespaces/policies")
    assert answer.status == 404
    expect(stranger.get_by_role("heading", name="Not found", exact=True)).to_be_visible()


def test_a_policy_named_with_html_is_shown_as_text(env):
    org, tokens = env.org()
    name = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    body = {"name": name, "target": "all_repositories",
            "constraints": {"base_images": {"allowed_values": ["node:18"]}}}
    assert env.api("POST", f"/orgs/{org}/codespaces/policies", body=body)[0] == 201
    page = env.login(tokens["owner"])
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    env.policies_page(page, org)
    expect(page.get_by_role("link", name=name)).to_have_text(name)
    assert page.locator("table img").count() == 0
    page.get_by_role("link", name=name).click()
    expect(page.get_by_label("Name")).to_have_value(name)
    env.shot(page, "html-name")
    assert dialogs == []


def test_a_form_posted_without_its_csrf_token_is_refused(env):
    org, tokens = env.org()
    # The page's CSP forbids scripts of ours; Playwright's own is let through here only.
    page = env.login(tokens["owner"], bypass_csp=True)
    env.policies_page(page, org)
    page.get_by_role("link", name="Create policy").click()
    page.get_by_label("Name").fill("No token")
    page.evaluate("document.querySelector('form.policy input[name=csrf]').remove()")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="This form was refused", exact=True)).to_be_visible()
    env.shot(page, "csrf-refused")
    assert env.policies(org) == []


def tab_to(page, matches, limit=80):
    """Presses Tab until the focused element satisfies the JS predicate `matches`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => {matches})(document.activeElement)"):
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline == "solid", f"no visible focus: {outline}"
            return
    raise AssertionError(f"Tab never reached {matches}")


def test_the_create_form_works_with_the_keyboard_alone(env):
    org, tokens = env.org()
    page = env.login(tokens["owner"])
    env.policies_page(page, org)
    tab_to(page, "el.textContent === 'Create policy'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Create policy", exact=True)).to_be_visible()
    tab_to(page, "el.id === 'name'")
    page.keyboard.type("Keyboard policy")
    tab_to(page, "el.textContent === 'Add constraint'")
    page.keyboard.press("Enter")
    tab_to(page, "el.textContent === 'Base images'")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Allowed values")).to_be_focused()
    page.keyboard.type("mcr.microsoft.com/devcontainers/*")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Allowed value 1", exact=True)).to_have_value("mcr.microsoft.com/devcontainers/*")
    tab_to(page, "el.id === 'target-all'")
    page.keyboard.press("ArrowDown")  # to "Selected repositories"
    tab_to(page, "el.value === 'repo-b'")
    page.keyboard.press("Space")
    tab_to(page, "el.textContent === 'Save'")
    env.shot(page, "keyboard-create")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Policy saved")
    [policy] = env.policies(org)
    assert policy["name"] == "Keyboard policy"
    assert policy["repositories"] == ["repo-b"]
    assert policy["constraints"]["base_images"]["allowed_values"] == ["mcr.microsoft.com/devcontainers/*"]


def test_test_an_image_preview_revisions_and_logs(env):
    org, tokens = env.org()
    body = {"name": "Node only", "target": "all_repositories",
            "constraints": {"base_images": {"allowed_values": ["node:18"]}}}
    status, policy = env.api("POST", f"/orgs/{org}/codespaces/policies", body=body)
    assert status == 201
    page = env.login(tokens["owner"])
    env.policies_page(page, org)
    page.get_by_role("link", name="Test an image").first.click()
    page.get_by_label("Repository").select_option("repo-a")
    page.get_by_label("Image").fill("python:3")
    page.get_by_role("button", name="Test image").click()
    expect(page.get_by_role("alert")).to_contain_text("Base image 'python:3' is not allowed")
    env.shot(page, "test-an-image")

    page.goto(f"{env.base}/ui/orgs/{org}/codespaces/policies/{policy['id']}")
    page.get_by_role("button", name="Remove node:18").click()
    page.get_by_label("Allowed values").fill("python:3")
    page.get_by_role("button", name="Add value").click()
    page.get_by_role("button", name="Preview change").click()
    expect(page.get_by_role("heading", name="Preview of this change", exact=True)).to_be_visible()
    env.shot(page, "preview")
    assert env.policies(org)[0]["constraints"]["base_images"]["allowed_values"] == ["node:18"]
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Policy saved")

    page.goto(f"{env.base}/ui/orgs/{org}/codespaces/policies/{policy['id']}/revisions")
    env.shot(page, "revisions")
    page.get_by_role("button", name="Restore revision 1").click()
    expect(page.get_by_role("status")).to_contain_text("Policy saved")
    assert env.policies(org)[0]["constraints"]["base_images"]["allowed_values"] == ["node:18"]

    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log", exact=True)).to_be_visible()
    expect(page.locator("table.audit tbody tr").first).to_contain_text("policy.restore")
    env.shot(page, "audit-log")
    page.get_by_role("link", name="Decision log").click()
    expect(page.get_by_role("heading", name="Decision log", exact=True)).to_be_visible()
    env.shot(page, "decision-log")


def test_the_seeds_steps_work_without_javascript(env):
    org, tokens = env.org()
    page = env.login(tokens["owner"], java_script_enabled=False)
    env.policies_page(page, org)
    page.get_by_role("link", name="Create policy").click()
    page.get_by_label("Name").fill("No script")
    page.get_by_text("Add constraint").click()
    page.get_by_role("button", name="Base images").click()
    expect(page.get_by_label("Allowed values")).to_be_focused()  # drawn again, focus kept
    page.get_by_label("Allowed values").fill("node:18")
    page.get_by_role("button", name="Add value").click()
    page.get_by_label("Allowed values").fill("python:3")
    page.get_by_label("Allowed values").press("Enter")  # the form's default button adds it
    page.get_by_label("Allowed values").fill("ruby:3")
    page.get_by_role("button", name="Add value").click()
    page.get_by_role("button", name="Remove python:3").click()
    expect(page.get_by_label("Allowed value 2", exact=True)).to_have_value("ruby:3")
    page.get_by_label("Selected repositories").check()
    page.get_by_label("repo-b", exact=True).check()
    env.shot(page, "create-policy-without-javascript")
    assert env.policies(org) == [], "nothing is saved before Save"
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Policy saved")
    [policy] = env.policies(org)
    assert policy["constraints"]["base_images"]["allowed_values"] == ["node:18", "ruby:3"]
    assert policy["repositories"] == ["repo-b"]
