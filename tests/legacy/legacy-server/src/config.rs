//! Configuration: a TOML file (`--config` or `CONFIG_FILE`) in the shape the
//! Flovyn e2e harness writes (fact sheet 9.2: orgs and static API keys),
//! plus a `[server]` table of ports, data folder and leases; environment
//! variables override the file (`SERVER_PORT`, `GRPC_SERVER_PORT`,
//! `DATA_DIR`, `BIND_ADDRESS`).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::permissions::{PrincipalKind, Role};

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

/// Where the state lives: SQLite in `server.data_dir` unless a URL is given.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite:PATH` (also `sqlite://PATH`; the file is created if missing)
    /// or `postgres://user:password@host:port/database` (also
    /// `postgresql://`); also `DATABASE_URL` and `--database-url`. Several
    /// servers on one PostgreSQL database share the work.
    pub url: Option<String>,
}

/// The database a configuration names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseConfig {
    /// The backend, chosen by the URL's scheme; SQLite in `data_dir`
    /// without a URL.
    pub fn backend(&self, data_dir: &Path) -> Result<Backend, ConfigError> {
        let Some(url) = &self.url else {
            return Ok(Backend::Sqlite(data_dir.join("flovyn.db")));
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Backend::Postgres(url.clone()));
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err(ConfigError::Invalid(format!(
                    "database URL {url:?}: name a file (sqlite:PATH); an in-memory database would lose accepted work"
                )));
            }
            return Ok(Backend::Sqlite(PathBuf::from(path)));
        }
        let scheme = url.split_once(':').map_or("(none)", |(scheme, _)| scheme);
        Err(ConfigError::Invalid(format!(
            "database URL: scheme {scheme:?} is not supported; use sqlite:PATH, postgres:// or postgresql://"
        )))
    }
}

/// The longest accepted `max_poll_wait_seconds`: an hour.
pub const MAX_POLL_WAIT_SECONDS: u64 = 3600;

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
    /// After SIGTERM, how long requests in flight may take before the
    /// connections still open are closed.
    pub shutdown_grace_seconds: u64,
    /// HTTP: how long a client may take to send a request's headers; also
    /// how long a kept-alive connection may sit idle between requests.
    pub http_header_timeout_seconds: u64,
    /// HTTP: how long reading one request's body may take.
    pub http_body_timeout_seconds: u64,
    /// Longest a poll with nothing ready is held, waiting for work of its
    /// queue (the poll's own `timeout_seconds` may be shorter). 0 answers
    /// at once, leaving the wait to the worker's backoff.
    pub max_poll_wait_seconds: u64,
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
            shutdown_grace_seconds: 3,
            http_header_timeout_seconds: 10,
            http_body_timeout_seconds: 30,
            max_poll_wait_seconds: 60,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrgConfig {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    #[serde(default)]
    pub tier: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub static_api_key: StaticApiKeys,
    /// The harness's per-endpoint settings: checked, then the built-in
    /// permission table (`permissions.rs`) stands for the named authorizer.
    #[serde(default)]
    pub endpoints: Option<Endpoints>,
}

/// `[auth.endpoints]`: how each transport authenticates and authorizes.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Endpoints {
    pub http: Option<Endpoint>,
    pub grpc: Option<Endpoint>,
}

/// One transport's settings, in the shape the harness writes.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub authenticators: Vec<Authenticator>,
    pub authorizer: Option<Authorizer>,
}

/// The authenticators this server has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Authenticator {
    StaticApiKey,
}

/// The authorizers this server has: `cedar` names the role table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Authorizer {
    Cedar,
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
#[serde(deny_unknown_fields)]
pub struct StaticApiKeys {
    #[serde(default)]
    pub keys: Vec<ApiKeyConfig>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    pub key: String,
    pub org_id: Uuid,
    pub principal_type: PrincipalKind,
    pub principal_id: String,
    /// Required for `User` keys, refused on `Worker` keys.
    #[serde(default)]
    pub role: Option<Role>,
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
        Self::from_toml(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses TOML text; an error names its line and column.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| describe(text, &e))
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

