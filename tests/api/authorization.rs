//! The authorization matrix: every route against every kind of caller, each answer the one
//! the contract gives, and no error body that says anything about another org.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    NoToken,
    BadToken,
    RevokedToken,
    Member,
    OwnerOfAnotherOrg,
    Service,
    Owner,
    SiteAdmin,
}

const EVERYONE: [Who; 8] = [
    Who::NoToken,
    Who::BadToken,
    Who::RevokedToken,
    Who::Member,
    Who::OwnerOfAnotherOrg,
    Who::Service,
    Who::Owner,
    Who::SiteAdmin,
];

/// Who may call a route, as the contract's tables say.
#[derive(Debug, Clone, Copy)]
enum Audience {
    Anyone,
    SiteAdmins,
    /// Site admins and org members.
    OrgMembers,
    /// Site admins and org owners.
    OrgOwners,
    /// Service tokens and site admins.
    Orchestrator,
    /// Service tokens alone (opened secret values).
    ServiceOnly,
}

/// A resource a route consumes, made afresh before each call.
#[derive(Debug, Clone, Copy)]
enum Fresh {
    Nothing,
    Policy,
    Membership,
    Token,
}

struct Route {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    audience: Audience,
    fresh: Fresh,
    success: StatusCode,
}

fn route(
    method: Method,
    path: &'static str,
    body: Option<Value>,
    audience: Audience,
    success: u16,
) -> Route {
    let success = StatusCode::from_u16(success).unwrap();
    Route {
        method,
        path,
        body,
        audience,
        fresh: Fresh::Nothing,
        success,
    }
}

