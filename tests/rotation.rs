//! The operator's key rotations with the real binary: `rotate-master-key` moves the stored
//! secrets to a new master key, after which a start with the old key refuses to serve and a
//! start with the new one serves the same values; `rotate-level-keys` gives levels new keys.

mod process;

use std::net::SocketAddr;
use std::process::Stdio;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use process::{
    free_port, http, octo_org, service, service_token, wait_until_ready, CANARY_ADMIN, SECRETS_KEY,
};

const NEW_KEY: &str = "Q0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0M=";

fn seal(key: &str, value: &str) -> String {
    let bytes: [u8; 32] = STANDARD.decode(key).unwrap().try_into().unwrap();
    let public = crypto_box::PublicKey::from(bytes);
    STANDARD.encode(
        public
            .seal(&mut crypto_box::aead::OsRng, value.as_bytes())
            .unwrap(),
    )
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON: {body}"))
}

/// Serves on `url` with `key` until `work` returns.
fn serving<T>(url: &str, key: &str, work: impl FnOnce(SocketAddr) -> T) -> T {
    let port = free_port();
    let mut child = service(url, port, key)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_until_ready(addr);
    let result = work(addr);
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn read_secrets(addr: SocketAddr) -> serde_json::Value {
    let service = service_token(addr);
    let create =
        r#"{"repository":"octo-org/repo-a","user":"mona","devcontainer":{"image":"node:18"}}"#;
    let (status, body) = http(addr, "POST", "/codespaces", &service, create);
    assert_eq!(status, 201, "{body}");
    let id = json(&body)["id"].as_str().unwrap().to_string();
    let (status, body) = http(
        addr,
        "GET",
        &format!("/codespaces/{id}/secrets"),
        &service,
        "",
    );
    assert_eq!(status, 200, "{body}");
    json(&body)["secrets"].clone()
}

#[test]
fn a_rotated_master_key_serves_the_same_values_and_the_old_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/rotate.db", dir.path().display());
    let before = serving(&url, SECRETS_KEY, |addr| {
        octo_org(addr, "member");
        let (_, key) = http(
            addr,
            "GET",
            "/orgs/octo-org/codespaces/secrets/public-key",
            CANARY_ADMIN,
            "",
        );
        let key = json(&key);
        let body = serde_json::json!({ "encrypted_value": seal(key["key"].as_str().unwrap(), "kept-value"),
            "key_id": key["key_id"], "visibility": "all" });
        let (status, _) = http(
            addr,
            "PUT",
            "/orgs/octo-org/codespaces/secrets/KEPT",
            CANARY_ADMIN,
            &body.to_string(),
        );
        assert_eq!(status, 201);
        read_secrets(addr)
    });

    let missing = service(&url, 0, SECRETS_KEY)
        .arg("rotate-master-key")
        .output()
        .unwrap();
    assert!(!missing.status.success(), "no new key given");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("NEW_SECRETS_KEY"));

    let rotated = service(&url, 0, SECRETS_KEY)
        .arg("rotate-master-key")
        .env("NEW_SECRETS_KEY", NEW_KEY)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&rotated.stdout);
    assert!(
        rotated.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(
        said.contains("Re-encrypted 1 secret values and 1 level private keys"),
        "{said}"
    );

    let old = service(&url, free_port(), SECRETS_KEY).output().unwrap();
    assert!(!old.status.success(), "the old key refuses to serve");
    let told = format!(
        "{}{}",
        String::from_utf8_lossy(&old.stdout),
        String::from_utf8_lossy(&old.stderr)
    );
    assert!(
        told.contains("is not the key the stored secrets were encrypted with"),
        "{told}"
    );

    let after = serving(&url, NEW_KEY, |addr| {
        let levels = service(&url, 0, NEW_KEY)
            .arg("rotate-level-keys")
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&levels.stdout).contains("Retired 1 level key pairs"));
        read_secrets(addr)
    });
    assert_eq!(before, after);
    assert_eq!(
        after,
        serde_json::json!([{ "name": "KEPT", "value": "kept-value", "source": "organization" }])
    );
}
