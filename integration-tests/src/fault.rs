//! An HTTP endpoint on 127.0.0.1 that answers every request with one canned failure, to prove how
//! the collectors classify what an endpoint answers. It stops when dropped.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A canned answer.
#[derive(Clone, Copy)]
pub enum Answer {
    /// HTTP 500 with an HTML body, as moto answers an operation it does not implement.
    NotImplementedHtml,
    /// HTTP 403 with an AWS query-protocol AccessDenied error.
    AccessDeniedXml,
}

pub struct FaultServer {
    pub endpoint: String,
    task: tokio::task::JoinHandle<()>,
}

impl FaultServer {
    pub async fn start(answer: Answer) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    // Read the request head and any body the client sends before answering.
                    let mut buf = vec![0u8; 65536];
                    let _ = tokio::time::timeout(
                        std::time::Duration::from_millis(200),
                        sock.read(&mut buf),
                    )
                    .await;
                    let (status, ctype, body) = match answer {
                        Answer::NotImplementedHtml => (
                            "500 INTERNAL SERVER ERROR",
                            "text/html",
                            "<!doctype html><html><body><h1>Internal Server Error</h1></body></html>".to_owned(),
                        ),
                        Answer::AccessDeniedXml => (
                            "403 Forbidden",
                            "text/xml",
                            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized</Message></Error><RequestId>1</RequestId></ErrorResponse>".to_owned(),
                        ),
                    };
                    let resp = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        FaultServer { endpoint, task }
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A proxy in front of an upstream (moto) on 127.0.0.1 that answers AccessDenied to `AssumeRole`
/// requests whose body contains `deny_role_containing`, and passes everything else through. It reads
/// one request per connection and relies on the upstream closing the connection after answering.
pub struct Proxy {
    pub endpoint: String,
    task: tokio::task::JoinHandle<()>,
}

async fn read_request(sock: &mut tokio::net::TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return Ok(buf);
            }
        }
    }
}

/// STS's answer to a denied `AssumeRole`.
const ACCESS_DENIED: &str = "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: 149\r\nConnection: close\r\n\r\n<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRole</Message></Error></ErrorResponse>";

/// Passes one request to the upstream on loopback and its whole answer back.
async fn forward(sock: &mut tokio::net::TcpStream, req: &[u8], upstream_port: u16) {
    let Ok(mut up) = tokio::net::TcpStream::connect(("127.0.0.1", upstream_port)).await else {
        return;
    };
    if up.write_all(req).await.is_err() {
        return;
    }
    let mut resp = Vec::new();
    let _ = up.read_to_end(&mut resp).await;
    let _ = sock.write_all(&resp).await;
    let _ = sock.shutdown().await;
}

impl Proxy {
    pub async fn start(upstream_port: u16, deny_role_containing: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let deny = deny_role_containing.clone();
                tokio::spawn(async move {
                    let Ok(req) = read_request(&mut sock).await else {
                        return;
                    };
                    let text = String::from_utf8_lossy(&req);
                    if text.contains("Action=AssumeRole") && text.contains(&deny) {
                        let _ = sock.write_all(ACCESS_DENIED.as_bytes()).await;
                        return;
                    }
                    forward(&mut sock, &req, upstream_port).await;
                });
            }
        });
        Proxy { endpoint, task }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How [`FlakyProxy`] answers SQS.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SqsFault {
    /// Passed to moto.
    None = 0,
    /// HTTP 400 `AccessDeniedException` in SQS's JSON protocol, as for a policy without the action.
    Denied = 1,
    /// The connection closed without an answer.
    Unreachable = 2,
}

const SQS_ACCESS_DENIED: &str = r#"{"__type":"com.amazon.coral.service#AccessDeniedException","message":"User is not authorized to perform: sqs:receivemessage"}"#;

