//! Scrape credentials: the expected `Authorization` header and its check.
//!
//! Hand-written rather than tower-http's `ValidateRequestHeaderLayer`: that
//! one is deprecated and compares with `==`, which leaks through timing how
//! much of a guessed token was right.

use std::fmt;

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use base64::Engine as _;
use serde::{Deserialize, Serialize, Serializer};
use subtle::ConstantTimeEq as _;

/// Who may scrape. Compared in constant time; `Debug` never prints secrets.
///
/// In configuration, a table with `bearer_token`, or `username` and
/// `password`; serialised with `"<redacted>"` for the secrets (RobustMQ
/// prints its configuration at start-up).
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "AuthKeys", into = "AuthKeys")]
#[non_exhaustive]
pub enum Auth {
    /// `Authorization: Bearer <token>`, as Prometheus' `authorization.credentials` sends.
    Bearer(String),
    /// `Authorization: Basic ...`, as Prometheus' `basic_auth` sends.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Bearer(_) => f.write_str("Auth::Bearer(<redacted>)"),
            Auth::Basic { username, .. } => write!(f, "Auth::Basic({username:?}, <redacted>)"),
        }
    }
}

/// [`Auth`] as configuration keys.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct AuthKeys {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "redacted"
    )]
    bearer_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "redacted"
    )]
    password: Option<String>,
}

impl TryFrom<AuthKeys> for Auth {
    type Error = &'static str;

    /// The shape only; the values are checked by `RouteOptions::validate`.
    fn try_from(keys: AuthKeys) -> Result<Self, Self::Error> {
        match (keys.bearer_token, keys.username, keys.password) {
            (Some(token), None, None) => Ok(Auth::Bearer(token)),
            (None, Some(username), Some(password)) => Ok(Auth::Basic { username, password }),
            _ => Err("set either `bearer_token`, or `username` and `password`"),
        }
    }
}

impl From<Auth> for AuthKeys {
    fn from(auth: Auth) -> Self {
        match auth {
            Auth::Bearer(token) => AuthKeys {
                bearer_token: Some(token),
                username: None,
                password: None,
            },
            Auth::Basic { username, password } => AuthKeys {
                bearer_token: None,
                username: Some(username),
                password: Some(password),
            },
        }
    }
}

fn redacted<S: Serializer>(secret: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    secret.as_ref().map(|_| "<redacted>").serialize(s)
}

/// The `Authorization` value a scrape must send, computed once per router.
pub(crate) struct ExpectedAuth {
    header: Vec<u8>,
    /// The `WWW-Authenticate` challenge sent with a `401`.
    pub(crate) challenge: &'static str,
}

impl ExpectedAuth {
    pub(crate) fn new(auth: &Auth) -> Self {
        match auth {
            Auth::Bearer(token) => Self {
                header: format!("Bearer {token}").into_bytes(),
                challenge: "Bearer realm=\"metrics\"",
            },
            Auth::Basic { username, password } => {
                let credentials = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                Self {
                    header: format!("Basic {credentials}").into_bytes(),
                    challenge: "Basic realm=\"metrics\", charset=\"UTF-8\"",
                }
            }
        }
    }

    /// Whether `headers` carry the expected credentials. The time taken
    /// depends on the lengths only, not on where a guess goes wrong.
    pub(crate) fn admits(&self, headers: &HeaderMap) -> bool {
        let given = headers
            .get(AUTHORIZATION)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        bool::from(given.ct_eq(&self.header))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn basic_credentials_are_rfc7617_base64() {
        let expected = ExpectedAuth::new(&Auth::Basic {
            username: "Aladdin".into(),
            password: "open sesame".into(),
        });
        // The example of RFC 7617, section 2.
        assert!(expected.admits(&headers("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")));
        assert!(!expected.admits(&headers("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ")));
        assert!(!expected.admits(&HeaderMap::new()));
    }

    #[test]
    fn bearer_admits_only_the_exact_token() {
        let expected = ExpectedAuth::new(&Auth::Bearer("tok".into()));
        assert!(expected.admits(&headers("Bearer tok")));
        for wrong in ["Bearer to", "Bearer tok ", "Bearer tok1", "bearer tok", ""] {
            assert!(!expected.admits(&headers(wrong)), "{wrong:?}");
        }
    }

    #[test]
    fn debug_hides_secrets() {
        let s = format!(
            "{:?}",
            Auth::Basic {
                username: "prom".into(),
                password: "hunter2".into()
            }
        );
        assert!(!s.contains("hunter2"));
        assert!(!format!("{:?}", Auth::Bearer("tok".into())).contains("tok"));
    }
}
