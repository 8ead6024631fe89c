//! `openapi.yaml` must be exactly what the code's handlers describe.
//! `UPDATE_OPENAPI=1 cargo test openapi` rewrites it.

use std::path::Path;

#[test]
fn openapi_yaml_matches_the_routes_in_the_code() {
    let generated = base_image_policy::routes::openapi_yaml().expect("generate the document");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.yaml");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write openapi.yaml");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "openapi.yaml differs from the handlers' documentation; \
         run `UPDATE_OPENAPI=1 cargo test openapi` and review the diff"
    );
}

#[test]
fn every_contract_path_is_documented() {
    let generated = base_image_policy::routes::openapi_yaml().unwrap();
    for path in [
        "/healthz:",
        "/readyz:",
        "/orgs:",
        "/orgs/{org}:",
        "/orgs/{org}/repos/{repo}:",
        "/orgs/{org}/repos:",
        "/orgs/{org}/memberships/{username}:",
        "/orgs/{org}/codespaces/billing:",
        "/orgs/{org}/codespaces/policies:",
        "/orgs/{org}/codespaces/policies/{policy_id}:",
        "/orgs/{org}/codespaces/policies/evaluate:",
        "/codespaces:",
        "/codespaces/{id}:",
        "/codespaces/{id}/rebuild:",
        "/codespaces/{id}/stop:",
        "/codespaces/{id}/start:",
        "/codespaces/{id}/ports/{port}:",
        "/orgs/{org}/codespaces:",
        "/orgs/{org}/codespaces/compliance:",
        "/users/{username}/tokens:",
        "/service-tokens:",
    ] {
        assert!(
            generated.contains(&format!("  {path}\n")),
            "{path} is missing"
        );
    }
}
