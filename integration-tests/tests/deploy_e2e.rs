//! The deploy kit end to end: moto (the demo organization), the daemon on a 2-second schedule, a real
//! Prometheus (Debian's `prometheus`) running the shipped `deploy/prometheus/prometheus.yml` and
//! `rules.yml` (only targets and intervals changed: see `prometheus::derived_config`), and a real
//! Alertmanager (Debian's `prometheus-alertmanager`). Every query of the Grafana dashboard and every
//! alerting rule is evaluated by that Prometheus through its HTTP API.
//!
//! How each rule of `rules.yml` is proven:
//!
//! | rule | here |
//! |---|---|
//! | `MaturityLevelDropped` | fires live: a console user without MFA appears in production; the alert is firing in Prometheus and arrives in Alertmanager |
//! | `MaturityAlertsFailing` | fires live: the agent's webhook sink points at a closed port, so its deliveries fail |
//! | `MaturityAccountDown` | pending live (its `for` is 15 minutes): an account whose audit role cannot be assumed |
//! | `MaturityAgentDown` | pending live (its `for` is 5 minutes): the agent is stopped at the end |
//! | `MaturityAuditStale`, `MaturityAccountNotAudited` | need two hours without an audit: loaded, healthy and evaluated here; they fire in `promtool test rules` |
//! | `MaturityAlertOutboxGrowing` | compares with 30 minutes ago: loaded, healthy and evaluated here; fires in `promtool test rules` |
//! | `MaturityStateNotSaved` | needs a state store that stops taking writes: loaded, healthy and evaluated here; fires in `promtool test rules`; `hardening.rs` proves its two metrics move on a failed save |
//!
//! `promtool test rules deploy/prometheus/rules.test.yml` runs here too, and every rule must have a
//! firing expectation there.

use integration_tests::agent::{wait_for, Daemon};
use integration_tests::alertmanager::Alertmanager;
use integration_tests::deploy::{
    alert_rules, dashboard_queries, dashboard_variables, yaml_file, View,
};
use integration_tests::fault::Proxy;
use integration_tests::free_port;
use integration_tests::moto::Moto;
use integration_tests::prometheus::{derived_config, promtool, unix_now, Prometheus};
use integration_tests::seed::{self, Profile};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

/// The scrape and evaluation interval of the test's Prometheus, in seconds.
const INTERVAL: u64 = 1;

/// The alerts of `rule` in Prometheus in `state` (`pending` or `firing`).
fn alerts_of(prometheus: &Prometheus, rule: &str, state: &str) -> Vec<Value> {
    prometheus
        .alerts()
        .into_iter()
        .filter(|a| a["labels"]["alertname"] == rule && a["state"] == state)
        .collect()
}

/// The number of samples of an instant or range query's result.
fn samples(data: &Value) -> usize {
    match data["resultType"].as_str() {
        Some("scalar") | Some("string") => 1,
        _ => data["result"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| s["values"].as_array().map_or(1, Vec::len))
            .sum(),
    }
}

/// Alertmanager's config: every alert kept, sent nowhere (the test reads its API).
const ALERTMANAGER: &str = "route:\n  receiver: keep\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: keep\n";

fn agent_config(
    dir: &Path,
    endpoint: &str,
    accounts: &str,
    port: u16,
    am: &str,
) -> std::path::PathBuf {
    let path = dir.join("agent.toml");
    std::fs::write(
        &path,
        format!(
            "[aws]\nregions = [\"us-east-1\"]\nendpoint_url = \"{endpoint}\"\ncall_timeout_seconds = 5\nmax_attempts = 2\n\n\
             [audit]\naccount_timeout_seconds = 120\n\n{accounts}\
             [schedule]\ncron = \"*/2 * * * * *\"\nshutdown_grace_seconds = 10\n\n\
             [server]\nlisten = \"127.0.0.1:{port}\"\n\n[state]\npath = \"{state}\"\n\n\
             [checks]\ndisabled = [\"iam_root_mfa_enabled\"]\n\n\
             [alerts]\naudit_failing_after_runs = 1\nresend_interval_seconds = 2\nretry_initial_seconds = 0.5\nretry_max_seconds = 1\n\n\
             [[alerts.sinks]]\ntype = \"alertmanager\"\nurls = [\"{am}\"]\n\n\
             [[alerts.sinks]]\ntype = \"webhook\"\nurl = \"http://127.0.0.1:{closed}/hook\"\n",
            state = dir.join("state.db").display(),
            closed = free_port(),
        ),
    )
    .unwrap();
    path
}

