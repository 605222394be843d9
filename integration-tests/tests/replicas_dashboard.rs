//! The shipped Grafana dashboard and Prometheus rules give the same answers whether one agent or
//! three replicas audit an organization. Two setups run side by side against one moto (an
//! organization of 12 accounts, one of which cannot be audited: its role is denied) on one
//! PostgreSQL cluster (a database each): one replica, and three replicas of which the lease holder
//! is killed (`kill -9`) right after a control breaks, so that ownership of its accounts and the
//! delivery of alerts move. A real Prometheus per setup runs the shipped `prometheus.yml` and
//! `rules.yml`, scraping its replicas with the labels the Prometheus operator gives a
//! ServiceMonitor's targets (`pod`, `namespace`, …).
//!
//! At one instant when neither setup is auditing, every dashboard query (as Grafana sends it for
//! the time range since Prometheus started) and every alerting rule's expression is evaluated in
//! both, with `instance` and `pod` dropped from the answers (they name the scraped process): the
//! answers must be equal. Equal means exactly equal, except where the value measures the run
//! rather than the organization (see [`same`]): timestamps and durations within a schedule
//! interval, counts of cycles within one, call and delivery rates by their series alone. A query
//! that answered once per replica would differ in its number of series.
//!
//! The page and the API answer the same bytes from either surviving replica, and the same verdicts
//! and levels as the one replica. While ownership moves, `maturity_account_up` of every auditable account stays 1 and no account
//! goes unaudited for longer than two intervals, in both setups (the staleness rules read that);
//! `MaturityAgentDown` is the one rule that is per replica by design: it is pending for the killed
//! pod alone.

use integration_tests::agent::Daemon;
use integration_tests::deploy::{alert_rules, dashboard_queries, dashboard_variables, View};
use integration_tests::fault::Proxy;
use integration_tests::free_port;
use integration_tests::http::{get, sample};
use integration_tests::moto::Moto;
use integration_tests::postgres::Postgres;
use integration_tests::prometheus::{derived_config, scrape_pods, unix_now, Prometheus};
use integration_tests::receiver::Receiver;
use integration_tests::seed;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const MFA: &str = "iam_console_users_mfa_enabled";
/// The checks audited, cheap on moto: identity at level 2 in the first account (its console user
/// has MFA, the root user no keys) until its MFA breaks, and two other practices.
const CHECKS: [&str; 4] = [
    MFA,
    "iam_root_access_keys_absent",
    "ebs_default_encryption_enabled",
    "guardduty_enabled",
];
const ACCOUNTS: usize = 12;
/// Seconds between cycles (the cron below).
const PERIOD: f64 = 15.0;
const SECRET: &str = "hook-secret-for-tests";
/// The labels that name the scraped process, dropped from every answer before comparing.
const PROCESS_LABELS: [&str; 2] = ["instance", "pod"];

/// One setup: its database, replicas (None once killed), their ports, and its Prometheus.
struct Setup {
    name: &'static str,
    db: String,
    ports: Vec<u16>,
    replicas: Vec<Option<Daemon>>,
    prometheus: Prometheus,
}

