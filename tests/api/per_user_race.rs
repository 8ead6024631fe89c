//! `max_codespaces_per_user` under concurrency: creations racing for a user's last allowed
//! codespace on two instances sharing PostgreSQL never both succeed.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::json;

use crate::instances::two_instances;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn creations_racing_on_two_instances_never_pass_the_per_user_limit() {
    let (first, second) = two_instances().await;
    first.octo_org().await;
    first
        .create_policy(
            "octo-org",
            json!({ "name": "Two each", "target": "all_repositories",
            "constraints": { "max_codespaces_per_user": { "value": 2 } } }),
        )
        .await;
    let service = first.service_token().await;
    let apps = [Arc::new(first), Arc::new(second)];
    for round in 0..4 {
        let user = format!("racer-{round}");
        apps[0].set_role("octo-org", &user, "member").await;
        let mut racing = Vec::new();
        for attempt in 0..12 {
            let app = Arc::clone(&apps[attempt % 2]);
            let body = json!({ "repository": "octo-org/repo-a", "user": user,
                "devcontainer": { "image": "node:18" } });
            let token = service.clone();
            racing.push(tokio::spawn(async move {
                app.create_codespace(&token, body).await.status
            }));
        }
        let mut created = 0;
        for task in racing {
            match task.await.expect("a creation") {
                StatusCode::CREATED => created += 1,
                StatusCode::BAD_REQUEST => {}
                other => panic!("a racing creation answered {other}"),
            }
        }
        assert_eq!(
            created, 2,
            "round {round}: {created} codespaces for a limit of 2"
        );
    }
}
