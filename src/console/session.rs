//! Console sessions: a random id in an HttpOnly, SameSite=Strict cookie, kept in the store
//! only as its SHA-256, acting with the token it was opened with (by that token's hash, so
//! that revoking the token ends it), for at most [`SESSION_HOURS`] hours.

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use rand::RngExt;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::errors::PageError;
use super::Console;
use crate::auth::{Caller, InProcessCaller};
use crate::error::ApiError;

/// How long a session lasts from login, whatever is done with it.
pub const SESSION_HOURS: i64 = 8;
/// The session cookie.
pub const SESSION_COOKIE: &str = "bip_session";
/// The login form's own CSRF cookie, set before any session exists.
pub const LOGIN_COOKIE: &str = "bip_login";

/// A logged-in browser.
pub struct Session {
    /// The store's key for it: the SHA-256 of the cookie's id.
    pub id_hash: [u8; 32],
    /// What every form of the session carries; derived from the id, so bound to it.
    pub csrf: String,
    pub caller: Caller,
    /// How the API knows the caller when the console calls it in process.
    pub credential: InProcessCaller,
}

impl Session {
    /// Who is logged in, as the page header says it.
    pub fn who(&self) -> &str {
        match &self.caller {
            Caller::User(user) => &user.login,
            _ => "site admin",
        }
    }

    /// Whether `sent` is this session's CSRF token, compared in constant time.
    pub fn csrf_matches(&self, sent: Option<&str>) -> bool {
        sent.is_some_and(|sent| bool::from(sent.as_bytes().ct_eq(self.csrf.as_bytes())))
    }
}

/// A new random id: 32 bytes from the operating system's CSPRNG, hex-encoded.
pub fn new_id() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// The form in which a session id is stored.
pub fn id_hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// A session's CSRF token: a hash of its id under a label of its own, so that neither the
/// stored hash nor the token gives away the other or the id.
pub fn csrf_token(id: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"bip-console-csrf\0");
    hasher.update(id.as_bytes());
    hex::encode(hasher.finalize())
}

/// The value of cookie `name` in the request, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Whether the browser reached us over TLS (through a proxy that says so): then cookies
/// are `Secure`.
pub fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` for `name`, scoped to the console; `max_age` 0 deletes it.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: i64,
    secure: bool,
) -> (axum::http::HeaderName, HeaderValue) {
    let secure = if secure { "; Secure" } else { "" };
    let text =
        format!("{name}={value}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    // The name and value are ours (hex and fixed names), so the header is always valid.
    let value = HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""));
    (SET_COOKIE, value)
}

/// Seconds since the Unix epoch by the service's clock.
pub fn now(console: &Console) -> i64 {
    console.app.clock.now().timestamp()
}

/// No live session: the login page.
pub struct LoginRequired;

impl IntoResponse for LoginRequired {
    fn into_response(self) -> Response {
        Redirect::to("/ui/login").into_response()
    }
}

impl FromRequestParts<Console> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Response> {
        let id =
            cookie(&parts.headers, SESSION_COOKIE).ok_or_else(|| LoginRequired.into_response())?;
        let id_hash = id_hash(id);
        let store = &console.app.store;
        let record = store
            .find_session(&id_hash, now(console))
            .await
            .map_err(|e| PageError::from(ApiError::from(e)).into_response())?
            .ok_or_else(|| LoginRequired.into_response())?;
        let Ok(token_hash) = <[u8; 32]>::try_from(record.token_hash.as_slice()) else {
            return Err(LoginRequired.into_response());
        };
        let caller = match Caller::from_token_hash(&console.app, &token_hash).await {
            Ok(Caller::Service) | Err(ApiError::Unauthorized) => {
                // The token was revoked: the session ends with it.
                store
                    .delete_session(&id_hash)
                    .await
                    .map_err(|e| PageError::from(ApiError::from(e)).into_response())?;
                return Err(LoginRequired.into_response());
            }
            Ok(caller) => caller,
            Err(other) => return Err(PageError::from(other).into_response()),
        };
        Ok(Session {
            id_hash,
            csrf: csrf_token(id),
            caller,
            credential: InProcessCaller(token_hash),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_cookie_among_several() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; bip_session=abc; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn the_csrf_token_is_neither_the_id_nor_its_stored_hash() {
        let id = new_id();
        let csrf = csrf_token(&id);
        assert_ne!(csrf, id);
        assert_ne!(csrf, hex::encode(id_hash(&id)));
        assert_eq!(csrf, csrf_token(&id));
        assert_ne!(csrf, csrf_token(&new_id()));
    }
}
