//! Harness of the end-to-end tests: the reference server in-process on
//! loopback with a temporary SQLite file, and SDK clients for it.

use std::time::Duration;

use reference_sdk::{FlovynClient, FlovynClientBuilder};
use reference_server::config::{ApiKeyConfig, Config, OrgConfig, PrincipalKind, Role};
use reference_server::RunningServer;
use uuid::Uuid;

/// The default backoff of the SDK; discovery must stay within it plus a
/// margin for a loaded machine.
pub const BACKOFF: Duration = Duration::from_millis(100);
pub const DISCOVERY_MARGIN: Duration = Duration::from_millis(150);

pub struct Env {
    pub server: RunningServer,
    pub org: Uuid,
    pub token: String,
    pub api_key: String,
    _dir: tempfile::TempDir,
}

impl Env {
    pub async fn start() -> Env {
        Self::start_with(|_| {}).await
    }

    /// Starts with the configuration adjusted by `tune`.
    pub async fn start_with(tune: impl FnOnce(&mut Config)) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let org = Uuid::new_v4();
        let token = format!("flovyn_wk_test_{}", &Uuid::new_v4().simple().to_string()[..16]);
        let api_key = format!("flovyn_sk_test_{}", &Uuid::new_v4().simple().to_string()[..16]);
        let mut config = Config::default();
        config.server.http_port = 0;
        config.server.grpc_port = 0;
        config.server.data_dir = dir.path().to_path_buf();
        config.orgs.push(OrgConfig {
            id: org,
            name: "e2e".into(),
            slug: "e2e".into(),
            tier: None,
        });
        for (key, kind, role) in [
            (&token, PrincipalKind::Worker, None),
            (&api_key, PrincipalKind::User, Some(Role::Admin)),
        ] {
            config.auth.static_api_key.keys.push(ApiKeyConfig {
                key: key.clone(),
                org_id: org,
                principal_type: kind,
                principal_id: format!("{kind:?}"),
                role,
            });
        }
        config.database.url = reference_server::testing::test_database_url().await;
        tune(&mut config);
        let server = reference_server::start(config).await.unwrap();
        Env {
            server,
            org,
            token,
            api_key,
            _dir: dir,
        }
    }

    pub fn grpc_url(&self) -> String {
        format!("http://{}", self.server.grpc_addr)
    }

    pub fn http_url(&self) -> String {
        format!("http://{}", self.server.http_addr)
    }

    /// A builder for a worker of this server on `queue`.
    pub fn worker(&self, queue: &str) -> FlovynClientBuilder {
        FlovynClient::builder()
            .server_url(self.grpc_url())
            .worker_token(self.token.clone())
            .org_id(self.org)
            .queue(queue)
            .reconnect_backoff(Duration::from_millis(100), Duration::from_secs(1))
    }

    /// A client (no worker) on `queue`.
    pub async fn client(&self, queue: &str) -> FlovynClient {
        FlovynClient::connect(&self.grpc_url(), &self.token, Some(self.org), queue)
            .await
            .unwrap()
    }
}

/// A raw HTTP/1.1 request; returns status and body.
pub async fn http(base: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}
