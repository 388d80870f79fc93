//! Short-lived HS256 access tokens, validated strictly.

use chrono::{DateTime, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::AuthSettings;

/// Marks an access token so no other kind of token can pass as one.
pub const ACCESS_TOKEN_TYPE: &str = "access";
/// Marks an API client's token: it opens the client endpoints only.
pub const CLIENT_TOKEN_TYPE: &str = "client";
const LEEWAY_SECONDS: u64 = 10;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
    /// The sign-in session (refresh-token family) this token belongs to.
    pub sid: String,
    pub typ: String,
}

/// An API client's token (client-credentials grant).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClientClaims {
    /// The client id.
    pub sub: String,
    /// Space-separated scopes granted.
    pub scope: String,
    /// The client's secret version when issued; rotation ends older tokens.
    pub ver: i32,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
    pub typ: String,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    pub ttl_seconds: i64,
}

impl TokenKeys {
    pub fn new(settings: &AuthSettings) -> TokenKeys {
        let secret = settings.jwt_secret.expose().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl_seconds: settings.access_token_ttl_seconds,
        }
    }

    pub fn issue(
        &self,
        user_id: &str,
        role: &str,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let claims = Claims {
            sub: user_id.to_owned(),
            role: role.to_owned(),
            iat: now.timestamp(),
            exp: now.timestamp() + self.ttl_seconds,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: uuid::Uuid::now_v7().to_string(),
            sid: session_id.to_owned(),
            typ: ACCESS_TOKEN_TYPE.to_owned(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("token signing failed: {e}"))
    }

    /// Checks signature, algorithm, expiry, issuer, audience and token kind.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        let claims: Claims = self.decode(token)?;
        if claims.typ != ACCESS_TOKEN_TYPE {
            return Err("not an access token".into());
        }
        Ok(claims)
    }

    pub fn issue_client(
        &self,
        client_id: &str,
        scope: &str,
        secret_version: i32,
        ttl_seconds: i64,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let claims = ClientClaims {
            sub: client_id.to_owned(),
            scope: scope.to_owned(),
            ver: secret_version,
            iat: now.timestamp(),
            exp: now.timestamp() + ttl_seconds,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: uuid::Uuid::now_v7().to_string(),
            typ: CLIENT_TOKEN_TYPE.to_owned(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("token signing failed: {e}"))
    }

    /// As [`TokenKeys::verify`], for an API client's token.
    pub fn verify_client(&self, token: &str) -> Result<ClientClaims, String> {
        let claims: ClientClaims = self.decode(token)?;
        if claims.typ != CLIENT_TOKEN_TYPE {
            return Err("not a client token".into());
        }
        Ok(claims)
    }

    /// Who a valid token of either kind speaks for (`user:<id>` or
    /// `client:<id>`), so limits can count per caller before any lookup.
    pub fn subject(&self, token: &str) -> Option<String> {
        if let Ok(claims) = self.verify(token) {
            return Some(format!("user:{}", claims.sub));
        }
        self.verify_client(token)
            .ok()
            .map(|claims| format!("client:{}", claims.sub))
    }

    fn decode<T: serde::de::DeserializeOwned>(&self, token: &str) -> Result<T, String> {
        decode::<T>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use base64::Engine;

    fn settings() -> AuthSettings {
        AuthSettings {
            jwt_secret: Secret::new("a-test-secret-that-is-long-enough-123"),
            issuer: "nru-helpdesk".into(),
            audience: "nru-helpdesk-api".into(),
            access_token_ttl_seconds: 900,
            refresh_token_ttl_seconds: 3600,
            idle_timeout_seconds: 900,
            login_max_failures_per_account_address: 5,
            login_max_failures_per_account: 50,
            login_max_failures_per_address: 20,
            login_window_seconds: 900,
            password_hash_memory_kib: 19 * 1024,
            password_hash_iterations: 2,
        }
    }

    fn b64(value: &serde_json::Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    }

    #[test]
    fn subject_names_people_and_clients_apart_and_nothing_for_a_bad_token() {
        let keys = TokenKeys::new(&settings());
        let person = keys.issue("u-1", "admin", "s-1", Utc::now()).unwrap();
        let client = keys
            .issue_client("c-1", "requests:read", 1, 900, Utc::now())
            .unwrap();
        assert_eq!(keys.subject(&person).as_deref(), Some("user:u-1"));
        assert_eq!(keys.subject(&client).as_deref(), Some("client:c-1"));
        assert_eq!(keys.subject(&format!("{person}x")), None);
        let other = TokenKeys::new(&AuthSettings {
            jwt_secret: Secret::new("another-secret-that-is-long-enough-456"),
            ..settings()
        });
        assert_eq!(other.subject(&person), None);
    }

    #[test]
    fn issued_token_verifies_with_its_claims() {
        let keys = TokenKeys::new(&settings());
        let token = keys.issue("user-1", "admin", "sess-1", Utc::now()).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims.sub, "user-1");
        assert_eq!(claims.sid, "sess-1");
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn expired_token_is_refused_beyond_the_leeway() {
        let keys = TokenKeys::new(&settings());
        let long_ago = Utc::now() - chrono::Duration::seconds(900 + 60);
        let token = keys.issue("user-1", "admin", "sess-1", long_ago).unwrap();
        assert!(keys.verify(&token).is_err());
    }

    #[test]
    fn wrong_audience_issuer_or_secret_is_refused() {
        let keys = TokenKeys::new(&settings());
        let mut other = settings();
        other.audience = "someone-else".into();
        let token = TokenKeys::new(&other)
            .issue("u", "admin", "s", Utc::now())
            .unwrap();
        assert!(keys.verify(&token).is_err());

        let mut other = settings();
        other.issuer = "someone-else".into();
        let token = TokenKeys::new(&other)
            .issue("u", "admin", "s", Utc::now())
            .unwrap();
        assert!(keys.verify(&token).is_err());

        let mut other = settings();
        other.jwt_secret = Secret::new("another-secret-that-is-long-enough-456");
        let token = TokenKeys::new(&other)
            .issue("u", "admin", "s", Utc::now())
            .unwrap();
        assert!(keys.verify(&token).is_err());
    }

    #[test]
    fn unsigned_alg_none_token_is_refused() {
        let keys = TokenKeys::new(&settings());
        let token = keys.issue("u", "admin", "s", Utc::now()).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let forged = format!(
            "{}.{payload}.",
            b64(&serde_json::json!({"alg": "none", "typ": "JWT"}))
        );
        assert!(keys.verify(&forged).is_err());
    }

    #[test]
    fn tampered_payload_is_refused() {
        let keys = TokenKeys::new(&settings());
        let token = keys.issue("u", "practitioner", "s", Utc::now()).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let now = Utc::now().timestamp();
        let forged_payload = b64(&serde_json::json!({
            "sub": "u", "role": "admin", "iat": now, "exp": now + 900,
            "iss": "nru-helpdesk", "aud": "nru-helpdesk-api", "jti": "j", "sid": "s", "typ": "access"
        }));
        let forged = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
        assert!(keys.verify(&forged).is_err());
    }

    #[test]
    fn a_signed_token_of_another_kind_is_refused() {
        let keys = TokenKeys::new(&settings());
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: "u".into(),
            role: "admin".into(),
            iat: now,
            exp: now + 900,
            iss: "nru-helpdesk".into(),
            aud: "nru-helpdesk-api".into(),
            jti: "j".into(),
            sid: "s".into(),
            typ: "refresh".into(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap();
        assert_eq!(keys.verify(&token).unwrap_err(), "not an access token");
    }

    #[test]
    fn client_and_person_tokens_never_pass_as_each_other() {
        let keys = TokenKeys::new(&settings());
        let client = keys
            .issue_client("c1", "requests:read", 3, 600, Utc::now())
            .unwrap();
        let claims = keys.verify_client(&client).unwrap();
        assert_eq!((claims.sub.as_str(), claims.ver), ("c1", 3));
        assert_eq!(claims.scope, "requests:read");
        assert!(keys.verify(&client).is_err());
        let person = keys.issue("u", "admin", "s", Utc::now()).unwrap();
        assert!(keys.verify_client(&person).is_err());
        let stale = keys
            .issue_client(
                "c1",
                "requests:read",
                3,
                600,
                Utc::now() - chrono::Duration::seconds(700),
            )
            .unwrap();
        assert!(keys.verify_client(&stale).is_err());
    }
}
