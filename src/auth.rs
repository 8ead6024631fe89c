//! Who is calling, and what they may do. Tokens are looked up by their hash
//! ([`crate::tokens`]) and compared in constant time.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;

use crate::billing::Role;
use crate::error::ApiError;
use crate::names::Name;
use crate::state::AppState;
use crate::store::{Org, TokenKind, User};
use crate::tokens::hash_token;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub enum Caller {
    SiteAdmin,
    User(User),
    /// The codespace orchestrator.
    Service,
}

/// The caller of a request the console makes to the API in process, named by the hash of
/// the token its session was opened with. Only code in this process can attach it: a
/// request extension is never read off the wire, so no HTTP client can set one.
#[derive(Debug, Clone)]
pub struct InProcessCaller(pub [u8; 32]);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(InProcessCaller(hash)) = parts.extensions.get::<InProcessCaller>() {
            return Caller::from_token_hash(state, hash).await;
        }
        let token = bearer_token(parts).ok_or(ApiError::Unauthorized)?;
        Caller::from_token_hash(state, &hash_token(token)).await
    }
}

impl Caller {
    /// The caller a token's hash stands for: 401 when no live token has it.
    pub async fn from_token_hash(state: &AppState, hash: &[u8; 32]) -> Result<Self, ApiError> {
        if let Some(admin) = state.admin_token_hash() {
            if bool::from(admin.ct_eq(hash)) {
                return Ok(Caller::SiteAdmin);
            }
        }
        let record = state
            .store
            .find_token(hash)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        // The lookup used the hash as a key; compare it again in constant time anyway, so
        // that correctness never rests on the database's comparison.
        if !bool::from(record.token_hash.as_slice().ct_eq(hash)) {
            return Err(ApiError::Unauthorized);
        }
        match (record.kind, record.user) {
            (TokenKind::SiteAdmin, _) => Ok(Caller::SiteAdmin),
            (TokenKind::Service, _) => Ok(Caller::Service),
            (TokenKind::User, Some(user)) => Ok(Caller::User(user)),
            (TokenKind::User, None) => Err(ApiError::Unauthorized),
        }
    }
}

/// `Authorization: Bearer <token>` (GitHub's `token <token>` form too).
fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    let known = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
    (known && !token.is_empty()).then_some(token)
}

impl Caller {
    /// Who the audit log says made a change.
    pub fn actor(&self) -> &str {
        match self {
            Caller::SiteAdmin => "site-admin",
            Caller::User(user) => &user.login,
            Caller::Service => "service",
        }
    }

    pub fn require_site_admin(&self) -> Result<(), ApiError> {
        match self {
            Caller::SiteAdmin => Ok(()),
            _ => Err(ApiError::Forbidden("Must be a site administrator")),
        }
    }

    /// The `/codespaces` endpoints: the orchestrator's service tokens and site admins.
    pub fn require_codespaces_service(&self) -> Result<(), ApiError> {
        match self {
            Caller::SiteAdmin | Caller::Service => Ok(()),
            Caller::User(_) => Err(ApiError::Forbidden(
                "Must be the codespace orchestrator (a service token) or a site administrator",
            )),
        }
    }

    /// Opened secret values: the orchestrator alone, which injects them into codespaces;
    /// not even a site admin reads them.
    pub fn require_service_only(&self) -> Result<(), ApiError> {
        match self {
            Caller::Service => Ok(()),
            _ => Err(ApiError::Forbidden(
                "Must be the codespace orchestrator (a service token)",
            )),
        }
    }
}

/// What an org route asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgAccess {
    /// Site admins and the org's owners and members.
    View,
    /// Site admins and the org's owners.
    Manage,
}

/// Finds the org and checks that the caller may reach it. An org the caller may not see at
/// all answers 404, as if it did not exist; one it sees but may not change answers 403.
pub async fn authorize_org(
    state: &AppState,
    caller: &Caller,
    org: &str,
    access: OrgAccess,
) -> Result<Org, ApiError> {
    let login = Name::parse(org).map_err(|_| ApiError::NotFound)?;
    let org = state
        .store
        .find_org(&login)
        .await?
        .ok_or(ApiError::NotFound)?;
    let role = match caller {
        Caller::SiteAdmin => return Ok(org),
        Caller::Service => {
            return Err(ApiError::Forbidden(
                "Service tokens may use only the /codespaces endpoints",
            ))
        }
        Caller::User(user) => state.store.role_of(org.id, user.id).await?,
    };
    match (role, access) {
        (Some(Role::Owner), _) | (Some(Role::Member), OrgAccess::View) => Ok(org),
        (Some(Role::Member), OrgAccess::Manage) => {
            Err(ApiError::Forbidden("Must be an organization owner"))
        }
        (Some(Role::OutsideCollaborator) | None, _) => Err(ApiError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearer_and_token_schemes_only() {
        let parts = |value: &str| {
            let request = axum::http::Request::builder()
                .header(AUTHORIZATION, value)
                .body(())
                .unwrap();
            request.into_parts().0
        };
        assert_eq!(bearer_token(&parts("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(&parts("token abc")), Some("abc"));
        assert_eq!(bearer_token(&parts("Basic abc")), None);
        assert_eq!(bearer_token(&parts("Bearer ")), None);
        assert_eq!(bearer_token(&parts("Bearer")), None);
    }
}
