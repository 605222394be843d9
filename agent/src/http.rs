//! The HTTP server beside the daemon: `/metrics`, `/healthz`, `/readyz`, `/api/v1/report`,
//! `/api/v1/accounts/{id}`, and a heatmap page at `/`. Everything is served from memory or the state
//! store; nothing here calls AWS or waits for an audit. Basic auth (when configured) guards every
//! path but the two probes, since the report describes weaknesses.

use crate::daemon::Shared;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use maturity_checks::model::{Practice, Status};
use maturity_checks::report::{AccountReport, AccountStatus, Report};
use std::fmt::Write;
use std::sync::Arc;
use std::time::Duration;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/api/v1/report", get(report))
        .route("/api/v1/accounts/{id}", get(account))
        .route("/api/v1/alerts", get(alerts))
        .layer(axum::middleware::from_fn_with_state(shared.clone(), auth))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(shared)
}

/// Headers of every answer: the page and the API describe weaknesses, so no cache keeps them, no
/// browser guesses their type, and no other site frames the page. The page's only style is inline;
/// it loads nothing.
async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

/// What the server allows a client.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once (idle ones included); a connection past it is closed at once.
    pub max_connections: usize,
    /// Time to send a request's headers, from the connection's start or the previous response; also
    /// the TLS handshake's limit.
    pub header_read_timeout: Duration,
}

/// Serves the router on `listener` (HTTP/1.1, TLS when given) until `handle` shuts it down.
///
/// axum-server sets no timer, so hyper's header-read timeout would never fire and an idle or
/// trickling client would hold its connection forever: here every connection has `limits`'
/// header-read timeout (which is also the keep-alive idle limit of HTTP/1.1) and at most
/// `max_connections` are open at once. HTTP/1.1 only: HTTP/2's version sniffing reads without a
/// time limit, and a scrape or a page needs nothing of HTTP/2.
pub fn serve(
    listener: std::net::TcpListener,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    limits: Limits,
    handle: axum_server::Handle<std::net::SocketAddr>,
    shared: Arc<Shared>,
) -> std::io::Result<tokio::task::JoinHandle<std::io::Result<()>>> {
    let app = router(shared).into_make_service();
    let permits = Limited {
        permits: Arc::new(tokio::sync::Semaphore::new(limits.max_connections)),
        first_byte: limits.header_read_timeout,
    };
    let mut server = axum_server::from_tcp(listener)?.http1_only().handle(handle);
    server
        .http_builder()
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    Ok(match tls {
        Some(tls) => {
            // The server speaks HTTP/1.1 only: offering h2 in ALPN would break h2 clients.
            let mut config = (*tls.get_inner()).clone();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            tls.reload_from_config(Arc::new(config));
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls)
                .handshake_timeout(limits.header_read_timeout)
                .acceptor(permits);
            let server = server.acceptor(acceptor);
            tokio::spawn(async move { server.serve(app).await })
        }
        None => {
            let server = server.acceptor(permits);
            tokio::spawn(async move { server.serve(app).await })
        }
    })
}

/// An acceptor that takes one of a fixed number of permits per connection (before any TLS
/// handshake) and closes the connection when none is left; the permit is released when the
/// connection ends. A connection that sends nothing within `first_byte` is closed: hyper's
/// header-read timer starts only with the first byte, so a silent socket would hold its permit
/// for ever.
#[derive(Clone)]
struct Limited {
    permits: Arc<tokio::sync::Semaphore>,
    first_byte: std::time::Duration,
}

type Accepted<S> = std::pin::Pin<
    Box<dyn std::future::Future<Output = std::io::Result<(Counted, S)>> + Send + 'static>,
>;

