//! Helpers for test harnesses (the `testing` feature; never in a release
//! build of the server).

use uuid::Uuid;

use crate::storage::postgres::create_schema;

/// With `FLOVYN_TEST_BACKEND=postgres`, the URL of a fresh schema in the
/// database at `FLOVYN_TEST_POSTGRES_URL`; otherwise `None` (SQLite). A
/// suite asked to run on PostgreSQL never falls back to SQLite: a missing
/// URL or an unreachable server panics, naming it.
pub async fn test_database_url() -> Option<String> {
    match std::env::var("FLOVYN_TEST_BACKEND").as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => return None,
        Ok("postgres") => {}
        Ok(other) => panic!("FLOVYN_TEST_BACKEND={other}: expected sqlite or postgres"),
    }
    let url = std::env::var("FLOVYN_TEST_POSTGRES_URL")
        .expect("FLOVYN_TEST_BACKEND=postgres needs FLOVYN_TEST_POSTGRES_URL (scripts/test.sh starts a server)");
    let schema = format!("t_{}", Uuid::new_v4().simple());
    Some(create_schema(&url, &schema).await.unwrap_or_else(|e| panic!("{e}")))
}
