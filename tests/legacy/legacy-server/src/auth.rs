//! Bearer-token authentication shared by gRPC and REST: the static API keys
//! of the configuration, compared in constant time. Tokens are never
//! logged. What an authenticated principal may call is `permissions.rs`.

use uuid::Uuid;

use crate::config::Config;
pub use crate::permissions::{PrincipalKind, Role};

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub org_id: Uuid,
    pub kind: PrincipalKind,
    pub id: String,
    /// A user's role (workers have none).
    pub role: Option<Role>,
}

impl Principal {
    /// May this principal call `endpoint` of `table` ([`crate::permissions`])?
    pub fn may_call(
        &self,
        table: &[(&str, crate::permissions::Allowed)],
        endpoint: &str,
    ) -> Result<(), crate::permissions::Denied> {
        crate::permissions::check(table, endpoint, self.kind, self.role)
    }
}

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing authorization header (expected `Bearer <token>`)")]
    Missing,
    #[error("authorization header is not `Bearer <token>`")]
    Malformed,
    #[error("unknown token")]
    Unknown,
}

/// The configured keys.
#[derive(Clone)]
pub struct Authenticator {
    keys: Vec<(Vec<u8>, Principal)>,
    enabled: bool,
    /// The principal used when auth is disabled: the first org.
    anonymous: Option<Principal>,
}

impl Authenticator {
    pub fn new(config: &Config) -> Self {
        let keys = config
            .auth
            .static_api_key
            .keys
            .iter()
            .map(|k| {
                let principal = Principal {
                    org_id: k.org_id,
                    kind: k.principal_type,
                    id: k.principal_id.clone(),
                    role: k.role,
                };
                (k.key.as_bytes().to_vec(), principal)
            })
            .collect();
        let anonymous = config.orgs.first().map(|o| Principal {
            org_id: o.id,
            kind: PrincipalKind::User,
            id: "anonymous".into(),
            role: Some(Role::Admin),
        });
        Authenticator {
            keys,
            enabled: config.auth.enabled,
            anonymous,
        }
    }

    /// Authenticates an `authorization` header value.
    pub fn authenticate(&self, header: Option<&str>) -> Result<Principal, AuthError> {
        if !self.enabled {
            if let Some(anonymous) = &self.anonymous {
                return Ok(anonymous.clone());
            }
        }
        let header = header.ok_or(AuthError::Missing)?;
        let token = header.strip_prefix("Bearer ").ok_or(AuthError::Malformed)?.trim();
        if token.is_empty() {
            return Err(AuthError::Malformed);
        }
        // Compare against every key, whatever matches first: the time taken
        // does not depend on which key (or how much of one) matched.
        let mut found = None;
        for (key, principal) in &self.keys {
            if constant_time_eq(key, token.as_bytes()) && found.is_none() {
                found = Some(principal.clone());
            }
        }
        found.ok_or(AuthError::Unknown)
    }
}

/// Equality whose running time depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ApiKeyConfig, OrgConfig};

    fn auth() -> (Authenticator, Uuid) {
        let org = Uuid::new_v4();
        let mut config = Config::default();
        config.orgs.push(OrgConfig {
            id: org,
            name: "o".into(),
            slug: "o".into(),
            tier: None,
        });
        config.auth.enabled = true;
        config.auth.static_api_key.keys.push(ApiKeyConfig {
            key: "flovyn_wk_test_abc".into(),
            org_id: org,
            principal_type: PrincipalKind::Worker,
            principal_id: "worker:test".into(),
            role: None,
        });
        (Authenticator::new(&config), org)
    }

    #[test]
    fn bearer_token_maps_to_its_org() {
        let (auth, org) = auth();
        let p = auth.authenticate(Some("Bearer flovyn_wk_test_abc")).unwrap();
        assert_eq!(p.org_id, org);
        assert_eq!(p.kind, PrincipalKind::Worker);
    }

    #[test]
    fn bad_headers_are_told_apart() {
        let (auth, _) = auth();
        assert_eq!(auth.authenticate(None), Err(AuthError::Missing));
        assert_eq!(auth.authenticate(Some("flovyn_wk_test_abc")), Err(AuthError::Malformed));
        assert_eq!(auth.authenticate(Some("Bearer ")), Err(AuthError::Malformed));
        assert_eq!(auth.authenticate(Some("Bearer    ")), Err(AuthError::Malformed));
        assert_eq!(
            auth.authenticate(Some("Bearer flovyn_wk_test_abd")),
            Err(AuthError::Unknown)
        );
        assert_eq!(
            auth.authenticate(Some("Bearer flovyn_wk_test_ab")),
            Err(AuthError::Unknown)
        );
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
