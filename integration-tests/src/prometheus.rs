//! A real Prometheus (Debian's `prometheus`) for one test, on a loopback port, bound to the test
//! process through `scripts/bound` so that it stops when the test does, and a client for the parts
//! of its HTTP API the tests read: instant and range queries, label values, rules and alerts.
//!
//! Its configuration is derived from the shipped `deploy/prometheus/prometheus.yml` by
//! [`derived_config`], which changes only what must differ in a test (targets, intervals, where the
//! rule files lie), so that a test running it proves the shipped configuration.

use crate::deploy::yaml_file;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const BINARY: &str = "/usr/bin/prometheus";
pub const PROMTOOL: &str = "/usr/bin/promtool";

/// The shipped configuration's directory, against which its relative `rule_files` resolve.
const SHIPPED_DIR: &str = "deploy/prometheus";

/// The shipped `deploy/prometheus/prometheus.yml`, with its job `maturity-agent` scraping `agent`
/// (`host:port`), its Alertmanagers replaced by `alertmanager`, scrape and evaluation intervals set
/// to `interval` (e.g. `1s`), and its `rule_files` made absolute (Prometheus resolves them against
/// the config file's directory, which is a temporary one in a test). Everything else is kept.
/// Panics when the shipped file no longer has the shape this relies on.
pub fn derived_config(agent: &str, alertmanager: &str, interval: &str) -> Value {
    let mut config = yaml_file(&format!("{SHIPPED_DIR}/prometheus.yml"));
    for key in ["scrape_interval", "evaluation_interval"] {
        assert!(
            config["global"][key].is_string(),
            "prometheus.yml: global.{key} is gone"
        );
        config["global"][key] = json!(interval);
    }
    let rule_files = config["rule_files"]
        .as_array_mut()
        .filter(|r| !r.is_empty())
        .expect("prometheus.yml: rule_files");
    let dir = crate::project_root().join(SHIPPED_DIR);
    for file in rule_files {
        let path = dir.join(file.as_str().expect("rule file path"));
        assert!(
            path.exists(),
            "prometheus.yml names {path:?}, which is missing"
        );
        *file = json!(path.to_str().expect("UTF-8 path"));
    }
    let managers = config["alerting"]["alertmanagers"]
        .as_array_mut()
        .filter(|a| a.len() == 1)
        .expect("prometheus.yml: one alerting.alertmanagers entry");
    managers[0]["static_configs"] = json!([{ "targets": [alertmanager] }]);
    let jobs = config["scrape_configs"]
        .as_array_mut()
        .expect("prometheus.yml: scrape_configs");
    let job = jobs
        .iter_mut()
        .find(|j| j["job_name"] == "maturity-agent")
        .expect(
            "prometheus.yml: the job maturity-agent (the rules select up{job=\"maturity-agent\"})",
        );
    job["static_configs"] = json!([{ "targets": [agent] }]);
    config
}

/// Replaces the targets of the job `maturity-agent` of a [`derived_config`] with one per pod, each
/// `(host:port, pod name)` labelled the way the Prometheus operator labels a ServiceMonitor's
/// targets (`pod`, `namespace`, `service`, `container`, `endpoint`), so that a test sees the labels
/// the shipped queries meet in Kubernetes.
pub fn scrape_pods(config: &mut Value, pods: &[(String, String)]) {
    let job = config["scrape_configs"]
        .as_array_mut()
        .and_then(|jobs| jobs.iter_mut().find(|j| j["job_name"] == "maturity-agent"))
        .expect("prometheus.yml: the job maturity-agent");
    job["static_configs"] = pods
        .iter()
        .map(|(target, pod)| {
            json!({
                "targets": [target],
                "labels": {
                    "pod": pod,
                    "namespace": "maturity",
                    "service": "maturity-agent",
                    "container": "agent",
                    "endpoint": "metrics",
                },
            })
        })
        .collect();
}

/// Seconds since the epoch, as the API takes times.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

/// A running Prometheus; stopped on drop.
pub struct Prometheus {
    child: Option<Child>,
    pub port: u16,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// When it was ready (seconds since the epoch): it holds no sample before.
    pub started_at: f64,
    log: PathBuf,
}