    /// Orgs are distinct; every key is non-empty, unpadded, unique, names a
    /// configured org and carries a role exactly when it is a `User` key.
    /// Messages name the entry (`auth.static_api_key.keys[2]`), never a key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if self.server.max_poll_wait_seconds > MAX_POLL_WAIT_SECONDS {
            return invalid(format!(
                "server.max_poll_wait_seconds: {} is more than {MAX_POLL_WAIT_SECONDS} (an hour)",
                self.server.max_poll_wait_seconds
            ));
        }
        for (i, org) in self.orgs.iter().enumerate() {
            if org.slug.trim().is_empty() || org.slug.trim() != org.slug {
                return invalid(format!(
                    "orgs[{i}]: slug {:?} must be non-empty, without spaces around it",
                    org.slug
                ));
            }
            if let Some(j) = self.orgs[..i].iter().position(|o| o.id == org.id || o.slug == org.slug) {
                return invalid(format!("orgs[{i}] has the id or slug of orgs[{j}]"));
            }
        }
        let keys = &self.auth.static_api_key.keys;
        for (i, key) in keys.iter().enumerate() {
            let entry = format!("auth.static_api_key.keys[{i}] (principal {:?})", key.principal_id);
            if key.key.is_empty() {
                return invalid(format!("{entry}: key is empty"));
            }
            if key.key.chars().any(char::is_whitespace) {
                return invalid(format!("{entry}: key has whitespace in it or around it"));
            }
            if let Some(j) = keys[..i].iter().position(|k| k.key == key.key) {
                return invalid(format!("{entry}: same key as auth.static_api_key.keys[{j}]"));
            }
            if !self.orgs.iter().any(|o| o.id == key.org_id) {
                return invalid(format!("{entry}: names org {} which is not in [[orgs]]", key.org_id));
            }
            match (key.principal_type, key.role) {
                (PrincipalKind::User, None) => {
                    return invalid(format!("{entry}: a User key needs a role (ADMIN, MEMBER or VIEWER)"));
                }
                (PrincipalKind::Worker, Some(role)) => {
                    return invalid(format!("{entry}: role {role} applies to User keys only"));
                }
                _ => {}
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
                message: describe(&text, &e),
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
            write_private(&path, &text).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            dev
        };
        keep_private(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        self.auth.static_api_key.keys.push(ApiKeyConfig {
            key: dev.worker_token,
            org_id: dev.org.id,
            principal_type: PrincipalKind::Worker,
            principal_id: "worker:dev".into(),
            role: None,
        });
        self.auth.static_api_key.keys.push(ApiKeyConfig {
            key: dev.api_key,
            org_id: dev.org.id,
            principal_type: PrincipalKind::User,
            principal_id: "api:dev".into(),
            role: Some(Role::Admin),
        });
        self.orgs.push(dev.org);
        Ok(true)
    }
}