/// A proxy in front of moto that fails a share of the AWS calls (STS excepted, so that accounts are
/// still reached): a 500 InternalError, a 503 SlowDown/throttling answer, or no answer for
/// `hang` (longer than the agent's call timeout). The share can be changed while it runs, every
/// `AssumeRole` can be denied for a while, and SQS can be denied or made unreachable
/// ([`SqsFault`]) while every other service answers.
pub struct FlakyProxy {
    pub endpoint: String,
    percent: std::sync::Arc<std::sync::atomic::AtomicU32>,
    sqs: std::sync::Arc<std::sync::atomic::AtomicU8>,
    deny_assume_role: std::sync::Arc<std::sync::atomic::AtomicBool>,
    injected: std::sync::Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FlakyProxy {
    pub async fn start(upstream_port: u16, hang: std::time::Duration) -> FlakyProxy {
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let percent = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let injected = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let deny_assume_role = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sqs = std::sync::Arc::new(std::sync::atomic::AtomicU8::new(SqsFault::None as u8));
        let (p, inj, deny, sqs_fault) = (
            percent.clone(),
            injected.clone(),
            deny_assume_role.clone(),
            sqs.clone(),
        );
        let task = tokio::spawn(async move {
            let rng = std::sync::Arc::new(std::sync::Mutex::new(fastrand::Rng::with_seed(7)));
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (p, inj, rng, deny, sqs_fault) = (
                    p.clone(),
                    inj.clone(),
                    rng.clone(),
                    deny.clone(),
                    sqs_fault.clone(),
                );
                tokio::spawn(async move {
                    let Ok(req) = read_request(&mut sock).await else {
                        return;
                    };
                    let text = String::from_utf8_lossy(&req);
                    // The SDK speaks SQS's JSON protocol: `X-Amz-Target: AmazonSQS.<operation>`.
                    if text.contains("AmazonSQS.") {
                        match sqs_fault.load(Ordering::SeqCst) {
                            f if f == SqsFault::Denied as u8 => {
                                let resp = format!(
                                    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-query-error: AccessDenied;Sender\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{SQS_ACCESS_DENIED}",
                                    SQS_ACCESS_DENIED.len()
                                );
                                let _ = sock.write_all(resp.as_bytes()).await;
                                return;
                            }
                            // Closed without an answer, as a queue endpoint that cannot be reached.
                            f if f == SqsFault::Unreachable as u8 => return,
                            _ => {}
                        }
                    }
                    if text.contains("Action=AssumeRole") && deny.load(Ordering::SeqCst) {
                        let _ = sock.write_all(ACCESS_DENIED.as_bytes()).await;
                        return;
                    }
                    let sts = text.contains("Action=AssumeRole")
                        || text.contains("Action=GetCallerIdentity");
                    let (roll, kind) = {
                        let mut r = rng.lock().unwrap();
                        (r.u32(0..100), r.u32(0..3))
                    };
                    if !sts && roll < p.load(Ordering::SeqCst) {
                        inj.fetch_add(1, Ordering::SeqCst);
                        let (status, extra, body) = match kind {
                            0 => ("500 Internal Server Error", "", "<Error><Code>InternalError</Code><Message>injected</Message></Error>"),
                            1 => ("503 Service Unavailable", "x-amzn-ErrorType: ThrottlingException\r\n", "<Error><Code>SlowDown</Code><Message>injected throttling</Message></Error>"),
                            _ => {
                                tokio::time::sleep(hang).await;
                                return;
                            }
                        };
                        let resp = format!(
                            "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = sock.write_all(resp.as_bytes()).await;
                        return;
                    }
                    forward(&mut sock, &req, upstream_port).await;
                });
            }
        });
        FlakyProxy {
            endpoint,
            percent,
            sqs,
            deny_assume_role,
            injected,
            task,
        }
    }

    /// Fails this share (0-100) of the calls from now on.
    pub fn set_failure_percent(&self, p: u32) {
        self.percent.store(p, std::sync::atomic::Ordering::SeqCst);
    }

    /// Denies (or stops denying) every `AssumeRole`.
    pub fn deny_assume_role(&self, deny: bool) {
        self.deny_assume_role
            .store(deny, std::sync::atomic::Ordering::SeqCst);
    }

    /// Makes SQS fail from now on (or answer again, with [`SqsFault::None`]).
    pub fn set_sqs(&self, fault: SqsFault) {
        self.sqs
            .store(fault as u8, std::sync::atomic::Ordering::SeqCst);
    }

    /// Calls failed so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
