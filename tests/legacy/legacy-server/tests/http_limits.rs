//! HTTP clients that send too much or too slowly (issue 12, item 9): a
//! declared length over the limit is refused before anything is read, and
//! idle, trickling and half-sent requests are cut off by deadlines.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::util::TestServer;

async fn quick_server() -> TestServer {
    TestServer::start_with(|c| {
        c.server.http_header_timeout_seconds = 1;
        c.server.http_body_timeout_seconds = 1;
    })
    .await
}

async fn connect(s: &TestServer) -> TcpStream {
    TcpStream::connect(s.http().trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection (at most `within`); what
/// it sent, and when it closed.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut out = Vec::new();
    let read = tokio::time::timeout(within, stream.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the connection was still open after {within:?}");
    (String::from_utf8_lossy(&out).into_owned(), started.elapsed())
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_reading() {
    let s = quick_server().await;
    let mut stream = connect(&s).await;
    let head = format!(
        "POST /api/workflows/k HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 99999999999999\r\n\r\n",
        s.api_key
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (response, took) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("over the limit of 4194304 bytes"), "{response}");
    assert!(
        took < Duration::from_millis(900),
        "answered after {took:?}, not at once"
    );

    // Without a key the body is not read either: 401 at once.
    let mut stream = connect(&s).await;
    stream
        .write_all(b"POST /api/workflows/k HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999\r\n\r\n")
        .await
        .unwrap();
    let (response, took) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert!(took < Duration::from_millis(900), "{took:?}");
}

#[tokio::test]
async fn a_body_over_the_limit_without_a_length_is_refused() {
    let s = TestServer::start_with(|c| c.server.max_payload_bytes = 1024).await;
    let mut stream = connect(&s).await;
    let head = format!(
        "POST /api/workflows/k HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nTransfer-Encoding: chunked\r\n\r\n",
        s.api_key
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("800\r\n{}\r\n", "x".repeat(0x800));
    stream.write_all(chunk.as_bytes()).await.unwrap();
    let (response, _) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
}

#[tokio::test]
async fn idle_trickling_and_half_sent_requests_are_cut_off() {
    let s = quick_server().await;
    // A connection that never sends anything.
    let mut idle = connect(&s).await;
    let (_, took) = read_until_closed(&mut idle, Duration::from_secs(4)).await;
    assert!(took >= Duration::from_millis(900), "closed too early: {took:?}");

    // Headers trickling in, one byte every 200 ms, never finished.
    let mut slow = connect(&s).await;
    let trickle = async {
        for b in b"GET /_/health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if slow.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let started = Instant::now();
    trickle.await;
    let (response, _) = read_until_closed(&mut slow, Duration::from_secs(4)).await;
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(!response.contains("200 OK"), "{response}");

    // A body promised and never sent: 408.
    let mut half = connect(&s).await;
    let head = format!(
        "POST /api/workflows/k HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 100\r\n\r\n{{",
        s.api_key
    );
    half.write_all(head.as_bytes()).await.unwrap();
    let (response, took) = read_until_closed(&mut half, Duration::from_secs(4)).await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(took < Duration::from_secs(3), "{took:?}");

    // A kept-alive connection that goes quiet after one request.
    let mut kept = connect(&s).await;
    kept.write_all(b"GET /_/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (response, took) = read_until_closed(&mut kept, Duration::from_secs(4)).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(took >= Duration::from_millis(900), "{took:?}");
}