impl<S: Send + 'static> axum_server::accept::Accept<tokio::net::TcpStream, S> for Limited {
    type Stream = Counted;
    type Service = S;
    type Future = Accepted<S>;

    fn accept(&self, stream: tokio::net::TcpStream, service: S) -> Self::Future {
        let permit = self.permits.clone().try_acquire_owned();
        let first_byte = self.first_byte;
        Box::pin(async move {
            let Ok(permit) = permit else {
                // Debug only: a flood of connections must not become a flood of log lines.
                tracing::debug!("connection closed: server.max_connections connections are open");
                return Err(std::io::Error::other("too many connections"));
            };
            let mut probe = [0u8; 1];
            match tokio::time::timeout(first_byte, stream.peek(&mut probe)).await {
                Ok(Ok(n)) if n > 0 => Ok((
                    Counted {
                        stream,
                        _permit: permit,
                    },
                    service,
                )),
                Ok(Ok(_)) => Err(std::io::Error::other("connection closed before a request")),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "no request within server.header_read_timeout_seconds",
                )),
            }
        })
    }
}

/// A connection holding its permit.
struct Counted {
    stream: tokio::net::TcpStream,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl tokio::io::AsyncRead for Counted {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Counted {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Constant-time comparison, so that the password cannot be guessed byte by byte from timings.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn auth(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    req: Request,
    next: Next,
) -> Response {
    let Some((user, password)) = &shared.auth else {
        return next.run(req).await;
    };
    if matches!(req.uri().path(), "/healthz" | "/readyz") {
        return next.run(req).await;
    }
    let expected = format!("{user}:{password}");
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            // The scheme is case-insensitive (RFC 7235 section 2.1).
            let (scheme, credentials) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(credentials)
        })
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        });
    match given {
        Some(g) if same(&g, expected.as_bytes()) => next.run(req).await,
        _ => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"maturity-agent\"")],
            "unauthorized\n",
        )
            .into_response(),
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    // The per-account families are sent from the buffers kept since their last change.
    let chunks = shared.metrics.encode_chunks();
    let body = axum::body::Body::from_stream(futures::stream::iter(
        chunks.into_iter().map(Ok::<_, std::convert::Infallible>),
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

/// Ready when this process's first audit finished, the last run was saved, and the state store
/// takes a real write now; otherwise 503 with the reason (a run that cannot be saved loses its
/// regressions and alerts, so it must show).
async fn ready(State(shared): State<Arc<Shared>>) -> Response {
    let unavailable = |why: String| (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
    if !shared.ready.load(std::sync::atomic::Ordering::SeqCst) {
        return unavailable("the first audit has not finished\n".into());
    }
    if let Some(Err(e)) = shared.saves.last() {
        return unavailable(format!("the last run could not be saved: {e}\n"));
    }
    let s = shared.clone();
    match tokio::task::spawn_blocking(move || s.store.write_probe()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready\n").into_response(),
        Ok(Err(e)) => unavailable(format!("the state store is not writable: {e}\n")),
        Err(e) => unavailable(format!("the state store probe failed: {e}\n")),
    }
}

/// The latest state with every check and verdict, read from the store (the process keeps only
/// what the metrics need in memory).
async fn stored(shared: &Arc<Shared>) -> Result<Option<Report>, String> {
    let s = shared.clone();
    match tokio::task::spawn_blocking(move || s.store.latest_report()).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// The served report, written as it is read: its accounts' results a few at a time (a thousand
/// whole results never sit in memory together), in the schedule's order. A state saved before the
/// shared schedule answers from its newest full audit, whole.
async fn report(State(shared): State<Arc<Shared>>) -> Response {
    let s = shared.clone();
    let rows = match tokio::task::spawn_blocking(move || s.store.report_rows()).await {
        Ok(Ok(rows)) => rows,
        Ok(Err(e)) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    };
    let Some(rows) = rows else {
        return whole_report(&shared).await;
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(4);
    let s = shared.clone();
    tokio::task::spawn_blocking(move || {
        /// The fields of [`Report`] before its accounts, in its order.
        #[derive(serde::Serialize)]
        struct Head {
            schema_version: u32,
            agent_version: &'static str,
            started_at: chrono::DateTime<chrono::Utc>,
            duration_seconds: f64,
        }
        let head = serde_json::to_string(&Head {
            schema_version: maturity_checks::report::SCHEMA_VERSION,
            agent_version: env!("CARGO_PKG_VERSION"),
            started_at: rows.started_at,
            duration_seconds: rows.duration_seconds,
        })
        .expect("the report's head serializes");
        // `{…,"accounts":[` then each account, then `]}`.
        let mut out = head[..head.len() - 1].to_owned() + ",\"accounts\":[";
        let mut first = true;
        for chunk in rows.rows.chunks(32) {
            let ids: Vec<i64> = chunk.iter().map(|r| r.0).collect();
            let results = match s.store.results(&ids) {
                Ok(r) => r,
                Err(e) => {
                    // The client sees a truncated body (not valid JSON), never a partial report
                    // that parses.
                    tracing::error!(error = %e, "the report could not be read to its end");
                    let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                    return;
                }
            };
            let mut accounts: Vec<AccountReport> = results.into_iter().map(|r| r.0).collect();
            accounts.sort_by_key(|a| chunk.iter().position(|r| r.1 == a.account_id));
            for a in accounts {
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(&serde_json::to_string(&a).expect("a report serializes"));
            }
            if tx
                .blocking_send(Ok(bytes::Bytes::from(std::mem::take(&mut out))))
                .is_err()
            {
                return; // the client left
            }
        }
        out.push_str("]}");
        let _ = tx.blocking_send(Ok(bytes::Bytes::from(out)));
    });
    let chunks = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let body = axum::body::Body::from_stream(chunks);
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The newest full audit of a state saved before the shared schedule, whole.
async fn whole_report(shared: &Arc<Shared>) -> Response {
    match stored(shared).await {
        Ok(Some(r)) => Json(r).into_response(),
        Ok(None) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "no audit has finished yet\n",
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

async fn account(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    // Never echo what the client sent: an id is 12 digits or it is refused without being repeated.
    let Some(id) = id
        .ok()
        .map(|Path(id)| id)
        .filter(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
    else {
        return (StatusCode::BAD_REQUEST, "an account id is 12 digits\n").into_response();
    };
    let s = shared.clone();
    let key = id.clone();
    let read = tokio::task::spawn_blocking(move || {
        let current = match s.store.current_result(&key)? {
            Some(a) => Some(a),
            // A state saved before the shared schedule.
            None => s
                .store
                .latest_report()?
                .and_then(|r| r.account(&key).cloned()),
        };
        Ok::<_, crate::state::StateError>((current, s.store.history(&key, 100)?))
    })
    .await;
    match read {
        Ok(Ok((None, _))) => (
            StatusCode::NOT_FOUND,
            format!("account {id} is not in the latest report\n"),
        )
            .into_response(),
        Ok(Ok((Some(a), h))) => {
            Json(serde_json::json!({ "account": a, "history": h })).into_response()
        }
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

/// Active alerts, the newest regressions and the outbox per sink.
async fn alerts(State(shared): State<Arc<Shared>>) -> Response {
    let s = shared.clone();
    let read = tokio::task::spawn_blocking(move || {
        Ok::<_, crate::state::StateError>((
            s.store.active_alerts()?,
            s.store.recent_regressions(100)?,
            s.store.outbox_depth()?,
        ))
    })
    .await;
    match read {
        Ok(Ok((active, regressions, queue))) => Json(serde_json::json!({
            "active": active,
            "regressions": regressions,
            "queue": queue,
        }))
        .into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Colours from level 0 (red) to 5 (green).
const COLOURS: [&str; 6] = [
    "#d73027", "#fc8d59", "#fee08b", "#d9ef8b", "#91cf60", "#1a9850",
];

async fn page(State(shared): State<Arc<Shared>>) -> Response {
    match stored(&shared).await {
        Ok(r) => Html(render(r.as_ref())).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

/// The heatmap page: accounts × practices coloured by level, then each account's failing checks.
pub fn render(report: Option<&Report>) -> String {
    let mut h = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>maturity-agent</title><style>\
         body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
         th,td{border:1px solid #ccc;padding:.4em .8em;text-align:center}\
         td.l a{color:#000;text-decoration:none;display:block}td.down{background:#999;color:#fff}\
         .unc{font-style:italic}li{margin:.2em 0}</style></head><body><h1>DevSecOps maturity (OWASP DSOMM)</h1>",
    );
    let Some(report) = report else {
        h.push_str("<p id=\"empty\">No audit has finished yet.</p></body></html>");
        return h;
    };
    let practices: Vec<Practice> = Practice::ALL
        .into_iter()
        .filter(|p| report.accounts.iter().any(|a| a.practice(*p).is_some()))
        .collect();
    let _ = write!(
        h,
        "<p>Audit of {} ({} accounts).</p><table id=\"heatmap\"><tr><th>account</th><th>level</th>",
        esc(&report.started_at.to_rfc3339()),
        report.accounts.len()
    );
    for p in &practices {
        let _ = write!(h, "<th>{}</th>", p.as_str());
    }
    h.push_str("</tr>");
    for a in &report.accounts {
        let anchor = format!("#account-{}", esc(&a.account_id));
        let _ = write!(
            h,
            "<tr><th><a href=\"{anchor}\">{}</a><br><small>{}</small>",
            esc(&a.account_name),
            esc(&a.account_id)
        );
        let escalating = escalations(a).count();
        if escalating > 0 {
            let _ = write!(
                h,
                "<br><small><a href=\"#escalation-{}\">{escalating} escalating principal{}</a></small>",
                esc(&a.account_id),
                if escalating == 1 { "" } else { "s" }
            );
        }
        h.push_str("</th>");
        if a.status == AccountStatus::Failed {
            let _ = write!(
                h,
                "<td class=\"down\" colspan=\"{}\">not audited: {}</td></tr>",
                practices.len() + 1,
                esc(a.error.as_deref().unwrap_or(""))
            );
            continue;
        }
        let cell = |level: u8, unconfirmed: bool| {
            format!(
                "<td class=\"l{}\" style=\"background:{}\" data-level=\"{level}\"><a href=\"{anchor}\">{level}{}</a></td>",
                if unconfirmed { " unc" } else { "" },
                COLOURS[usize::from(level.min(5))],
                if unconfirmed { "?" } else { "" }
            )
        };
        h.push_str(
            &a.level
                .map(|l| cell(l, a.unconfirmed))
                .unwrap_or_else(|| "<td>-</td>".into()),
        );
        for p in &practices {
            h.push_str(
                &a.practice(*p)
                    .map(|s| cell(s.level, s.unconfirmed))
                    .unwrap_or_else(|| "<td>-</td>".into()),
            );
        }
        h.push_str("</tr>");
    }
    h.push_str("</table><p><small>? = unconfirmed: a check that could not be read stands between the level and its confirmed level.</small></p>");
    render_dimensions(&mut h, report);
    for a in &report.accounts {
        let _ = write!(
            h,
            "<h2 id=\"account-{}\">{} ({})</h2>",
            esc(&a.account_id),
            esc(&a.account_name),
            esc(&a.account_id)
        );
        let failing: Vec<_> = a
            .checks
            .iter()
            .filter(|c| matches!(c.status, Status::Fail | Status::Unknown))
            .collect();
        if a.status == AccountStatus::Failed {
            let _ = write!(
                h,
                "<p>Not audited: {}</p>",
                esc(a.error.as_deref().unwrap_or(""))
            );
        } else if failing.is_empty() {
            h.push_str("<p>Every check passes or does not apply.</p>");
        }
        if !failing.is_empty() {
            h.push_str("<ul>");
            for c in failing {
                let _ = write!(
                    h,
                    "<li><b>{}</b> {} [{} L{} {}]: {}<ul>",
                    c.status.as_str().to_uppercase(),
                    esc(&c.id),
                    c.severity.as_str(),
                    c.level,
                    c.practice.as_str(),
                    esc(&c.title)
                );
                for v in c.verdicts.iter().filter(|v| v.status == c.status) {
                    let _ = write!(h, "<li>{}</li>", esc(&v.reason));
                }
                h.push_str("</ul></li>");
            }
            h.push_str("</ul>");
        }
        render_escalations(&mut h, a);
    }
    h.push_str("</body></html>");
    h
}

/// The second heatmap: accounts × DSOMM sub-dimensions (as the DSOMM app groups them), each cell
/// the sub-dimension's level and how many of its activities the checks evidence.
fn render_dimensions(h: &mut String, report: &Report) {
    let mut columns: Vec<(&str, &str)> = Vec::new();
    for a in maturity_checks::dsomm::model() {
        let col = (a.dimension, a.subdimension);
        if !columns.contains(&col)
            && report.accounts.iter().any(|r| {
                r.dimensions
                    .iter()
                    .any(|d| d.dimension == col.0 && d.subdimension == col.1)
            })
        {
            columns.push(col);
        }
    }
    if columns.is_empty() {
        return;
    }
    h.push_str("<h2>By DSOMM dimension</h2><table id=\"dsomm\"><tr><th>account</th>");
    for (d, s) in &columns {
        let _ = write!(h, "<th>{}<br><small>{}</small></th>", esc(s), esc(d));
    }
    h.push_str("</tr>");
    for a in report
        .accounts
        .iter()
        .filter(|a| a.status != AccountStatus::Failed)
    {
        let _ = write!(h, "<tr><th>{}</th>", esc(&a.account_name));
        for (d, s) in &columns {
            match a
                .dimensions
                .iter()
                .find(|x| x.dimension == *d && x.subdimension == *s)
            {
                Some(x) => {
                    let _ = write!(
                        h,
                        "<td class=\"l{}\" style=\"background:{}\" data-dsomm-level=\"{}\" title=\"{} of {} activities evidenced, {} met\">{}{}<br><small>{}/{}</small></td>",
                        if x.unconfirmed { " unc" } else { "" },
                        COLOURS[usize::from(x.level.min(5))],
                        x.level,
                        x.activities_evidenced,
                        x.activities_in_model,
                        x.activities_met,
                        x.level,
                        if x.unconfirmed { "?" } else { "" },
                        x.activities_evidenced,
                        x.activities_in_model
                    );
                }
                None => h.push_str("<td>-</td>"),
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</table><p><small>n/m = activities of the sub-dimension that the checks evidence / activities in the model; activities without evidence neither raise nor lower the level.</small></p>");
}

/// The failing verdicts of an account's privilege-escalation check that carry paths.
fn escalations(a: &AccountReport) -> impl Iterator<Item = &maturity_checks::model::Verdict> {
    a.checks
        .iter()
        .filter(|c| c.id == "iam_no_privilege_escalation")
        .flat_map(|c| &c.verdicts)
        .filter(|v| v.status == Status::Fail && !v.paths.is_empty())
}

/// Each escalating principal's paths, step by step.
fn render_escalations(h: &mut String, a: &AccountReport) {
    if escalations(a).next().is_none() {
        return;
    }
    let _ = write!(
        h,
        "<h3 id=\"escalation-{}\">Privilege-escalation paths</h3><ul>",
        esc(&a.account_id)
    );
    for v in escalations(a) {
        let _ = write!(h, "<li>{}<ol>", esc(&v.resource));
        for p in &v.paths {
            h.push_str("<li>");
            for s in &p.steps {
                let _ = write!(
                    h,
                    "{} calls {} on {} and so {}; ",
                    esc(&maturity_checks::policy::escalation::arn_label(&s.actor)),
                    esc(&s.actions.join(", ")),
                    esc(&maturity_checks::policy::escalation::arn_label(&s.target)),
                    esc(&s.gains)
                );
            }
            let _ = write!(h, "reaching {}</li>", esc(&p.reaches));
        }
        h.push_str("</ol></li>");
    }
    h.push_str("</ul>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;
    use crate::state::Store;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn request(port: u16, path: &str, auth: Option<&str>) -> (u16, String) {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let auth = auth
            .map(|a| {
                format!(
                    "Authorization: Basic {}\r\n",
                    base64::engine::general_purpose::STANDARD.encode(a)
                )
            })
            .unwrap_or_default();
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
        (status, out)
    }

    /// With basic auth configured, every path but the probes needs the right user and password.
    #[tokio::test]
    async fn basic_auth_guards_everything_but_the_probes() {
        let dir = tempfile::tempdir().unwrap();
        let shared = shared(dir.path(), Some(("grafana".into(), "s3cret".into())));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move { axum::serve(listener, router(shared)).await });
        assert_eq!(request(port, "/healthz", None).await.0, 200);
        assert_eq!(
            request(port, "/readyz", None).await.0,
            503,
            "not ready before the first audit"
        );
        let (status, text) = request(port, "/metrics", None).await;
        assert_eq!(status, 401);
        assert!(
            text.contains("www-authenticate: Basic realm=\"maturity-agent\""),
            "{text}"
        );
        assert_eq!(
            request(port, "/metrics", Some("grafana:wrong")).await.0,
            401
        );
        assert_eq!(request(port, "/", Some("grafana:s3cre")).await.0, 401);
        let (status, text) = request(port, "/metrics", Some("grafana:s3cret")).await;
        assert_eq!(status, 200);
        assert!(text.contains("maturity_build_info"));
        assert_eq!(
            request(port, "/api/v1/report", Some("grafana:s3cret"))
                .await
                .0,
            503
        );
        assert_eq!(
            request(
                port,
                "/api/v1/accounts/111111111111",
                Some("grafana:s3cret")
            )
            .await
            .0,
            404
        );
        server.abort();
    }

    /// A request with a raw Authorization value (any scheme spelling).
    async fn raw(port: u16, head: &str) -> (u16, String) {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(format!("{head}\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        let out = String::from_utf8_lossy(&out).into_owned();
        let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
        (status, out)
    }

    fn shared(dir: &std::path::Path, auth: Option<(String, String)>) -> Arc<Shared> {
        Arc::new(Shared::new(
            Store::open(&dir.join("s.db")).unwrap(),
            Metrics::new(&[]),
            Arc::new(crate::alerts::Alerting::new(&Default::default()).expect("no sinks")),
            auth,
            std::time::Duration::from_secs(30),
            false,
        ))
    }

    async fn start(shared: Arc<Shared>) -> (u16, tokio::task::JoinHandle<std::io::Result<()>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let limits = Limits {
            max_connections: 8,
            header_read_timeout: Duration::from_secs(1),
        };
        let server = serve(listener, None, limits, axum_server::Handle::new(), shared).unwrap();
        (port, server)
    }

    /// The Basic scheme is accepted in any case (RFC 7235); every answer carries the headers of a
    /// page that describes weaknesses; an error never echoes raw request bytes.
    #[tokio::test]
    async fn scheme_case_headers_and_no_echo() {
        let dir = tempfile::tempdir().unwrap();
        let (port, server) = start(shared(dir.path(), Some(("g".into(), "pw".into())))).await;
        let b64 = base64::engine::general_purpose::STANDARD.encode("g:pw");
        for scheme in ["Basic", "basic", "BASIC"] {
            let (status, _) = raw(
                port,
                &format!("GET /metrics HTTP/1.1\r\nAuthorization: {scheme} {b64}"),
            )
            .await;
            assert_eq!(status, 200, "{scheme}");
        }
        assert_eq!(
            raw(
                port,
                &format!("GET /metrics HTTP/1.1\r\nAuthorization: Bearer {b64}")
            )
            .await
            .0,
            401
        );
        for path in ["/healthz", "/metrics"] {
            let (_, text) = raw(port, &format!("GET {path} HTTP/1.1")).await;
            let text = text.to_ascii_lowercase();
            for h in [
                "x-content-type-options: nosniff",
                "cache-control: no-store",
                "frame-ancestors 'none'",
                "x-frame-options: deny",
            ] {
                assert!(text.contains(h), "{path}: {h}\n{text}");
            }
        }
        let (status, text) = raw(
            port,
            &format!("GET /api/v1/accounts/%00%1b%0d%0aX-Injected:%20yes HTTP/1.1\r\nAuthorization: Basic {b64}"),
        )
        .await;
        assert_eq!(status, 400, "{text}");
        assert!(
            !text.contains('\0') && !text.contains('\x1b') && !text.contains("X-Injected"),
            "{text:?}"
        );
        server.abort();
    }

    /// A run that could not be saved makes /readyz answer 503 with the reason, until a save
    /// succeeds.
    #[tokio::test]
    async fn readyz_reports_the_last_save() {
        let dir = tempfile::tempdir().unwrap();
        let shared = shared(dir.path(), None);
        shared
            .ready
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let (port, server) = start(shared.clone()).await;
        assert_eq!(raw(port, "GET /readyz HTTP/1.1").await.0, 200);
        shared.saves.set(Err("disk full".into()));
        let (status, text) = raw(port, "GET /readyz HTTP/1.1").await;
        assert_eq!(status, 503);
        assert!(
            text.contains("the last run could not be saved: disk full"),
            "{text}"
        );
        shared.saves.set(Ok(chrono::Utc::now()));
        assert_eq!(raw(port, "GET /readyz HTTP/1.1").await.0, 200);
        server.abort();
    }

    /// Names and reasons from AWS are escaped in the page.
    #[test]
    fn page_escapes_what_it_shows() {
        let mut report =
            crate::state::tests::account("111111111111", Status::Fail, chrono::Utc::now());
        report.accounts[0].account_name = "<script>alert(1)</script>".into();
        let html = render(Some(&report));
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("id=\"heatmap\""));
        assert!(render(None).contains("No audit has finished yet."));
    }

    /// An account with an escalating principal links from the heatmap to its paths, which are
    /// listed step by step (escaped).
    #[test]
    fn page_links_escalation_paths() {
        use maturity_checks::model::{EscalationPath, EscalationStep};
        let mut report =
            crate::state::tests::account("111111111111", Status::Fail, chrono::Utc::now());
        let check = &mut report.accounts[0].checks[0];
        check.id = "iam_no_privilege_escalation".into();
        check.verdicts[0].resource = "arn:aws:iam::111111111111:role/ci<x>".into();
        check.verdicts[0].paths = vec![EscalationPath {
            steps: vec![EscalationStep {
                actor: "arn:aws:iam::111111111111:role/ci<x>".into(),
                primitive: "pass-role-lambda-invoke".into(),
                actions: vec!["iam:PassRole".into(), "lambda:CreateFunction".into()],
                target: "arn:aws:iam::111111111111:role/admin".into(),
                gains: "acts as role admin".into(),
            }],
            reaches: "administrator access".into(),
        }];
        let html = render(Some(&report));
        assert!(
            html.contains("<a href=\"#escalation-111111111111\">1 escalating principal</a>"),
            "{html}"
        );
        assert!(html.contains("<h3 id=\"escalation-111111111111\">"));
        assert!(html.contains("role ci&lt;x&gt; calls iam:PassRole, lambda:CreateFunction on role admin and so acts as role admin; reaching administrator access"), "{html}");
        assert!(
            !html.contains("id=\"dsomm\""),
            "no sub-dimension is evidenced by uuid n"
        );
        report.accounts[0].checks[0].dsomm_activity.uuid =
            maturity_checks::dsomm::HARDENING_OF_THE_ENVIRONMENT
                .uuid
                .into();
        maturity_checks::audit::rescore(&mut report.accounts[0]);
        let html = render(Some(&report));
        assert!(html.contains("<table id=\"dsomm\">"), "{html}");
        assert!(html.contains("Infrastructure Hardening<br><small>Implementation</small>"));
        report.accounts[0].checks[0].verdicts[0].paths.clear();
        assert!(!render(Some(&report)).contains("escalation-"));
    }
}
