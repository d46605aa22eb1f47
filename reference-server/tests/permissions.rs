//! The permission table, enforced: every gRPC method and REST route called
//! by each kind of principal (worker, ADMIN, MEMBER, VIEWER), with an
//! empty request. A call the table allows must get past the guard (any
//! status but PERMISSION_DENIED / 403); any other must be refused with
//! exactly that.

use std::time::Duration;

use reference_server::config::{ApiKeyConfig, PrincipalKind, Role};
use reference_server::permissions::{self, Allowed, ADMIN, MEMBER, VIEWER, WORKER};
use tonic::Code;
use uuid::Uuid;

use crate::util::{self, TestServer};

struct Caller {
    name: &'static str,
    key: String,
    bit: Allowed,
}

async fn server_and_callers() -> (TestServer, Vec<Caller>) {
    let member = format!("flovyn_sk_member_{}", Uuid::new_v4().simple());
    let viewer = format!("flovyn_sk_viewer_{}", Uuid::new_v4().simple());
    let (m, v) = (member.clone(), viewer.clone());
    let s = TestServer::start_with(move |config| {
        let org = config.orgs[0].id;
        for (key, role) in [(m, Role::Member), (v, Role::Viewer)] {
            config.auth.static_api_key.keys.push(ApiKeyConfig {
                key,
                org_id: org,
                principal_type: PrincipalKind::User,
                principal_id: format!("user:{role}"),
                role: Some(role),
            });
        }
    })
    .await;
    let callers = vec![
        Caller {
            name: "worker",
            key: s.token.clone(),
            bit: WORKER,
        },
        Caller {
            name: "admin",
            key: s.api_key.clone(),
            bit: ADMIN,
        },
        Caller {
            name: "member",
            key: member,
            bit: MEMBER,
        },
        Caller {
            name: "viewer",
            key: viewer,
            bit: VIEWER,
        },
    ];
    (s, callers)
}

/// One gRPC call of `method` with an empty message; its status code.
async fn grpc_call(s: &TestServer, method: &str, key: &str) -> Code {
    let mut grpc = tonic::client::Grpc::new(s.channel());
    grpc.ready().await.unwrap();
    let path: http::uri::PathAndQuery = format!("/flovyn.v1.{method}").parse().unwrap();
    let mut request = tonic::Request::new(());
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let call = async {
        if method.ends_with("SubscribeToNotifications") {
            grpc.server_streaming(request, path, codec).await.map(|_| ())
        } else {
            grpc.unary(request, path, codec).await.map(|_| ())
        }
    };
    match tokio::time::timeout(Duration::from_secs(5), call).await {
        Ok(Ok(())) => Code::Ok,
        Ok(Err(status)) => status.code(),
        Err(_) => panic!("{method} did not answer"),
    }
}

#[tokio::test]
async fn every_grpc_method_admits_exactly_the_principals_of_its_row() {
    let (s, callers) = server_and_callers().await;
    for (method, allowed) in permissions::GRPC {
        for caller in &callers {
            let code = grpc_call(&s, method, &caller.key).await;
            if allowed.contains(caller.bit) {
                assert_ne!(code, Code::PermissionDenied, "{method} as {}", caller.name);
                assert_ne!(code, Code::Unauthenticated, "{method} as {}", caller.name);
            } else {
                assert_eq!(code, Code::PermissionDenied, "{method} as {}", caller.name);
            }
        }
        assert_eq!(grpc_call(&s, method, "flovyn_wk_unknown").await, Code::Unauthenticated);
    }
    // A method the table does not list is refused before any handler.
    let code = grpc_call(&s, "WorkflowDispatch/NoSuchMethod", &s.token).await;
    assert_eq!(code, Code::Unimplemented);
}

#[tokio::test]
async fn every_rest_route_admits_exactly_the_principals_of_its_row() {
    let (s, callers) = server_and_callers().await;
    for (route, allowed) in permissions::REST {
        let (method, path) = route.split_once(' ').unwrap();
        let path = path
            .replace("{kind}", "k")
            .replace("{org}", "test")
            .replace("{id}", &Uuid::new_v4().to_string());
        for caller in &callers {
            let (status, body) = util::http(&s.http(), method, &path, Some(&caller.key), "{}").await;
            if allowed.contains(caller.bit) {
                assert!(
                    status != 403 && status != 401,
                    "{route} as {}: {status} {body}",
                    caller.name
                );
            } else {
                assert_eq!(status, 403, "{route} as {}: {body}", caller.name);
                assert!(body.contains("not allowed"), "{body}");
            }
        }
        let (status, _) = util::http(&s.http(), method, &path, None, "{}").await;
        assert_eq!(status, 401, "{route} without a key");
    }
}