impl Setup {
    fn start(
        name: &'static str,
        n: usize,
        dir: &Path,
        endpoint: &str,
        pg: &Postgres,
        hook: &str,
    ) -> Setup {
        let dir = dir.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let db = pg.create_database();
        let disabled: Vec<String> = maturity_checks::catalog::CATALOG
            .iter()
            .map(|c| c.id())
            .filter(|id| !CHECKS.contains(id))
            .map(|id| format!("\"{id}\""))
            .collect();
        let env = [
            ("TEST_PG_PASSWORD", pg.password.as_str()),
            ("TEST_HOOK_SECRET", SECRET),
        ];
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let replicas = ports
            .iter()
            .enumerate()
            .map(|(i, port)| {
                let path = dir.join(format!("r{i}.toml"));
                std::fs::write(
                    &path,
                    format!(
                        "[aws]\nregions = [\"us-east-1\"]\nendpoint_url = \"{endpoint}\"\ncall_timeout_seconds = 5\nmax_attempts = 2\n\n\
                         [audit]\naccount_timeout_seconds = 120\nmax_concurrent_accounts = 2\n\n\
                         [organization]\ndiscover = true\nrole_name = \"OrganizationAccountAccessRole\"\nexclude_account_ids = [\"123456789012\"]\n\n\
                         [schedule]\ncron = \"*/15 * * * * *\"\nshutdown_grace_seconds = 10\n\n\
                         [server]\nlisten = \"127.0.0.1:{port}\"\n\n\
                         [state]\nurl = \"{url}\"\npassword_env = \"TEST_PG_PASSWORD\"\nlease_seconds = 3\n\n\
                         [alerts]\naudit_failing_after_runs = 2\nretry_initial_seconds = 0.5\nretry_max_seconds = 2\n\n\
                         [[alerts.sinks]]\ntype = \"webhook\"\nurl = \"{hook}/{name}\"\nsecret_env = \"TEST_HOOK_SECRET\"\n\n\
                         [checks]\ndisabled = [{disabled}]\n",
                        url = pg.url(&db, "sslmode=disable"),
                        disabled = disabled.join(", "),
                    ),
                )
                .unwrap();
                Some(Daemon::spawn(&path, &dir.join(format!("r{i}.log")), &env))
            })
            .collect();
        let pods: Vec<(String, String)> = ports
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("127.0.0.1:{p}"), format!("maturity-agent-{i}")))
            .collect();
        // No Alertmanager: the rules are read from Prometheus itself.
        let mut config = derived_config(&pods[0].0, &format!("127.0.0.1:{}", free_port()), "1s");
        scrape_pods(&mut config, &pods);
        let prometheus = Prometheus::start(&dir, &config);
        Setup {
            name,
            db,
            ports,
            replicas,
            prometheus,
        }
    }

    /// A live replica, for its log when a wait fails.
    fn any(&self) -> &Daemon {
        self.replicas
            .iter()
            .flatten()
            .next()
            .expect("a live replica")
    }

    /// The number of complete cycles (every account saved) in its state.
    fn complete(&self, pg: &Postgres) -> usize {
        pg.cycles(&self.db)
            .iter()
            .filter(|(_, n)| *n == ACCOUNTS)
            .count()
    }

    /// The firing notifications of `alertname` (and `check`, when given) its sink received.
    fn firing(&self, receiver: &Receiver, alertname: &str, check: Option<&str>) -> usize {
        receiver
            .received(self.name)
            .iter()
            .filter(|n| {
                let labels = &n.body["alert"]["labels"];
                n.body["status"] == "firing"
                    && labels["alertname"] == alertname
                    && check.is_none_or(|c| labels["check"] == c)
            })
            .count()
    }
}

/// How two setups' answers to one query must agree.
#[derive(Debug, Clone, Copy)]
enum Same {
    /// The same series with the same values.
    Exactly,
    /// The same series, each value within this much of the other's.
    Within(f64),
    /// The same series; their values measure the run (call rates, deliveries, durations).
    Series,
}

/// What each panel's query must agree on. A panel not named here must answer exactly alike.
fn same(panel: &str, ref_id: &str) -> Same {
    match (panel, ref_id) {
        // When each setup last audited each account, and started its last cycle: both follow the
        // same cron; a batch starts when a replica claims it.
        ("Last successful audit", _) => Same::Within(PERIOD * 1000.0),
        ("Since the last audit start", _) => Same::Within(5.0),
        // Cycles ended and ticks skipped in the time range: a kill may cost one.
        ("Audit runs", "A") | ("Audit runs", "B") => Same::Within(1.5),
        // One regression each, through `increase` (extrapolated over the range).
        ("Recent regressions", _) => Same::Within(0.5),
        ("Audit duration per account", _) | ("AWS API calls and errors", _) => Same::Series,
        ("Alert outbox and deliveries", "B") => Same::Series,
        _ => Same::Exactly,
    }
}

