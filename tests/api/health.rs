use axum::http::{Method, StatusCode};
use base_image_policy::app::{bootstrap_admin_token, build_router, serve};
use base_image_policy::config::Config;
use base_image_policy::state::AppState;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests! {
    async fn healthz_and_readyz_answer_200_without_a_token(app) {
        let health = app.request(Method::GET, "/healthz", None, None).await;
        assert_eq!(health.status, StatusCode::OK);
        assert_eq!(health.body, json!({ "status": "ok" }));
        let ready = app.request(Method::GET, "/readyz", None, None).await;
        assert_eq!(ready.status, StatusCode::OK);
    }

    async fn an_unknown_path_answers_404_in_the_error_shape(app) {
        let response = app.get("/nope", &app.admin).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND);
        assert_eq!(response.body["message"], "Not Found");
        assert!(response.body["documentation_url"].is_string());
    }

    async fn a_generated_admin_token_is_created_once_and_works(app) {
        let config = Config::from_lookup(|_| None).unwrap();
        let token = bootstrap_admin_token(app.store.as_ref(), &config).await.unwrap();
        let token = token.expect("a token on first start");
        let again = bootstrap_admin_token(app.store.as_ref(), &config).await.unwrap();
        assert!(again.is_none(), "the token is generated only on first start");
        let state = AppState::new(app.store.clone(), config);
        let router = build_router(state.clone());
        let other = TestApp {
            router,
            store: app.store.clone(),
            state,
            admin: token.clone(),
            database: app.database.clone(),
            _dir: None,
        };
        let response = other.post("/orgs", &token, json!({ "login": "octo-org" })).await;
        assert_eq!(response.status, StatusCode::CREATED);
    }
}

/// One request over a real socket, through `serve` and graceful shutdown.
#[tokio::test]
async fn the_service_answers_over_a_real_socket_and_shuts_down_gracefully() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let timeout = std::time::Duration::from_secs(10);
    let server = tokio::spawn(serve(listener, app.router.clone(), timeout, async {
        let _ = stop_rx.await;
    }));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("{\"status\":\"ok\"}"), "{answer}");
    stop_tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}
