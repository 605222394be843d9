//! An HTTP receiver on loopback standing in for a webhook endpoint, Slack and Alertmanager's own
//! webhook notifications. It records every request and checks the webhook signature with the
//! shared secret; it can be told to answer 503 to the next requests, to act as a sink that is down.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// One request received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The path's one segment: `hook`, `slack`, `alertmanager`…
    pub path: String,
    pub body: serde_json::Value,
    pub headers: HeaderMap,
    /// For requests with a signature header: whether it matched the body under the secret.
    pub signature_ok: Option<bool>,
}

struct Inner {
    secret: Vec<u8>,
    received: Mutex<Vec<Received>>,
    fail_next: AtomicUsize,
}

/// The running receiver; stops on drop.
pub struct Receiver {
    pub url: String,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

async fn receive(
    State(inner): State<Arc<Inner>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    if inner
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return (StatusCode::SERVICE_UNAVAILABLE, "down for the test");
    }
    let signature_ok = headers
        .get("x-maturity-signature-256")
        .and_then(|v| v.to_str().ok())
        .map(|sig| {
            let mut mac = Hmac::<Sha256>::new_from_slice(&inner.secret).expect("any key");
            mac.update(&body);
            let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
            sig == expected
        });
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    inner.received.lock().unwrap().push(Received {
        path,
        body,
        headers,
        signature_ok,
    });
    (StatusCode::OK, "ok")
}

impl Receiver {
    /// Starts on a free loopback port; `secret` is the webhook HMAC key.
    pub async fn start(secret: &str) -> Receiver {
        let inner = Arc::new(Inner {
            secret: secret.as_bytes().to_vec(),
            received: Mutex::new(vec![]),
            fail_next: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .route("/{path}", axum::routing::post(receive))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, inner, task }
    }

    /// Everything received on `path` so far.
    pub fn received(&self, path: &str) -> Vec<Received> {
        self.inner
            .received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Answers 503 to the next `n` requests.
    pub fn fail_next(&self, n: usize) {
        self.inner.fail_next.store(n, Ordering::SeqCst);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