/// An answer as a panel shows it at the end of its range: each series' labels without the
/// process's, and its value then (range queries: the series with a point at `end`), sorted.
fn answer(data: &Value, end: f64) -> Vec<(BTreeMap<String, String>, f64)> {
    let value =
        |v: &Value| -> Option<(f64, f64)> { Some((v[0].as_f64()?, v[1].as_str()?.parse().ok()?)) };
    let mut out: Vec<(BTreeMap<String, String>, f64)> = match data["resultType"].as_str() {
        Some("scalar") => value(&data["result"])
            .map(|(_, v)| (BTreeMap::new(), v))
            .into_iter()
            .collect(),
        _ => data["result"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| {
                let point = match s["values"].as_array() {
                    Some(points) => points
                        .last()
                        .and_then(value)
                        .filter(|(t, _)| (t - end).abs() < 1.0)?,
                    None => value(&s["value"])?,
                };
                let labels = s["metric"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| !PROCESS_LABELS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect();
                Some((labels, point.1))
            })
            .collect(),
    };
    out.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    out
}

/// Whether two answers agree as `how` says; the reason when not.
fn agree(
    one: &[(BTreeMap<String, String>, f64)],
    three: &[(BTreeMap<String, String>, f64)],
    how: Same,
) -> Result<(), String> {
    let labels =
        |a: &[(BTreeMap<String, String>, f64)]| a.iter().map(|s| s.0.clone()).collect::<Vec<_>>();
    if labels(one) != labels(three) {
        return Err(format!(
            "other series:\n  one:   {one:?}\n  three: {three:?}"
        ));
    }
    for ((l, a), (_, b)) in one.iter().zip(three) {
        let ok = match how {
            Same::Exactly => a == b,
            Same::Within(d) => (a - b).abs() <= d,
            Same::Series => true,
        };
        if !ok {
            return Err(format!(
                "{l:?}: {a} with one replica, {b} with three ({how:?})"
            ));
        }
    }
    Ok(())
}

fn metric(port: u16, name: &str) -> Option<f64> {
    let text = get(port, "/metrics").map(|(_, b)| b).ok()?;
    sample(&text, name)
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboard_and_rules_answer_alike_with_one_and_three_replicas() {
    let moto = Moto::start();
    let ids = seed::bare_organization(&moto.endpoint, ACCOUNTS, "dash").await;
    // The last account's audit role is denied: it is down in both setups.
    let broken = ids[ACCOUNTS - 1].clone();
    let proxy = Proxy::start(moto.port, format!("{broken}%3Arole")).await;
    let pg = Postgres::start(None);
    let receiver = Receiver::start(SECRET).await;
    let dir = tempfile::tempdir().unwrap();
    let one = Setup::start("one", 1, dir.path(), &proxy.endpoint, &pg, &receiver.url);
    let mut three = Setup::start("three", 3, dir.path(), &proxy.endpoint, &pg, &receiver.url);
    let since = one.prometheus.started_at.max(three.prometheus.started_at);

    one.any()
        .wait_for(300, "two complete cycles in both states", || {
            (one.complete(&pg) >= 2 && three.complete(&pg) >= 2).then_some(())
        });
    let audited_at = unix_now();

    // A control breaks; the lease holder of the three (which starts the cycles and delivers the
    // alerts) dies at once.
    seed::break_mfa(&moto.endpoint, &ids[0]).await;
    let leader = three
        .any()
        .wait_for(30, "one lease holder among the three", || {
            let l: Vec<usize> = (0..3)
                .filter(|i| metric(three.ports[*i], "maturity_replica_leader") == Some(1.0))
                .collect();
            (l.len() == 1).then(|| l[0])
        });
    let mut dead = three.replicas[leader].take().unwrap().into_child();
    dead.kill().unwrap(); // SIGKILL
    dead.wait().unwrap();
    let killed_at = three.complete(&pg);

    // Both deliver the regression, and the broken account's failing audits, once each.
    one.any().wait_for(
        180,
        "the regression and the failing audits delivered by both",
        || {
            [&one, &three]
                .iter()
                .all(|s| {
                    s.firing(&receiver, "MaturityCheckRegressed", Some(MFA)) >= 1
                        && s.firing(&receiver, "MaturityAuditFailing", None) >= 1
                })
                .then_some(())
        },
    );
    three
        .any()
        .wait_for(180, "two more complete cycles of the two survivors", || {
            (three.complete(&pg) >= killed_at + 2).then_some(())
        });
    for s in [&one, &three] {
        assert_eq!(
            s.firing(&receiver, "MaturityCheckRegressed", Some(MFA)),
            1,
            "{}",
            s.name
        );
        assert_eq!(
            s.firing(&receiver, "MaturityAuditFailing", None),
            1,
            "{}",
            s.name
        );
    }

    // An instant when neither setup audits, and both Prometheus scraped that.
    let quiet = "max(maturity_audit_in_progress) == 0";
    let end = one.any().wait_for(60, "both setups between cycles", || {
        let idle = [&one, &three].iter().all(|s| {
            pg.cycles(&s.db).last().is_some_and(|(_, n)| *n == ACCOUNTS)
                && s.prometheus
                    .query(quiet)
                    .is_ok_and(|d| d["result"].as_array().is_some_and(|r| !r.is_empty()))
        });
        if idle {
            Some(unix_now())
        } else {
            std::thread::sleep(Duration::from_millis(200));
            None
        }
    });
    let view = View {
        range: Duration::from_secs_f64(end - since),
        interval: Duration::from_secs(1),
        scrape_interval: Duration::from_secs(1),
    };
    let ask = |s: &Setup, promql: &str, instant: bool| -> Vec<(BTreeMap<String, String>, f64)> {
        let data = if instant {
            s.prometheus.query_at(promql, end)
        } else {
            s.prometheus.query_range(promql, since, end, 1.0)
        }
        .unwrap_or_else(|e| panic!("{}: {e}", s.name));
        answer(&data, end)
    };

    // The dashboard's variables, then every panel's query.
    for v in dashboard_variables() {
        let values = |s: &Setup| s.prometheus.label_values(&v.label, &v.selector).unwrap();
        assert_eq!(values(&one), values(&three), "variable {}", v.name);
        assert!(!values(&one).is_empty(), "variable {}", v.name);
    }
    let mut differ = Vec::new();
    for q in dashboard_queries() {
        let promql = q.promql_in(&view);
        let (a, b) = (
            ask(&one, &promql, q.instant),
            ask(&three, &promql, q.instant),
        );
        if a.is_empty() {
            differ.push(format!(
                "{:?} {}: no answer with one replica: {promql}",
                q.panel, q.ref_id
            ));
        }
        if let Err(e) = agree(&a, &b, same(&q.panel, &q.ref_id)) {
            differ.push(format!("{:?} {}: {promql}\n{e}", q.panel, q.ref_id));
        }
    }
    // Every alerting rule's expression, and the alerts Prometheus holds.
    for rule in alert_rules()
        .iter()
        .filter(|r| r.alert != "MaturityAgentDown")
    {
        let (a, b) = (ask(&one, &rule.expr, true), ask(&three, &rule.expr, true));
        if let Err(e) = agree(&a, &b, Same::Exactly) {
            differ.push(format!("rule {}: {}\n{e}", rule.alert, rule.expr));
        }
    }
    assert!(
        differ.is_empty(),
        "answers that depend on the replicas:\n{}",
        differ.join("\n\n")
    );
    let held = |s: &Setup| -> Vec<String> {
        let mut a: Vec<String> = s
            .prometheus
            .alerts()
            .into_iter()
            .filter(|a| a["labels"]["alertname"] != "MaturityAgentDown")
            .map(|a| {
                let mut labels = a["labels"].as_object().cloned().unwrap_or_default();
                for l in PROCESS_LABELS {
                    labels.remove(l);
                }
                format!("{} {}", a["state"], Value::Object(labels))
            })
            .collect();
        a.sort();
        a
    };
    let alerts = held(&one);
    assert_eq!(alerts, held(&three), "the alerts in the two Prometheus");
    for want in ["MaturityLevelDropped", "MaturityAccountDown"] {
        assert!(
            alerts.iter().any(|a| a.contains(want)),
            "{want}: {alerts:?}"
        );
    }
    // The dead replica is the one thing Prometheus tells apart.
    let agent_down = |s: &Setup| -> Vec<String> {
        s.prometheus
            .alerts()
            .into_iter()
            .filter(|a| a["labels"]["alertname"] == "MaturityAgentDown")
            .map(|a| a["labels"]["pod"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert!(agent_down(&one).is_empty());
    assert_eq!(agent_down(&three), [format!("maturity-agent-{leader}")]);

    // The page and the API: the same bytes from either surviving replica (they serve the shared
    // state), and the same verdicts and levels as the one replica's.
    let live: Vec<u16> = (0..3)
        .filter(|i| *i != leader)
        .map(|i| three.ports[i])
        .collect();
    let body = |port: u16, path: &str| get(port, path).unwrap_or_else(|e| panic!("{path}: {e}")).1;
    for path in ["/", "/api/v1/report", "/api/v1/alerts"] {
        assert_eq!(
            body(live[0], path),
            body(live[1], path),
            "{path} differs between the replicas"
        );
    }
    let verdicts = |port: u16| -> Vec<Value> {
        let report: Value = serde_json::from_str(&body(port, "/api/v1/report")).unwrap();
        report["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let checks: Vec<Value> = a["checks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| serde_json::json!([c["id"], c["status"]]))
                    .collect();
                serde_json::json!({
                    "account_id": a["account_id"],
                    "status": a["status"],
                    "level": a["level"],
                    "confirmed_level": a["confirmed_level"],
                    "practices": a["practices"],
                    "checks": checks,
                })
            })
            .collect()
    };
    let served = verdicts(one.ports[0]);
    assert_eq!(served.len(), ACCOUNTS);
    assert_eq!(
        served,
        verdicts(live[0]),
        "the verdicts served by one replica and by three"
    );

    // While ownership moved: every auditable account up throughout, and audited at least once
    // every two intervals; the broken one down throughout.
    let window = format!("{}s", (end - audited_at).floor() as u64);
    for s in [&one, &three] {
        let up = ask(
            s,
            &format!("min_over_time((max by (account_id) (maturity_account_up))[{window}:1s])"),
            true,
        );
        assert_eq!(up.len(), ACCOUNTS, "{}: {up:?}", s.name);
        for (labels, v) in &up {
            let want = if labels["account_id"] == broken {
                0.0
            } else {
                1.0
            };
            assert_eq!(*v, want, "{}: {labels:?}", s.name);
        }
        let age = ask(
            s,
            &format!("max_over_time((time() - max by (account_id) (maturity_audit_last_success_timestamp_seconds))[{window}:1s])"),
            true,
        );
        assert_eq!(age.len(), ACCOUNTS - 1, "{}: {age:?}", s.name);
        for (labels, v) in &age {
            assert!(
                *v <= 2.0 * PERIOD + 10.0,
                "{}: {labels:?} unaudited for {v} s",
                s.name
            );
        }
    }

    // Each cycle of each state saved every account once: none skipped, none twice.
    for s in [&one, &three] {
        let cycles = pg.cycles(&s.db);
        for (id, n) in &cycles[..cycles.len() - 1] {
            assert!(
                *n == ACCOUNTS || *n == 0,
                "{}: cycle {id} saved {n}: {cycles:?}",
                s.name
            );
        }
    }
    let mut one = one;
    for r in one
        .replicas
        .iter_mut()
        .chain(three.replicas.iter_mut())
        .flatten()
    {
        assert!(r.terminate().success());
    }
}
