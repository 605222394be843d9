//! The HTTP server beside the daemon: `/metrics`, `/healthz`, `/readyz`, `/api/v1/report`,
//! `/api/v1/accounts/{id}`, and a heatmap page at `/`. Everything is served from memory or the state
//! store; nothing here calls AWS or waits for an audit. Basic auth (when configured) guards every
//! path but the two probes, since the report describes weaknesses.

use crate::daemon::Shared;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use maturity_checks::model::{Practice, Status};
use maturity_checks::report::{AccountStatus, Report};
use std::fmt::Write;
use std::sync::Arc;

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
        .with_state(shared)
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
        .and_then(|v| v.strip_prefix("Basic "))
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
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        shared.metrics.encode(),
    )
}

async fn ready(State(shared): State<Arc<Shared>>) -> Response {
    let audited = shared.ready.load(std::sync::atomic::Ordering::SeqCst);
    let s = shared.clone();
    let writable = tokio::task::spawn_blocking(move || s.store.writable())
        .await
        .unwrap_or(false);
    match (audited, writable) {
        (true, true) => (StatusCode::OK, "ready\n").into_response(),
        (false, _) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the first audit has not finished\n",
        )
            .into_response(),
        (true, false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the state store is not writable\n",
        )
            .into_response(),
    }
}

fn latest(shared: &Shared) -> Option<Arc<Report>> {
    shared
        .latest
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

async fn report(State(shared): State<Arc<Shared>>) -> Response {
    match latest(&shared) {
        Some(r) => Json(r.as_ref().clone()).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "no audit has finished yet\n",
        )
            .into_response(),
    }
}

async fn account(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let current = latest(&shared).and_then(|r| r.account(&id).cloned());
    let s = shared.clone();
    let key = id.clone();
    let history = tokio::task::spawn_blocking(move || s.store.history(&key, 100)).await;
    match (current, history) {
        (None, _) => (
            StatusCode::NOT_FOUND,
            format!("account {id} is not in the latest report\n"),
        )
            .into_response(),
        (Some(a), Ok(Ok(h))) => {
            Json(serde_json::json!({ "account": a, "history": h })).into_response()
        }
        (Some(_), Ok(Err(e))) => {
            (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response()
        }
        (Some(_), Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
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

async fn page(State(shared): State<Arc<Shared>>) -> Html<String> {
    Html(render(latest(&shared).as_deref()))
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
            "<tr><th><a href=\"{anchor}\">{}</a><br><small>{}</small></th>",
            esc(&a.account_name),
            esc(&a.account_id)
        );
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
    }
    h.push_str("</body></html>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;
    use crate::state::Store;
    use std::sync::atomic::AtomicBool;
    use std::sync::RwLock;
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
        let shared = Arc::new(Shared {
            metrics: Metrics::new(&[]),
            store: Store::open(&dir.path().join("s.db")).unwrap(),
            latest: RwLock::new(None),
            ready: AtomicBool::new(false),
            auth: Some(("grafana".into(), "s3cret".into())),
            alerting: Arc::new(
                crate::alerts::Alerting::new(&Default::default()).expect("no sinks"),
            ),
        });
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
}
