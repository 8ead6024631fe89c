//! Rotating keys: the master key (every stored ciphertext moved to a new key in one
//! transaction, the fingerprint with it) and the level key pairs (new public keys, stored
//! values still readable, PUTs sealed for a retired key refused).

use axum::http::StatusCode;
use base_image_policy::rotation::{rotate_level_keys, rotate_master_key, RotationError};
use base_image_policy::secrets::{value_aad, MasterKey};
use serde_json::json;

use crate::backend_tests;
use crate::helpers::TestApp;
use crate::secrets_support::{public_key, put_secret, repo_id, seal, stored_values};

const ORG: &str = "/orgs/octo-org/codespaces/secrets";
const USER: &str = "/user/codespaces/secrets";

async fn arrange(app: &TestApp) -> String {
    app.octo_org().await;
    let mona = app.user_token("mona").await;
    let a = repo_id(app, "octo-org", "repo-a").await;
    put_secret(
        app,
        ORG,
        &app.admin,
        "ORG_TOKEN",
        "org-value",
        json!({ "visibility": "all" }),
    )
    .await;
    put_secret(
        app,
        USER,
        &mona,
        "MINE",
        "user-value",
        json!({ "selected_repository_ids": [a] }),
    )
    .await;
    mona
}

backend_tests! {
    async fn a_master_key_rotation_moves_every_ciphertext_and_the_fingerprint(app) {
        arrange(&app).await;
        // As the service's start does.
        app.store.claim_master_key_fingerprint(app.state.master_key.fingerprint()).await.unwrap();
        let before = stored_values(&app).await;
        let new = MasterKey::generate().unwrap();
        let done = rotate_master_key(app.store.as_ref(), &app.state.master_key, &new).await.unwrap();
        assert_eq!((done.values, done.private_keys), (2, 2));
        let after = stored_values(&app).await;
        for ((level, owner, name, old), (_, _, _, now)) in before.iter().zip(&after) {
            let aad = value_aad(level, *owner, name);
            assert_ne!(old, now, "re-encrypted");
            assert!(app.state.master_key.decrypt(&aad, now).is_err(), "the old key no longer opens it");
            assert_eq!(new.decrypt_string(&aad, now).unwrap().as_str(),
                app.state.master_key.decrypt_string(&aad, old).unwrap().as_str());
        }
        let recorded = app.store.claim_master_key_fingerprint("another").await.unwrap();
        assert_eq!(recorded, new.fingerprint());
        // Run again with the old key as the current one: refused, nothing changed.
        let again = rotate_master_key(app.store.as_ref(), &app.state.master_key, &MasterKey::generate().unwrap()).await;
        assert!(matches!(again, Err(RotationError::Store(_))), "{again:?}");
        assert_eq!(stored_values(&app).await, after);
        let same = rotate_master_key(app.store.as_ref(), &new, &new).await;
        assert!(matches!(same, Err(RotationError::SameKey)));
    }

    async fn a_level_key_rotation_serves_new_keys_and_keeps_every_value(app) {
        let mona = arrange(&app).await;
        let (old_id, old_key) = public_key(&app, ORG, &app.admin).await;
        assert_eq!(rotate_level_keys(app.store.as_ref()).await.unwrap(), 2, "the org's and mona's");
        let (new_id, _) = public_key(&app, ORG, &app.admin).await;
        assert_ne!(new_id, old_id);
        let stale = app.put(&format!("{ORG}/ORG_TOKEN"), &app.admin, Some(json!({
            "encrypted_value": seal(&old_key, "v2"), "key_id": old_id, "visibility": "all" }))).await;
        assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", stale.body);
        assert_eq!(stale.body["errors"][0]["field"], "key_id");
        let fresh = put_secret(&app, USER, &mona, "SECOND", "v", json!({ "selected_repository_ids": [] })).await;
        assert_eq!(fresh.status, StatusCode::CREATED, "the user's new key is made on use");
        // Values stored before the rotation reach codespaces as before.
        let service = app.service_token().await;
        let created = app.create_codespace(&service, json!({ "repository": "octo-org/repo-a",
            "user": "mona", "devcontainer": { "image": "node:18" } })).await;
        let read = app.get(&format!("/codespaces/{}/secrets", created.body["id"].as_str().unwrap()), &service).await;
        assert_eq!(read.body, json!({ "secrets": [
            { "name": "MINE", "value": "user-value", "source": "user" },
            { "name": "ORG_TOKEN", "value": "org-value", "source": "organization" },
        ] }));
    }
}