/// A TOML error as `line L, column C: message`, without the quoted source
/// line toml's own message carries: that line may hold an API key.
fn describe(text: &str, err: &toml::de::Error) -> String {
    let Some(span) = err.span() else {
        return err.message().to_string();
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("line {line}, column {column}: {}", err.message())
}

/// Writes a file of secrets readable by its owner only (0600).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Takes group and other permissions off a file of secrets (a file from
/// before the server wrote them 0600).
fn keep_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "secrets file was readable by others; now 0600");
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

    /// The harness file with one line replaced.
    fn harness_with(from: &str, to: &str) -> String {
        assert!(HARNESS.contains(from), "{from}");
        HARNESS.replacen(from, to, 1)
    }

    fn invalid(text: &str) -> String {
        let config: Config = toml::from_str(text).unwrap();
        config.validate().unwrap_err().to_string()
    }

    #[test]
    fn empty_padded_and_duplicate_keys_are_refused_naming_the_entry() {
        let err = invalid(&harness_with("flovyn_sk_test_0123456789abcdef", ""));
        assert_eq!(
            err,
            "auth.static_api_key.keys[0] (principal \"api:test\"): key is empty"
        );
        let err = invalid(&harness_with("flovyn_sk_test_0123456789abcdef", " flovyn_sk_x"));
        assert!(err.contains("keys[0]") && err.contains("whitespace"), "{err}");
        let err = invalid(&harness_with(
            "flovyn_wk_test_0123456789abcdef",
            "flovyn_sk_test_0123456789abcdef",
        ));
        assert_eq!(
            err,
            "auth.static_api_key.keys[1] (principal \"worker:test\"): same key as auth.static_api_key.keys[0]"
        );
        assert!(!err.contains("0123456789abcdef"), "a key was printed: {err}");
    }

    #[test]
    fn roles_must_fit_the_principal_type() {
        let err = invalid(&harness_with(", role = \"ADMIN\"", ""));
        assert!(err.contains("keys[0]") && err.contains("needs a role"), "{err}");
        let err = invalid(&harness_with(
            "principal_id = \"worker:test\"",
            "principal_id = \"worker:test\", role = \"VIEWER\"",
        ));
        assert!(err.contains("keys[1]") && err.contains("User keys only"), "{err}");
    }

    #[test]
    fn unknown_fields_and_values_are_refused_with_their_line() {
        for (from, to, name) in [
            ("enabled = true", "enabeld = false", "enabeld"),
            ("role = \"ADMIN\"", "rol = \"ADMIN\"", "rol"),
            ("role = \"ADMIN\"", "role = \"ROOT\"", "ROOT"),
            ("principal_type = \"User\"", "principal_type = \"Robot\"", "Robot"),
            ("tier = \"FREE\"", "teir = \"FREE\"", "teir"),
            ("authorizer = \"cedar\"", "authoriser = \"cedar\"", "authoriser"),
            (
                "authenticators = [\"static_api_key\"]",
                "authenticators = [\"jwt\"]",
                "jwt",
            ),
        ] {
            let text = harness_with(from, to);
            let line = text.lines().position(|l| l.contains(to)).unwrap() + 1;
            let err = Config::from_toml(&text).unwrap_err();
            assert!(err.contains(name), "{to}: {err}");
            assert!(err.starts_with(&format!("line {line}, column ")), "{to}: {err}");
            assert!(!err.contains("flovyn_"), "a key was quoted: {err}");
        }
    }

    #[test]
    fn the_database_backend_follows_the_url_scheme() {
        let backend = |url: Option<&str>| {
            DatabaseConfig {
                url: url.map(str::to_string),
            }
            .backend(Path::new("data"))
        };
        assert_eq!(backend(None).unwrap(), Backend::Sqlite("data/flovyn.db".into()));
        assert_eq!(
            backend(Some("sqlite:///x.db")).unwrap(),
            Backend::Sqlite("/x.db".into())
        );
        assert_eq!(
            backend(Some("sqlite://rel/x.db")).unwrap(),
            Backend::Sqlite("rel/x.db".into())
        );
        assert_eq!(
            backend(Some("sqlite:x.db?mode=rwc")).unwrap(),
            Backend::Sqlite("x.db".into())
        );
        let pg = "postgresql://u:p@h:5432/d";
        assert_eq!(backend(Some(pg)).unwrap(), Backend::Postgres(pg.into()));
        assert!(backend(Some("sqlite::memory:"))
            .unwrap_err()
            .to_string()
            .contains("in-memory"));
        let err = backend(Some("mysql://u:secret@h/d")).unwrap_err().to_string();
        assert!(err.contains("\"mysql\"") && err.contains("postgres://"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn key_for_unknown_org_is_rejected() {
        let mut config: Config = toml::from_str(HARNESS).unwrap();
        config.orgs.clear();
        assert!(config.validate().unwrap_err().to_string().contains("not in [[orgs]]"));
    }
}
