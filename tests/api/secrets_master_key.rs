//! The master key at start-up: a key the store's fingerprint does not match refuses to
//! start and overwrites nothing; a generated key file is private to its owner.

use std::os::unix::fs::PermissionsExt as _;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use base_image_policy::config::Config;
use base_image_policy::master_key::load_master_key;
use zeroize::Zeroizing;

use crate::backend_tests;

fn config_with_key(byte: u8, dir: &std::path::Path) -> Config {
    let mut config = Config::from_lookup(|_| None).unwrap();
    config.secrets_key = Some(Zeroizing::new(STANDARD.encode([byte; 32])));
    config.default_secrets_key_file = dir.join("secrets.key");
    config
}

backend_tests! {
    async fn a_start_with_another_master_key_refuses_to_serve_and_overwrites_nothing(app) {
        let dir = tempfile::tempdir().unwrap();
        let first = load_master_key(&config_with_key(1, dir.path()), app.store.as_ref()).await.unwrap();
        assert!(first.notice.is_none(), "a key from SECRETS_KEY is not announced");
        let wrong = load_master_key(&config_with_key(2, dir.path()), app.store.as_ref()).await;
        let message = wrong.err().expect("refused").to_string();
        assert!(message.contains("is not the key the stored secrets were encrypted with"), "{message}");
        assert!(message.contains("Refusing to serve; nothing was overwritten"), "{message}");
        assert!(message.contains(first.key.fingerprint()), "{message}");
        assert!(!message.contains(&STANDARD.encode([2u8; 32])), "never the key: {message}");
        let again = load_master_key(&config_with_key(1, dir.path()), app.store.as_ref()).await;
        assert!(again.is_ok(), "the first key's fingerprint is still the one recorded");
    }

    async fn a_generated_key_file_is_mode_0600_announced_once_and_reused(app) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::from_lookup(|_| None).unwrap();
        config.default_secrets_key_file = dir.path().join("secrets.key");
        let generated = load_master_key(&config, app.store.as_ref()).await.unwrap();
        let notice = generated.notice.expect("announced");
        assert!(notice.contains(&dir.path().join("secrets.key").display().to_string()), "{notice}");
        let text = std::fs::read_to_string(dir.path().join("secrets.key")).unwrap();
        assert!(!notice.contains(text.trim()), "the notice never holds the key");
        let mode = std::fs::metadata(dir.path().join("secrets.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let reused = load_master_key(&config, app.store.as_ref()).await.unwrap();
        assert!(reused.notice.is_none(), "said once");
        assert_eq!(reused.key.fingerprint(), generated.key.fingerprint());
    }
}