/// Every dashboard query returns data from a Prometheus scraping the agent, every alerting rule is
/// loaded, healthy and evaluated, and the rules whose condition a short test can create fire (or are
/// pending) in Prometheus and reach Alertmanager; the others fire in promtool's unit tests.
#[tokio::test(flavor = "multi_thread")]
async fn dashboard_and_rules_work_against_a_real_prometheus() {
    let moto = Moto::start();
    let org = seed::seed_demo(&moto.endpoint).await.expect("seed");
    let prod = org.account(Profile::Production).clone();
    // A member whose audit role cannot be assumed: the account is down.
    let mgmt = seed::management_config(&moto.endpoint).await;
    let broken = aws_sdk_organizations::Client::new(&mgmt)
        .create_account()
        .email("aws+broken@example.com")
        .account_name("broken")
        .send()
        .await
        .unwrap()
        .create_account_status()
        .and_then(|s| s.account_id().map(str::to_owned))
        .unwrap();
    let proxy = Proxy::start(moto.port, format!("{broken}%3Arole")).await;

    let dir = tempfile::tempdir().unwrap();
    let am = Alertmanager::start(dir.path(), ALERTMANAGER);
    let port = free_port();
    let accounts = format!(
        "[[accounts]]\nid = \"{}\"\nname = \"production\"\nrole_arn = \"{}\"\nexternal_id = \"{ext}\"\n\n\
         [[accounts]]\nid = \"{broken}\"\nname = \"broken\"\nrole_arn = \"arn:aws:iam::{broken}:role/{role}\"\nexternal_id = \"{ext}\"\n\n",
        prod.id,
        prod.role_arn,
        ext = seed::EXTERNAL_ID,
        role = seed::AUDIT_ROLE,
    );
    let config = agent_config(dir.path(), &proxy.endpoint, &accounts, port, &am.url);
    let log = dir.path().join("agent.log");
    let mut daemon = Daemon::spawn(&config, &log, &[]);
    let prometheus = Prometheus::start(
        dir.path(),
        &derived_config(
            &format!("127.0.0.1:{port}"),
            &format!("127.0.0.1:{}", am.port),
            &format!("{INTERVAL}s"),
        ),
    );
    let has = |promql: &str| {
        prometheus
            .query(promql)
            .map(|d| samples(&d) > 0)
            .unwrap_or_else(|e| panic!("{e}"))
    };

    // The baseline: production audited and scraped for a while, so that the level before the
    // regression is in Prometheus and rate windows hold several samples.
    let up = format!("maturity_account_up{{account_id=\"{}\"}} == 1", prod.id);
    daemon.wait_for(120, "production audited, in Prometheus", || {
        has(&up).then_some(())
    });
    daemon.wait_for(30, "five scrapes", || {
        has("count_over_time(up{job=\"maturity-agent\"}[1m]) >= 5").then_some(())
    });

    // The regression: a console user without MFA drops production's identity level.
    let member = seed::member_config(&mgmt, &prod.id).await.unwrap();
    seed::console_user(&aws_sdk_iam::Client::new(&member), "mallory", false)
        .await
        .unwrap();
    let dropped = daemon.wait_for(60, "MaturityLevelDropped firing in Prometheus", || {
        let a = alerts_of(&prometheus, "MaturityLevelDropped", "firing");
        (!a.is_empty()).then_some(a)
    });
    assert!(
        dropped
            .iter()
            .any(|a| a["labels"]["account_id"] == prod.id.as_str()
                && a["labels"]["practice"] == "identity"),
        "{dropped:?}"
    );
    let received = daemon.wait_for(30, "MaturityLevelDropped in Alertmanager", || {
        am.alerts().into_iter().find(|a| {
            a["labels"]["alertname"] == "MaturityLevelDropped"
                && a["labels"]["practice"] == "identity"
        })
    });
    assert_eq!(received["labels"]["account_id"], prod.id.as_str());
    assert_eq!(received["labels"]["severity"], "warning");
    assert!(
        received["generatorURL"]
            .as_str()
            .unwrap_or_default()
            .contains("/graph?g0.expr=max+without+%28instance%2C+pod%29+%28maturity_level%29"),
        "sent by Prometheus for the rule: {received}"
    );
    assert!(
        received["annotations"]["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("production"),
        "{received}"
    );
    daemon.wait_for(
        60,
        "MaturityAlertsFailing firing for the webhook sink",
        || {
            alerts_of(&prometheus, "MaturityAlertsFailing", "firing")
                .iter()
                .any(|a| a["labels"]["sink"] == "webhook")
                .then_some(())
        },
    );
    daemon.wait_for(
        30,
        "MaturityAccountDown pending for the broken account",
        || {
            alerts_of(&prometheus, "MaturityAccountDown", "pending")
                .iter()
                .any(|a| a["labels"]["account_id"] == broken.as_str())
                .then_some(())
        },
    );

    // Every dashboard variable and query, as Grafana sends them for a time range that starts
    // when Prometheus did, on a datasource that scrapes every second.
    for v in dashboard_variables() {
        let values = prometheus
            .label_values(&v.label, &v.selector)
            .unwrap_or_else(|e| panic!("variable {}: {e}", v.name));
        assert!(!values.is_empty(), "variable {} has no values", v.name);
    }
    let end = unix_now();
    let view = View {
        range: Duration::from_secs_f64(end - prometheus.started_at),
        interval: Duration::from_secs(INTERVAL),
        scrape_interval: Duration::from_secs(INTERVAL),
    };
    let queries = dashboard_queries();
    assert!(queries.len() >= 15, "{queries:?}");
    let mut empty = Vec::new();
    for q in &queries {
        let promql = q.promql_in(&view);
        assert!(!promql.contains('$'), "unfilled variable: {promql}");
        let data = if q.instant {
            prometheus.query(&promql)
        } else {
            prometheus.query_range(
                &promql,
                prometheus.started_at,
                end,
                view.interval.as_secs_f64(),
            )
        }
        .unwrap_or_else(|e| panic!("panel {:?} {}: {e}", q.panel, q.ref_id));
        if samples(&data) == 0 {
            empty.push(format!("{:?} {}: {promql}", q.panel, q.ref_id));
        }
    }
    assert!(
        empty.is_empty(),
        "panels without data:\n{}",
        empty.join("\n")
    );
    // The regression shows where the dashboard puts it.
    let recent = queries
        .iter()
        .find(|q| q.panel == "Recent regressions")
        .expect("the panel Recent regressions");
    let rows = prometheus.query(&recent.promql_in(&view)).unwrap();
    assert!(
        rows["result"].as_array().unwrap().iter().any(|r| {
            r["metric"]["account_id"] == prod.id.as_str()
                && r["metric"]["practice"] == "identity"
                && r["value"][1].as_str().and_then(|v| v.parse::<f64>().ok()) > Some(0.0)
        }),
        "{rows}"
    );

    // Every rule of rules.yml is loaded, healthy, and was evaluated.
    let loaded = prometheus.rules();
    for rule in alert_rules() {
        let r = loaded
            .iter()
            .find(|r| r["name"] == rule.alert.as_str())
            .unwrap_or_else(|| panic!("{} not loaded: {loaded:?}", rule.alert));
        assert_eq!(r["type"], "alerting", "{r}");
        assert_eq!(r["health"], "ok", "{r}");
        assert!(
            r["lastError"].as_str().unwrap_or_default().is_empty(),
            "{r}"
        );
        let evaluated = r["lastEvaluation"].as_str().unwrap_or_default();
        assert!(
            !evaluated.is_empty() && !evaluated.starts_with("0001"),
            "{} never evaluated: {r}",
            rule.alert
        );
    }

    // The agent stops: Prometheus sees its target down.
    assert!(daemon.terminate().success());
    wait_for(30, "MaturityAgentDown pending", &log, || {
        (!alerts_of(&prometheus, "MaturityAgentDown", "pending").is_empty()).then_some(())
    });

    // The rules a short test cannot make fire, and every other one, fire in promtool's unit tests.
    let (ok, out) = promtool(&["test", "rules", "deploy/prometheus/rules.test.yml"]);
    assert!(ok, "promtool test rules:\n{out}");
    let tests = yaml_file("deploy/prometheus/rules.test.yml");
    let fired: BTreeSet<&str> = tests["tests"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["alert_rule_test"].as_array().into_iter().flatten())
        .filter(|a| a["exp_alerts"].as_array().is_some_and(|e| !e.is_empty()))
        .filter_map(|a| a["alertname"].as_str())
        .collect();
    for rule in alert_rules() {
        assert!(
            fired.contains(rule.alert.as_str()),
            "{} fires in no test of rules.test.yml",
            rule.alert
        );
    }
}