impl Prometheus {
    /// Writes `config` (JSON, which YAML includes) to `dir`, starts Prometheus on a free port with
    /// its database in `dir`, and waits until it is ready. Panics, saying how to install it, when the
    /// binary is missing.
    pub fn start(dir: &Path, config: &Value) -> Prometheus {
        assert!(
            Path::new(BINARY).exists(),
            "{BINARY} is missing: install Debian's Prometheus with `apt-get install prometheus` (.ci/run does)"
        );
        let file = dir.join("prometheus.yml");
        std::fs::write(&file, serde_json::to_string_pretty(config).expect("JSON"))
            .expect("write prometheus.yml");
        let port = crate::free_port();
        let log = dir.join("prometheus.log");
        let child = Command::new(crate::project_root().join("scripts/bound"))
            .args([&std::process::id().to_string(), "1800", "--", BINARY])
            .arg(format!("--config.file={}", file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("prometheus-data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("prometheus log"))
            .spawn()
            .expect("start prometheus");
        let mut p = Prometheus {
            child: Some(child),
            port,
            url: format!("http://127.0.0.1:{port}"),
            started_at: 0.0,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok((200, _)) = crate::http::get(port, "/-/ready") {
                p.started_at = unix_now();
                return p;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "Prometheus did not get ready on port {port}; its log:\n{}",
            p.log()
        );
    }

    /// What Prometheus logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET /api/v1/<path>?<params>`: the `data` of a successful answer, or the error Prometheus gave.
    pub fn api(&self, path: &str, params: &[(&str, String)]) -> Result<Value, String> {
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, NON_ALPHANUMERIC),
                    utf8_percent_encode(v, NON_ALPHANUMERIC)
                )
            })
            .collect();
        let url = format!("/api/v1/{path}?{}", query.join("&"));
        let (status, body) =
            crate::http::get(self.port, &url).map_err(|e| format!("{url}: {e}"))?;
        let answer: Value = serde_json::from_str(&body)
            .map_err(|e| format!("{url}: HTTP {status}, {e}: {body}"))?;
        if answer["status"] == "success" {
            Ok(answer["data"].clone())
        } else {
            Err(format!(
                "{url}: HTTP {status}, {}: {}",
                answer["errorType"], answer["error"]
            ))
        }
    }

    /// An instant query now (`/api/v1/query`): its `data` (`resultType`, `result`).
    pub fn query(&self, promql: &str) -> Result<Value, String> {
        self.api("query", &[("query", promql.to_owned())])
    }

    /// An instant query at `time` (seconds since the epoch): its `data`.
    pub fn query_at(&self, promql: &str, time: f64) -> Result<Value, String> {
        self.api(
            "query",
            &[("query", promql.to_owned()), ("time", format!("{time:.3}"))],
        )
    }

    /// A range query (`/api/v1/query_range`) from `start` to `end` (seconds since the epoch) every
    /// `step` seconds: its `data`.
    pub fn query_range(
        &self,
        promql: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<Value, String> {
        self.api(
            "query_range",
            &[
                ("query", promql.to_owned()),
                ("start", format!("{start:.3}")),
                ("end", format!("{end:.3}")),
                ("step", format!("{step}")),
            ],
        )
    }

    /// The values of `label` over the series `selector` selects (`/api/v1/label/<label>/values`).
    pub fn label_values(&self, label: &str, selector: &str) -> Result<Vec<String>, String> {
        let data = self.api(
            &format!("label/{label}/values"),
            &[("match[]", selector.to_owned())],
        )?;
        Ok(data
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect())
    }

    /// Every rule of every loaded group (`/api/v1/rules`), with its `health`, `lastError`,
    /// `lastEvaluation` and, for alerting rules, `state` and `alerts`.
    pub fn rules(&self) -> Vec<Value> {
        self.api("rules", &[]).unwrap_or_else(|e| panic!("{e}"))["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// The alerts of every alerting rule, pending and firing (`/api/v1/alerts`).
    pub fn alerts(&self) -> Vec<Value> {
        self.api("alerts", &[])
            .map(|d| d["alerts"].as_array().cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Stops it (SIGTERM to the wrapper, which stops Prometheus) and waits.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let _ = c.wait();
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs `promtool` with `args` in the project's root: its exit status and its output (stdout, then
/// stderr). Panics, saying how to install it, when it is missing.
pub fn promtool(args: &[&str]) -> (bool, String) {
    assert!(
        Path::new(PROMTOOL).exists(),
        "{PROMTOOL} is missing: install Debian's Prometheus with `apt-get install prometheus` (.ci/run does)"
    );
    let out = Command::new(PROMTOOL)
        .args(args)
        .current_dir(crate::project_root())
        .output()
        .expect("run promtool");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}
