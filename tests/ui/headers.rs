//! What every console answer carries, and that whatever a page shows is escaped.

use axum::http::StatusCode;

use crate::backend_tests;
use crate::client::{send, Client, Page};

fn assert_console_headers(page: &Page, what: &str) {
    let header = |name: &str| {
        page.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    let csp = header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "script-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{what}: {csp}");
    }
    assert_eq!(header("cache-control"), "no-store", "{what}");
    assert_eq!(header("referrer-policy"), "no-referrer", "{what}");
}

backend_tests! {
    async fn every_console_answer_forbids_framing_caching_and_foreign_scripts(app) {
        app.octo_org().await;
        let client = Client::login(&app, &app.admin).await;
        let anonymous = ["/ui/login", "/ui/static/console.css", "/ui/static/console.js", "/ui/orgs", "/ui/nothing-here"];
        for path in anonymous {
            assert_console_headers(&send(&app, "GET", path, "", None, &[]).await, path);
        }
        for path in ["/ui/orgs", "/ui/orgs/octo-org/codespaces/policies", "/ui/orgs/no-such-org/codespaces/policies", "/ui/orgs/octo-org/audit-log"] {
            assert_console_headers(&client.get(path).await, path);
        }
        let refused = client.post_raw("/ui/logout", &[]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_console_headers(&refused, "a refused form");
        // What the outer bounds answer carries them too: a body over the limit.
        let huge = "a".repeat(base_image_policy::app::MAX_BODY_BYTES + 1);
        let too_large = send(&app, "POST", "/ui/login", "", Some(huge),
            &[("content-type", "application/x-www-form-urlencoded")]).await;
        assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_console_headers(&too_large, "a body over the limit");
    }

    async fn a_policy_named_with_html_is_shown_as_text(app) {
        app.octo_org().await;
        let name = "<script>alert('x')</script><b>bold</b>";
        app.create_policy("octo-org", serde_json::json!({
            "name": name, "target": "all_repositories",
            "constraints": { "base_images": { "allowed_values": ["node:18"] } }
        })).await;
        let client = Client::login(&app, &app.admin).await;
        let page = client.get("/ui/orgs/octo-org/codespaces/policies").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.html.contains("&lt;script&gt;alert('x')&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;"), "{}", page.html);
        assert!(!page.html.contains("<script>alert"));
        assert!(!page.html.contains("<b>bold"));
    }

    async fn unknown_console_paths_answer_a_404_page(app) {
        let page = send(&app, "GET", "/ui/nothing/here", "", None, &[]).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(page.html.contains("<h1>Not found</h1>"));
    }
}
