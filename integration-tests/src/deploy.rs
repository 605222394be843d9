//! The deploy kit (`deploy/`) as data, for the tests that prove it: the Grafana dashboard's queries
//! with their template variables filled in, the alert rules, and YAML files as JSON values.

use crate::project_root;
use serde_json::Value;
use std::collections::BTreeSet;
use yaml_rust2::{Yaml, YamlLoader};

/// One PromQL query of a dashboard panel.
#[derive(Debug, Clone)]
pub struct PanelQuery {
    pub panel: String,
    pub ref_id: String,
    /// The expression as written, with Grafana's variables.
    pub expr: String,
    /// Grafana runs it as an instant query at the end of the time range (`"instant": true`), else as
    /// a range query over the time range.
    pub instant: bool,
}

/// What Grafana puts into a query's built-in variables for one look at the dashboard.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// The dashboard's time range: `$__range`.
    pub range: std::time::Duration,
    /// The step of range queries: `$__interval`.
    pub interval: std::time::Duration,
    /// The datasource's scrape interval (its `timeInterval`).
    pub scrape_interval: std::time::Duration,
}

impl View {
    /// `$__rate_interval` as Grafana computes it: `max($__interval + scrape interval, 4 × scrape
    /// interval)`, so that a rate's window always holds at least four samples.
    pub fn rate_interval(&self) -> std::time::Duration {
        (self.interval + self.scrape_interval).max(4 * self.scrape_interval)
    }
}

/// A duration as PromQL writes it, in whole seconds (at least one).
fn promql_duration(d: std::time::Duration) -> String {
    format!("{}s", d.as_secs().max(1))
}

impl PanelQuery {
    /// The expression Prometheus can evaluate: every account and practice selected (the variables'
    /// "All" value), `$__range` one day and `$__rate_interval` five minutes.
    pub fn promql(&self) -> String {
        self.fill("1d", "5m", "1m")
    }

    /// The expression as Grafana sends it for `view`, every account and practice selected.
    pub fn promql_in(&self, view: &View) -> String {
        self.fill(
            &promql_duration(view.range),
            &promql_duration(view.rate_interval()),
            &promql_duration(view.interval),
        )
    }

    fn fill(&self, range: &str, rate_interval: &str, interval: &str) -> String {
        fill_variables(&self.expr)
            .replace("$__range", range)
            .replace("$__rate_interval", rate_interval)
            .replace("$__interval", interval)
    }
}

/// `expr` with the dashboard's own variables at their "All" value (`.*`).
fn fill_variables(expr: &str) -> String {
    expr.replace("$account", ".*").replace("$practice", ".*")
}

/// One query variable of the dashboard: `label_values(selector, label)`.
#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    /// The series selector, other variables at their "All" value.
    pub selector: String,
    pub label: String,
}

/// The dashboard's query variables (those of type `query`). Panics on a query that is not
/// `label_values(selector, label)`, the one form the dashboard uses.
pub fn dashboard_variables() -> Vec<Variable> {
    dashboard()["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["type"] == "query")
        .map(|v| {
            let name = v["name"].as_str().unwrap_or_default().to_owned();
            let query = v["query"]["query"]
                .as_str()
                .or(v["query"].as_str())
                .unwrap_or_default();
            let (selector, label) = query
                .strip_prefix("label_values(")
                .and_then(|q| q.strip_suffix(')'))
                .and_then(|q| q.rsplit_once(','))
                .unwrap_or_else(|| {
                    panic!("variable {name}: not label_values(selector, label): {query}")
                });
            Variable {
                name,
                selector: fill_variables(selector.trim()),
                label: label.trim().to_owned(),
            }
        })
        .collect()
}

/// The dashboard `deploy/grafana/maturity.json`.
pub fn dashboard() -> Value {
    let path = project_root().join("deploy/grafana/maturity.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// Every query of every panel of the dashboard, rows' nested panels included.
pub fn dashboard_queries() -> Vec<PanelQuery> {
    fn walk(panels: &[Value], out: &mut Vec<PanelQuery>) {
        for p in panels {
            for t in p["targets"].as_array().into_iter().flatten() {
                out.push(PanelQuery {
                    panel: p["title"].as_str().unwrap_or_default().to_owned(),
                    ref_id: t["refId"].as_str().unwrap_or_default().to_owned(),
                    expr: t["expr"].as_str().unwrap_or_default().to_owned(),
                    instant: t["instant"] == true,
                });
            }
            walk(p["panels"].as_array().map_or(&[], Vec::as_slice), out);
        }
    }
    let d = dashboard();
    let mut out = Vec::new();
    walk(d["panels"].as_array().map_or(&[], Vec::as_slice), &mut out);
    out
}

/// One alerting rule of `deploy/prometheus/rules.yml`.
#[derive(Debug, Clone)]
pub struct AlertRule {
    pub alert: String,
    pub expr: String,
}

/// The alerting rules of `deploy/prometheus/rules.yml`.
pub fn alert_rules() -> Vec<AlertRule> {
    let rules = yaml_file("deploy/prometheus/rules.yml");
    rules["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .map(|r| AlertRule {
            alert: r["alert"].as_str().unwrap_or_default().to_owned(),
            expr: r["expr"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// The `maturity_*` metric names a PromQL expression reads.
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|t| t.starts_with("maturity_"))
        .map(str::to_owned)
        .collect()
}

/// A YAML file of the project (one document) as JSON. CloudFormation's short tags (`!Ref X`) keep
/// only their value (`X`).
pub fn yaml_file(relative: &str) -> Value {
    let path = project_root().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    assert_eq!(docs.len(), 1, "{path:?}: one YAML document expected");
    to_json(&docs[0])
}

fn to_json(y: &Yaml) -> Value {
    match y {
        Yaml::Real(s) => s.parse::<f64>().map_or(Value::Null, Value::from),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::from(s.as_str()),
        Yaml::Boolean(b) => Value::from(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        other => to_json(other).to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Yaml::Alias(_) | Yaml::Null | Yaml::BadValue => Value::Null,
    }
}
