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
