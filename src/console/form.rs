//! Forms as browsers send them (`application/x-www-form-urlencoded`), read as an ordered
//! list of fields so that repeated ones (the allowed values, the checked repositories)
//! keep their order, and the CSRF check every POST makes before anything else.

use axum::body::Bytes;

use super::errors::PageError;
use super::session::Session;

/// The submitted fields, in order.
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &Bytes) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first value of `name`, or empty.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_string()
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect()
    }

    /// The session's own form, or the 403 that changes nothing.
    pub fn checked(body: &Bytes, session: &Session) -> Result<Self, PageError> {
        let fields = Self::parse(body);
        if session.csrf_matches(fields.get("csrf")) {
            Ok(fields)
        } else {
            Err(PageError::Csrf)
        }
    }
}

/// `value` as one component of a query string.
pub fn query_value(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_fields_keep_their_order() {
        let fields = Fields::parse(&Bytes::from_static(b"v=b&name=x+y&v=a%2A&v="));
        assert_eq!(fields.all("v"), ["b", "a*", ""]);
        assert_eq!(fields.get("name"), Some("x y"));
        assert_eq!(fields.get("none"), None);
    }
}
