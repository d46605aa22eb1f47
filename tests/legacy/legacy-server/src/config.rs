//! Configuration: a TOML file (`--config` or `CONFIG_FILE`) in the shape the
//! Flovyn e2e harness writes (fact sheet 9.2: orgs and static API keys),
//! plus a `[server]` table of ports, data folder and leases; environment
//! variables override the file (`SERVER_PORT`, `GRPC_SERVER_PORT`,
//! `DATA_DIR`, `BIND_ADDRESS`).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub orgs: Vec<OrgConfig>,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
}

/// Where the state lives: SQLite in `server.data_dir` unless a PostgreSQL
/// URL is given.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `postgres://user:password@host:port/database` (also `DATABASE_URL`
    /// and `--database-url`). Several servers on one database share the
    /// work.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub bind_address: IpAddr,
    pub http_port: u16,
    pub grpc_port: u16,
    pub data_dir: PathBuf,
    pub workflow_lease_seconds: u64,
    pub task_lease_seconds: u64,
    /// Largest accepted payload (input, output, value) in bytes.
    pub max_payload_bytes: usize,
    /// Threads of the async runtime: 1 (the default) runs everything on one
    /// thread, which measured best on 2 cores; more use a work-stealing pool.
    pub runtime_threads: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind_address: IpAddr::from([127, 0, 0, 1]),
            http_port: 8000,
            grpc_port: 9090,
            data_dir: PathBuf::from("data"),
            workflow_lease_seconds: 60,
            task_lease_seconds: 300,
            max_payload_bytes: 4 * 1024 * 1024,
            runtime_threads: 1,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OrgConfig {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    #[serde(default)]
    pub tier: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AuthConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub static_api_key: StaticApiKeys,
    /// Accepted for compatibility with the harness's file; not used.
    #[serde(default)]
    pub endpoints: Option<toml::Value>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            enabled: true,
            static_api_key: StaticApiKeys::default(),
            endpoints: None,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct StaticApiKeys {
    #[serde(default)]
    pub keys: Vec<ApiKeyConfig>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ApiKeyConfig {
    pub key: String,
    pub org_id: Uuid,
    pub principal_type: String,
    pub principal_id: String,
    #[serde(default)]
    pub role: Option<String>,
}

/// A configuration problem, naming where it is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}={value:?}: {message}")]
    Env {
        name: &'static str,
        value: String,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Reads a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Applies environment overrides.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn port(name: &'static str, value: String) -> Result<u16, ConfigError> {
            value.parse().map_err(|e: std::num::ParseIntError| ConfigError::Env {
                name,
                value,
                message: e.to_string(),
            })
        }
        if let Some(v) = get("SERVER_PORT") {
            self.server.http_port = port("SERVER_PORT", v)?;
        }
        if let Some(v) = get("GRPC_SERVER_PORT") {
            self.server.grpc_port = port("GRPC_SERVER_PORT", v)?;
        }
        if let Some(v) = get("DATA_DIR") {
            self.server.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("RUNTIME_THREADS") {
            self.server.runtime_threads = v.parse().map_err(|e: std::num::ParseIntError| ConfigError::Env {
                name: "RUNTIME_THREADS",
                value: v.clone(),
                message: e.to_string(),
            })?;
        }
        if let Some(v) = get("DATABASE_URL").filter(|v| !v.is_empty()) {
            self.database.url = Some(v);
        }
        if let Some(v) = get("BIND_ADDRESS") {
            self.server.bind_address = v.parse().map_err(|e: std::net::AddrParseError| ConfigError::Env {
                name: "BIND_ADDRESS",
                value: v.clone(),
                message: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// Every key must name a configured org.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for key in &self.auth.static_api_key.keys {
            if !self.orgs.iter().any(|o| o.id == key.org_id) {
                return Err(ConfigError::Invalid(format!(
                    "auth.static_api_key: key for principal {:?} names org {} which is not in [[orgs]]",
                    key.principal_id, key.org_id
                )));
            }
        }
        Ok(())
    }

    /// A development org and keys, used when the configuration has none.
    /// Kept in `data_dir/dev-credentials.toml` so restarts keep them.
    pub fn ensure_dev_org(&mut self) -> Result<bool, ConfigError> {
        if !self.orgs.is_empty() {
            return Ok(false);
        }
        let path = self.server.data_dir.join("dev-credentials.toml");
        let dev: DevCredentials = if path.exists() {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.clone(),
                message: e.to_string(),
            })?
        } else {
            let dev = DevCredentials {
                org: OrgConfig {
                    id: Uuid::new_v4(),
                    name: "Development".into(),
                    slug: "dev".into(),
                    tier: None,
                },
                worker_token: format!("flovyn_wk_dev_{}", Uuid::new_v4().simple()),
                api_key: format!("flovyn_sk_dev_{}", Uuid::new_v4().simple()),
            };
            std::fs::create_dir_all(&self.server.data_dir).map_err(|source| ConfigError::Read {
                path: self.server.data_dir.clone(),
                source,
            })?;
            let text = toml::to_string(&dev).map_err(|e| ConfigError::Invalid(e.to_string()))?;
            std::fs::write(&path, text).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            dev
        };
        self.auth.static_api_key.keys.push(ApiKeyConfig {
            key: dev.worker_token,
            org_id: dev.org.id,
            principal_type: "Worker".into(),
            principal_id: "worker:dev".into(),
            role: None,
        });
        self.auth.static_api_key.keys.push(ApiKeyConfig {
            key: dev.api_key,
            org_id: dev.org.id,
            principal_type: "User".into(),
            principal_id: "api:dev".into(),
            role: Some("ADMIN".into()),
        });
        self.orgs.push(dev.org);
        Ok(true)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct DevCredentials {
    org: OrgConfig,
    worker_token: String,
    api_key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const HARNESS: &str = r#"
[[orgs]]
id = "5d7b2f4e-0c7a-4c1e-9a53-0f3f1f0e9a11"
name = "Test Organization"
slug = "test-1a2b3c4d"
tier = "FREE"

[auth]
enabled = true

[auth.static_api_key]
keys = [
  { key = "flovyn_sk_test_0123456789abcdef", org_id = "5d7b2f4e-0c7a-4c1e-9a53-0f3f1f0e9a11", principal_type = "User", principal_id = "api:test", role = "ADMIN" },
  { key = "flovyn_wk_test_0123456789abcdef", org_id = "5d7b2f4e-0c7a-4c1e-9a53-0f3f1f0e9a11", principal_type = "Worker", principal_id = "worker:test" },
]

[auth.endpoints.http]
authenticators = ["static_api_key"]
authorizer = "cedar"

[auth.endpoints.grpc]
authenticators = ["static_api_key"]
authorizer = "cedar"
"#;

    #[test]
    fn parses_the_harness_file() {
        let config: Config = toml::from_str(HARNESS).unwrap();
        assert_eq!(config.orgs[0].slug, "test-1a2b3c4d");
        assert_eq!(config.auth.static_api_key.keys.len(), 2);
        config.validate().unwrap();
    }

    #[test]
    fn env_overrides_ports_and_names_bad_values() {
        let mut config = Config::default();
        config
            .apply_env(|k| match k {
                "SERVER_PORT" => Some("8123".into()),
                "GRPC_SERVER_PORT" => Some("9123".into()),
                "RUNTIME_THREADS" => Some("4".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!((config.server.http_port, config.server.grpc_port), (8123, 9123));
        assert_eq!(config.server.runtime_threads, 4);
        let err = config
            .apply_env(|k| (k == "SERVER_PORT").then(|| "eighty".into()))
            .unwrap_err();
        assert!(err.to_string().contains("SERVER_PORT"), "{err}");
    }

    #[test]
    fn key_for_unknown_org_is_rejected() {
        let mut config: Config = toml::from_str(HARNESS).unwrap();
        config.orgs.clear();
        assert!(config.validate().unwrap_err().to_string().contains("not in [[orgs]]"));
    }
}