fn routes() -> Vec<Route> {
    use Audience::*;
    let policy = json!({ "name": "p", "target": "all_repositories",
        "constraints": { "base_images": { "allowed_values": ["node:*"] } } });
    let codespace = json!({ "repository": "octo-org/repo-a", "user": "mona",
        "devcontainer": { "image": "node:18" } });
    let mut all = vec![
        route(Method::GET, "/healthz", None, Anyone, 200),
        route(Method::GET, "/readyz", None, Anyone, 200),
        route(
            Method::POST,
            "/orgs",
            Some(json!({ "login": "{unique}" })),
            SiteAdmins,
            201,
        ),
        route(
            Method::POST,
            "/users/{unique}/tokens",
            None,
            SiteAdmins,
            201,
        ),
        route(
            Method::POST,
            "/service-tokens",
            Some(json!({ "name": "x" })),
            SiteAdmins,
            201,
        ),
        route(Method::GET, "/orgs/octo-org", None, OrgMembers, 200),
        route(Method::GET, "/orgs/octo-org/repos", None, OrgMembers, 200),
        route(
            Method::PUT,
            "/orgs/octo-org/repos/repo-a",
            None,
            OrgOwners,
            200,
        ),
        route(
            Method::PUT,
            "/orgs/octo-org/memberships/hubot",
            Some(json!({ "role": "member" })),
            OrgOwners,
            200,
        ),
        route(
            Method::GET,
            "/orgs/octo-org/codespaces/billing",
            None,
            OrgOwners,
            200,
        ),
        route(
            Method::PUT,
            "/orgs/octo-org/codespaces/billing",
            Some(json!({ "mode": "members" })),
            OrgOwners,
            200,
        ),
        route(
            Method::GET,
            "/orgs/octo-org/codespaces/policies",
            None,
            OrgOwners,
            200,
        ),
        route(
            Method::POST,
            "/orgs/octo-org/codespaces/policies",
            Some(policy),
            OrgOwners,
            201,
        ),
        route(
            Method::GET,
            "/orgs/octo-org/codespaces/policies/{policy}",
            None,
            OrgOwners,
            200,
        ),
        route(
            Method::PATCH,
            "/orgs/octo-org/codespaces/policies/{policy}",
            Some(json!({ "name": "q" })),
            OrgOwners,
            200,
        ),
        route(
            Method::GET,
            "/orgs/octo-org/codespaces/policies/{policy}/revisions",
            None,
            OrgOwners,
            200,
        ),
        route(
            Method::POST,
            "/orgs/octo-org/codespaces/policies/{policy}/revisions/1/restore",
            None,
            OrgOwners,
            200,
        ),
        route(
            Method::POST,
            "/orgs/octo-org/codespaces/policies/evaluate",
            Some(json!({ "repository": "repo-a", "image": "node:18" })),
            OrgOwners,
            200,
        ),
        route(
            Method::GET,
            "/orgs/octo-org/codespaces",
            None,
            OrgOwners,
            200,
        ),
        route(
            Method::GET,
            "/orgs/octo-org/codespaces/compliance",
            None,
            OrgOwners,
            200,
        ),
        route(
            Method::POST,
            "/codespaces",
            Some(codespace),
            Orchestrator,
            201,
        ),
        route(
            Method::GET,
            "/codespaces/{codespace}",
            None,
            Orchestrator,
            200,
        ),
        route(
            Method::POST,
            "/codespaces/{codespace}/rebuild",
            Some(json!({ "full": false })),
            Orchestrator,
            200,
        ),
        route(
            Method::POST,
            "/orgs/octo-org/codespaces/policies/preview",
            Some(
                json!({ "policy": { "name": "p", "target": "all_repositories", "constraints": {} } }),
            ),
            OrgOwners,
            200,
        ),
        route(
            Method::GET,
            "/orgs/octo-org/codespaces/decisions",
            None,
            OrgOwners,
            200,
        ),
        route(
            Method::GET,
            "/codespaces/{codespace}/secrets",
            None,
            ServiceOnly,
            200,
        ),
        route(
            Method::GET,
            "/orgs/octo-org/codespaces/secrets",
            None,
            OrgOwners,
            200,
        ),
        route(
            Method::GET,
            "/repos/octo-org/repo-a/codespaces/secrets",
            None,
            OrgOwners,
            200,
        ),
        route(
            Method::PUT,
            "/orgs/octo-org/packages/container/tools",
            Some(json!({ "visibility": "public" })),
            OrgOwners,
            200,
        ),
        route(
            Method::GET,
            "/orgs/octo-org/packages/container/tools",
            None,
            OrgOwners,
            200,
        ),
        route(
            Method::PUT,
            "/orgs/octo-org/packages/container/tools/codespaces-access/repo-a",
            None,
            OrgOwners,
            204,
        ),
    ];
    let mut delete_policy = route(
        Method::DELETE,
        "/orgs/octo-org/codespaces/policies/{policy}",
        None,
        OrgOwners,
        204,
    );
    delete_policy.fresh = Fresh::Policy;
    let mut delete_member = route(
        Method::DELETE,
        "/orgs/octo-org/memberships/temp",
        None,
        OrgOwners,
        204,
    );
    delete_member.fresh = Fresh::Membership;
    let mut revoke = route(
        Method::POST,
        "/tokens/revoke",
        Some(json!({ "token": "{token}" })),
        SiteAdmins,
        204,
    );
    revoke.fresh = Fresh::Token;
    all.extend([delete_policy, delete_member, revoke]);
    all
}

fn expected(audience: Audience, who: Who, success: StatusCode) -> StatusCode {
    use Who::*;
    match (audience, who) {
        (Audience::Anyone, _) => success,
        (_, NoToken | BadToken | RevokedToken) => StatusCode::UNAUTHORIZED,
        (Audience::ServiceOnly, Service) => success,
        (Audience::ServiceOnly, _) => StatusCode::FORBIDDEN,
        (_, SiteAdmin) => success,
        (Audience::SiteAdmins, _) => StatusCode::FORBIDDEN,
        (Audience::OrgMembers, Member | Owner) => success,
        (Audience::OrgOwners, Owner) => success,
        (Audience::OrgOwners, Member) => StatusCode::FORBIDDEN,
        (Audience::OrgMembers | Audience::OrgOwners, OwnerOfAnotherOrg) => StatusCode::NOT_FOUND,
        (Audience::OrgMembers | Audience::OrgOwners, Service) => StatusCode::FORBIDDEN,
        (Audience::Orchestrator, Service) => success,
        (Audience::Orchestrator, _) => StatusCode::FORBIDDEN,
    }
}

