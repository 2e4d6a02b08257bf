//! Tokens: the App Service managed-identity endpoint that mints them, and the bearer check ARM routes apply.
//!
//! Tokens are unsigned-but-well-formed JWTs (RS256 header, a random signature segment): Azurite's
//! `--oauth basic` mode checks issuer, audience and times but not the signature, and the emulator's own ARM
//! check does the same. Token times are REAL time, because clients cache tokens by the wall clock.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::util::{b64url, b64url_decode};

/// The audience ARM tokens carry.
pub const ARM_AUDIENCE: &str = "https://management.azure.com";
/// The audience storage (Azurite) tokens carry.
pub const STORAGE_AUDIENCE: &str = "https://storage.azure.com";

/// A principal the identity endpoint can issue tokens for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Principal {
    /// Client (application) id; selected with the `client_id` query parameter.
    pub client_id: String,
    /// Object id: the principal throttling buckets are keyed by.
    pub object_id: String,
}

/// The claims the emulator writes and reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer, `https://sts.windows.net/<tenant>/`.
    pub iss: String,
    /// Audience (the requested resource without `/.default`).
    pub aud: String,
    /// Object id of the principal.
    #[serde(default)]
    pub oid: String,
    /// Application id.
    #[serde(default)]
    pub appid: String,
    /// Tenant id.
    #[serde(default)]
    pub tid: String,
    /// Subject.
    #[serde(default)]
    pub sub: String,
    /// Issued at (seconds since the epoch, real time).
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expiry.
    pub exp: i64,
}

/// The issuer string for a tenant.
pub fn issuer(tenant: &str) -> String {
    format!("https://sts.windows.net/{tenant}/")
}

/// Normalises a requested resource/scope into an audience: drops `/.default` and a trailing `/`.
pub fn audience_of(resource: &str) -> String {
    let r = resource.trim();
    let r = r.strip_suffix("/.default").unwrap_or(r);
    r.trim_end_matches('/').to_string()
}

/// Mints a token for `principal` and `resource`, valid for `lifetime_secs` of real time.
pub fn mint(tenant: &str, principal: &Principal, resource: &str, lifetime_secs: i64) -> (String, i64) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let exp = now + lifetime_secs;
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "backup-emulator"});
    let claims = Claims {
        iss: issuer(tenant),
        aud: audience_of(resource),
        oid: principal.object_id.clone(),
        appid: principal.client_id.clone(),
        tid: tenant.to_string(),
        sub: principal.object_id.clone(),
        iat: now,
        nbf: now - 300,
        exp,
    };
    // Header and claims always serialise; a failure would be a bug in serde_json, so fall back to "{}".
    let h = serde_json::to_vec(&header).unwrap_or_else(|_| b"{}".to_vec());
    let c = serde_json::to_vec(&claims).unwrap_or_else(|_| b"{}".to_vec());
    let sig = uuid::Uuid::new_v4().as_bytes().repeat(8);
    (format!("{}.{}.{}", b64url(&h), b64url(&c), b64url(&sig)), exp)
}

/// Why a bearer token was refused; mapped to ARM's 401 codes.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthError {
    /// No `Authorization` header (or not `Bearer`).
    Missing,
    /// The token cannot be decoded or has the wrong issuer/audience.
    Invalid(String),
    /// The token expired.
    Expired,
}

impl AuthError {
    /// ARM's error code.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "AuthenticationFailed",
            AuthError::Invalid(_) => "InvalidAuthenticationToken",
            AuthError::Expired => "ExpiredAuthenticationToken",
        }
    }
    /// ARM-like message.
    pub fn message(&self) -> String {
        match self {
            AuthError::Missing => "Authentication failed. The 'Authorization' header is missing.".into(),
            AuthError::Invalid(why) => format!("The access token is invalid: {why}."),
            AuthError::Expired => "The access token expiry UTC time is earlier than current UTC time.".into(),
        }
    }
}

/// Validates an `Authorization` header value for ARM and returns the claims.
pub fn validate_bearer(header: Option<&str>, tenant: &str) -> Result<Claims, AuthError> {
    validate_bearer_for(header, tenant, &[ARM_AUDIENCE, "https://management.core.windows.net"])
}

/// Validates an `Authorization` header value for one of `audiences` and returns the claims.
pub fn validate_bearer_for(header: Option<&str>, tenant: &str, audiences: &[&str]) -> Result<Claims, AuthError> {
    let value = header.ok_or(AuthError::Missing)?;
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(AuthError::Missing),
    };
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(AuthError::Invalid("a JWT has three dot-separated segments".into()));
    }
    let header = b64url_decode(parts[0])
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .ok_or_else(|| AuthError::Invalid("the JWT header is not base64url JSON".into()))?;
    if header.get("alg").and_then(|a| a.as_str()).is_none() {
        return Err(AuthError::Invalid("the JWT header has no 'alg'".into()));
    }
    let claims: Claims = b64url_decode(parts[1]).and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(|| {
        AuthError::Invalid("the JWT claims are not base64url JSON with iss, aud, iat, nbf, exp".into())
    })?;
    if claims.iss != issuer(tenant) {
        return Err(AuthError::Invalid(format!("issuer '{}' is not '{}'", claims.iss, issuer(tenant))));
    }
    if !audiences.contains(&audience_of(&claims.aud).as_str()) {
        return Err(AuthError::Invalid(format!("audience '{}' is not '{}/'", claims.aud, audiences.join("/' or '"))));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if claims.exp <= now {
        return Err(AuthError::Expired);
    }
    if claims.nbf > now + 300 {
        return Err(AuthError::Invalid("the token is not valid yet (nbf)".into()));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let p = Principal { client_id: "c".into(), object_id: "o".into() };
        let (tok, _) = mint("t", &p, "https://management.azure.com/.default", 3600);
        let claims = validate_bearer(Some(&format!("Bearer {tok}")), "t").unwrap();
        assert_eq!(claims.oid, "o");
        assert_eq!(claims.aud, "https://management.azure.com");
        assert_eq!(validate_bearer(None, "t").unwrap_err(), AuthError::Missing);
        assert!(matches!(validate_bearer(Some("Bearer abc"), "t"), Err(AuthError::Invalid(_))));
        assert!(matches!(validate_bearer(Some(&format!("Bearer {tok}")), "other"), Err(AuthError::Invalid(_))));
        let (st, _) = mint("t", &p, "https://storage.azure.com", 3600);
        assert!(matches!(validate_bearer(Some(&format!("Bearer {st}")), "t"), Err(AuthError::Invalid(_))));
        let (old, _) = mint("t", &p, "https://management.azure.com/", -10);
        assert_eq!(validate_bearer(Some(&format!("Bearer {old}")), "t").unwrap_err(), AuthError::Expired);
    }
}
