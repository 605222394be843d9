//! A minimal blocking HTTP/1.1 client (GET, POST) for loopback endpoints: the daemon's, and the
//! servers the tests run.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// GETs `http://127.0.0.1:PORT/path`, returning the status code and body.
pub fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    get_with(port, path, None)
}

/// GET with an optional `Authorization` header value.
pub fn get_with(
    port: u16,
    path: &str,
    authorization: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let auth = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    request(port, &format!("GET {path}"), &auth, "")
}

/// POSTs `body` to `http://127.0.0.1:PORT/path`, returning the status code and body.
pub fn post(port: u16, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    request(
        port,
        &format!("POST {path}"),
        &format!("Content-Length: {}\r\n", body.len()),
        body,
    )
}

/// Sends `request_line` with extra `headers` (each ending in CRLF) and `body`; reads the answer.
fn request(
    port: u16,
    request_line: &str,
    headers: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "{request_line} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}Connection: close\r\n\r\n{body}"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// The value of a sample in a Prometheus text exposition, by its full series text
/// (`name{label="v",...}` with labels in the order the exposition prints them).
pub fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|l| {
        l.strip_prefix(series)
            .and_then(|v| v.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    })
}