struct Fixture {
    tokens: Vec<(Who, Option<String>)>,
    policy: String,
    codespace: String,
}

async fn arrange(app: &TestApp) -> Fixture {
    app.octo_org().await;
    app.create_org("other-org").await;
    app.set_role("other-org", "rival", "owner").await;
    let policy = app.allow_org_wide("octo-org", &["*"]).await["id"].to_string();
    // So that every PUT of it is an update (200).
    let package = app
        .put(
            "/orgs/octo-org/packages/container/tools",
            &app.admin,
            Some(json!({ "visibility": "public" })),
        )
        .await;
    assert_eq!(package.status, StatusCode::CREATED);
    let service = app.service_token().await;
    let codespace = app
        .create_codespace(
            &service,
            json!({ "repository": "octo-org/repo-a", "user": "mona" }),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let revoked = app.user_token("octocat").await;
    let revoked_status = app
        .post("/tokens/revoke", &app.admin, json!({ "token": revoked }))
        .await
        .status;
    assert_eq!(revoked_status, StatusCode::NO_CONTENT);
    let tokens = vec![
        (Who::NoToken, None),
        (Who::BadToken, Some("bip_0123456789abcdef".to_string())),
        (Who::RevokedToken, Some(revoked)),
        (Who::Member, Some(app.user_token("mona").await)),
        (Who::OwnerOfAnotherOrg, Some(app.user_token("rival").await)),
        (Who::Service, Some(service)),
        (Who::Owner, Some(app.user_token("octocat").await)),
        (Who::SiteAdmin, Some(app.admin.clone())),
    ];
    Fixture {
        tokens,
        policy,
        codespace,
    }
}

crate::backend_tests! {
    async fn every_route_answers_every_caller_as_the_contract_says(app) {
        let fixture = arrange(&app).await;
        let mut unique = 0;
        for route in routes() {
            for who in EVERYONE {
                let token = fixture.tokens.iter().find(|(w, _)| *w == who).and_then(|(_, t)| t.clone());
                unique += 1;
                let mut path = route.path
                    .replace("{policy}", &fixture.policy)
                    .replace("{codespace}", &fixture.codespace)
                    .replace("{unique}", &format!("u{unique}"));
                let mut body = route.body.clone().map(|b| {
                    serde_json::from_str::<Value>(&b.to_string().replace("{unique}", &format!("u{unique}"))).unwrap()
                });
                match route.fresh {
                    Fresh::Nothing => {}
                    Fresh::Policy => {
                        let id = app.allow_org_wide("octo-org", &["*"]).await["id"].to_string();
                        path = path.replace(&fixture.policy, &id);
                    }
                    Fresh::Membership => app.set_role("octo-org", "temp", "member").await,
                    Fresh::Token => {
                        let fresh = app.user_token(&format!("t{unique}")).await;
                        body = Some(json!({ "token": fresh }));
                    }
                }
                let response = app.request(route.method.clone(), &path, token.as_deref(), body).await;
                let want = expected(route.audience, who, route.success);
                assert_eq!(response.status, want, "{} {path} as {who:?}: {:?}", route.method, response.body);
                if !response.status.is_success() {
                    let keys: Vec<&String> = response.body.as_object().unwrap().keys().collect();
                    assert_eq!(keys, ["documentation_url", "message"], "{} {path} as {who:?}", route.method);
                    let text = response.body.to_string();
                    assert!(!text.contains("octo-org") && !text.contains("other-org"), "{text}");
                }
            }
        }
    }
}
