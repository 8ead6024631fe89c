//! Creating, editing and deleting policies through the console's forms, each checked
//! against what the REST API then answers, and who is turned away.

use axum::http::StatusCode;
use serde_json::json;

use crate::backend_tests;
use crate::client::{api_policies, Client};

const LIST: &str = "/ui/orgs/octo-org/codespaces/policies";
const NEW: &str = "/ui/orgs/octo-org/codespaces/policies/new";

backend_tests! {
    async fn a_policy_created_with_the_seeds_steps_is_the_one_the_api_answers(app) {
        app.octo_org().await;
        let token = app.user_token("octocat").await;
        let client = Client::login(&app, &token).await;
        // "Add constraint" -> "Base images" draws the constraint, saving nothing.
        let added = client.post(NEW, NEW, &[("name", "Approved images"), ("intent", "add_constraint:base_images")]).await;
        assert_eq!(added.status, StatusCode::OK);
        assert!(added.html.contains("<legend>Base images</legend>"), "{}", added.html);
        assert!(added.html.contains(r#"<label for="base_images-new">Allowed values</label>"#));
        assert!(added.html.contains(r#"value="Approved images""#));
        assert_eq!(api_policies(&app, "octo-org").await["total_count"], 0);
        let saved = client.post(NEW, NEW, &[
            ("name", "Approved images"),
            ("constraint", "base_images"),
            ("base_images.allowed_values", "mcr.microsoft.com/devcontainers/*"),
            ("base_images.new_value", "node:18"),
            ("target", "selected_repositories"),
            ("repositories", "repo-a"),
            ("enforcement", "report"),
            ("intent", "save"),
        ]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
        let list = api_policies(&app, "octo-org").await;
        let policy = &list["policies"][0];
        assert_eq!(policy["name"], "Approved images");
        assert_eq!(policy["target"], "selected_repositories");
        assert_eq!(policy["repositories"], json!(["repo-a"]));
        assert_eq!(policy["enforcement"], "report");
        assert_eq!(policy["constraints"]["base_images"]["allowed_values"], json!(["mcr.microsoft.com/devcontainers/*", "node:18"]));
        assert_eq!(saved.location(), format!("{LIST}?saved={}", policy["id"]));
        let audit = app.get("/orgs/octo-org/audit-log", &app.admin).await;
        assert_eq!(audit.body["entries"][0]["action"], "policy.create");
        assert_eq!(audit.body["entries"][0]["actor"], "octocat", "the API's own audit, as the session's user");
        let page = client.get(LIST).await;
        assert!(page.html.contains("<h1>Codespaces policies</h1>"));
        assert!(page.html.contains("Approved images") && page.html.contains("Report only"));
    }

    async fn a_refused_value_is_shown_beside_its_field_and_nothing_is_stored(app) {
        app.octo_org().await;
        let client = Client::login(&app, &app.admin).await;
        let refused = client.post(NEW, NEW, &[
            ("name", "Bad"), ("target", "all_repositories"), ("enforcement", "enforce"),
            ("constraint", "base_images"),
            ("base_images.allowed_values", "node:18"),
            ("base_images.allowed_values", "node*18:x"),
            ("intent", "save"),
        ]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.html);
        let field = "constraints.base_images.allowed_values[1]";
        let input = format!(r#"id="{field}" type="text" name="base_images.allowed_values" value="node*18:x""#);
        assert!(refused.html.contains(&input), "{}", refused.html);
        assert!(refused.html.contains(&format!(r#"aria-describedby="{field}-error""#)));
        assert!(refused.html.contains(&format!(r#"<ul class="field-error" id="{field}-error"><li>"#)));
        assert!(!refused.html.contains("constraints.base_images.allowed_values[0]-error"));
        assert_eq!(api_policies(&app, "octo-org").await["total_count"], 0);
    }

    async fn an_edit_sends_if_match_and_a_stale_one_changes_nothing(app) {
        app.octo_org().await;
        let policy = app.allow_org_wide("octo-org", &["node:18"]).await;
        let id = policy["id"].as_i64().unwrap();
        let client = Client::login(&app, &app.admin).await;
        let edit = format!("{LIST}/{id}");
        let page = client.get(&edit).await;
        assert_eq!(page.status, StatusCode::OK);
        let version = page.field("version").expect("the ETag in the form");
        let csrf = page.field("csrf").unwrap();
        // Someone else saves first.
        let other = app.patch(&format!("/orgs/octo-org/codespaces/policies/{id}"), &app.admin, json!({"name": "Theirs"})).await;
        assert_eq!(other.status, StatusCode::OK);
        let fields = [
            ("csrf", csrf.as_str()), ("version", version.as_str()), ("name", "Mine"),
            ("target", "all_repositories"), ("enforcement", "enforce"), ("constraint", "base_images"),
            ("base_images.allowed_values", "python:3"), ("intent", "save"),
        ];
        let stale = client.post_raw(&edit, &fields).await;
        assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
        assert!(stale.html.contains("This policy changed since you opened it."), "{}", stale.html);
        let now = app.get(&format!("/orgs/octo-org/codespaces/policies/{id}"), &app.admin).await;
        assert_eq!(now.body["name"], "Theirs");
        // From a fresh page, the same edit is taken.
        let fresh = client.get(&edit).await.field("version").unwrap();
        let mut retry = fields;
        retry[1] = ("version", fresh.as_str());
        let saved = client.post_raw(&edit, &retry).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
        let now = app.get(&format!("/orgs/octo-org/codespaces/policies/{id}"), &app.admin).await;
        assert_eq!(now.body["name"], "Mine");
        assert_eq!(now.body["constraints"]["base_images"]["allowed_values"], json!(["python:3"]));
    }

    async fn deleting_asks_first_then_deletes_through_the_api(app) {
        app.octo_org().await;
        let policy = app.allow_org_wide("octo-org", &["node:18"]).await;
        let id = policy["id"].as_i64().unwrap();
        let client = Client::login(&app, &app.admin).await;
        let ask = format!("{LIST}/{id}/delete");
        let question = client.get(&ask).await;
        assert_eq!(question.status, StatusCode::OK);
        assert!(question.html.contains("Delete policy Org-wide images?"), "{}", question.html);
        assert_eq!(api_policies(&app, "octo-org").await["total_count"], 1, "asking deletes nothing");
        let version = question.field("version").unwrap();
        let done = client.post(&ask, &ask, &[("version", &version)]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
        assert_eq!(api_policies(&app, "octo-org").await["total_count"], 0);
        // Its revisions remain, and one restores it under the same id.
        let revisions = format!("{LIST}/{id}/revisions");
        let page = client.get(&revisions).await;
        assert!(page.html.contains("This policy is deleted"), "{}", page.html);
        let restored = client.post(&revisions, &format!("{revisions}/1/restore"), &[]).await;
        assert_eq!(restored.status, StatusCode::SEE_OTHER, "{}", restored.html);
        assert_eq!(api_policies(&app, "octo-org").await["policies"][0]["id"], id);
    }

    async fn a_member_is_refused_and_another_orgs_owner_finds_nothing(app) {
        app.octo_org().await;
        app.create_org("other-org").await;
        app.set_role("other-org", "hubot", "owner").await;
        let member = app.user_token("mona").await;
        let outsider = app.user_token("hubot").await;
        let member = Client::login(&app, &member).await;
        for path in [LIST, NEW, "/ui/orgs/octo-org/audit-log", "/ui/orgs/octo-org/codespaces/policies/evaluate"] {
            let page = member.get(path).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
            assert!(page.html.contains("Must be an organization owner"), "{}", page.html);
        }
        let refused = member.post("/ui/orgs", NEW, &[
            ("name", "Mine"), ("target", "all_repositories"), ("enforcement", "enforce"),
            ("constraint", "base_images"), ("base_images.allowed_values", "node:18"), ("intent", "save"),
        ]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.html);
        assert_eq!(api_policies(&app, "octo-org").await["total_count"], 0);
        let outsider = Client::login(&app, &outsider).await;
        for path in [LIST, NEW, "/ui/orgs/octo-org/codespaces/policies/1"] {
            assert_eq!(outsider.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
        }
    }

    async fn preview_and_evaluate_answer_without_changing_anything(app) {
        app.octo_org().await;
        app.allow_org_wide("octo-org", &["node:18"]).await;
        let client = Client::login(&app, &app.admin).await;
        let preview = client.post(NEW, NEW, &[
            ("name", "Only python"), ("target", "all_repositories"), ("enforcement", "enforce"),
            ("constraint", "base_images"), ("base_images.allowed_values", "python:3"), ("intent", "preview"),
        ]).await;
        assert_eq!(preview.status, StatusCode::OK, "{}", preview.html);
        assert!(preview.html.contains("Preview of this change"));
        assert!(preview.html.contains("Nothing has been saved."));
        assert_eq!(api_policies(&app, "octo-org").await["total_count"], 1);
        let evaluate = "/ui/orgs/octo-org/codespaces/policies/evaluate";
        let refused = client.post(evaluate, evaluate, &[("repository", "repo-a"), ("image", "python:3")]).await;
        assert_eq!(refused.status, StatusCode::OK);
        assert!(refused.html.contains("Base image &#39;python:3&#39; is not allowed") || refused.html.contains("Base image 'python:3' is not allowed"), "{}", refused.html);
        let allowed = client.post(evaluate, evaluate, &[("repository", "repo-a"), ("image", "node:18")]).await;
        assert!(allowed.html.contains("<strong>Allowed.</strong>"), "{}", allowed.html);
    }
}
