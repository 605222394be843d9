//! The `[alerts]` section: when regressions become alerts, and the sinks they are sent to.

use maturity_checks::model::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use toml::Spanned;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// An account that could not be audited this many runs in a row raises `MaturityAuditFailing`.
    pub audit_failing_after_runs: u32,
    /// New failing resources of a check that was already failing are a regression when the check's
    /// severity is at least this.
    pub new_failing_resources_min_severity: Severity,
    /// The agent's URL as people reach it (links in alerts), e.g. `https://maturity.example.com`.
    pub agent_url: Option<String>,
    /// Active alerts are re-sent to Alertmanager this often; keep it well below Alertmanager's
    /// `resolve_timeout` (default 5 m). Each re-send says the alert ends 4 intervals later unless
    /// re-sent again, so an agent that stops resolves its alerts rather than leaving them stuck.
    pub resend_interval_seconds: u64,
    /// First retry delay of an undelivered notification; it doubles per attempt up to
    /// `retry_max_seconds`, with jitter.
    pub retry_initial_seconds: f64,
    pub retry_max_seconds: f64,
    /// Where notifications go.
    pub sinks: Vec<Spanned<SinkConfig>>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            audit_failing_after_runs: 3,
            new_failing_resources_min_severity: Severity::High,
            agent_url: None,
            resend_interval_seconds: 60,
            retry_initial_seconds: 5.0,
            retry_max_seconds: 300.0,
            sinks: vec![],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SinkType {
    Alertmanager,
    Webhook,
    Slack,
}

impl SinkType {
    pub fn as_str(self) -> &'static str {
        match self {
            SinkType::Alertmanager => "alertmanager",
            SinkType::Webhook => "webhook",
            SinkType::Slack => "slack",
        }
    }
}

/// One sink. The keys a type does not use are refused for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkConfig {
    /// `alertmanager`, `webhook` or `slack`.
    #[serde(rename = "type")]
    pub kind: SinkType,
    /// The sink's name in metrics and logs (default: the type; names are unique).
    pub name: Option<String>,
    /// Only alerts of this severity or above.
    #[serde(default = "low")]
    pub min_severity: Severity,
    /// Only alerts whose labels have exactly these values (e.g. `{ practice = "identity" }`).
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    /// Time limit of one delivery attempt.
    #[serde(default = "ten")]
    pub timeout_seconds: u64,
    /// alertmanager: the base URLs of every Alertmanager of an HA pair or cluster; each gets every
    /// alert (they deduplicate).
    #[serde(default)]
    pub urls: Vec<String>,
    /// alertmanager: basic auth user, with the password from `basic_auth_password_env` or
    /// `basic_auth_password_file`.
    pub basic_auth_user: Option<String>,
    pub basic_auth_password_env: Option<String>,
    pub basic_auth_password_file: Option<PathBuf>,
    /// webhook and slack: the URL, given here (webhook only) or read from an environment variable
    /// or a file (first line). A Slack webhook URL is a secret: never write it here.
    pub url: Option<String>,
    pub url_env: Option<String>,
    pub url_file: Option<PathBuf>,
    /// webhook: the HMAC-SHA256 key of the `X-Maturity-Signature-256` header, from an environment
    /// variable or a file (first line).
    pub secret_env: Option<String>,
    pub secret_file: Option<PathBuf>,
    /// webhook: extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

fn low() -> Severity {
    Severity::Low
}

fn ten() -> u64 {
    10
}

impl SinkConfig {
    pub fn name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.kind.as_str().to_owned())
    }
}

fn is_url(s: &str) -> bool {
    (s.starts_with("http://") || s.starts_with("https://")) && s.len() > 8
}

impl AlertsConfig {
    /// Checks what the types cannot: each problem names the sink and the key.
    pub fn validate(
        &self,
        at: &dyn Fn(std::ops::Range<usize>) -> String,
        w: &crate::config::Where,
    ) -> Result<(), String> {
        w.within(
            &["alerts", "audit_failing_after_runs"],
            self.audit_failing_after_runs,
            1,
            10_000,
        )?;
        // Alertmanager is told that an alert ends 4 intervals after each re-send: keep that far
        // below its resolve_timeout and the arithmetic far from overflowing.
        w.within(
            &["alerts", "resend_interval_seconds"],
            self.resend_interval_seconds,
            1,
            3_600,
        )?;
        let (a, b) = (self.retry_initial_seconds, self.retry_max_seconds);
        if !(0.1..=3_600.0).contains(&a) {
            return Err(format!(
                "{}alerts.retry_initial_seconds = {a:?} is out of range: 0.1 to 3600",
                w.at(&["alerts", "retry_initial_seconds"])
            ));
        }
        if !(a..=86_400.0).contains(&b) {
            return Err(format!(
                "{}alerts.retry_max_seconds = {b:?} is out of range: retry_initial_seconds ({a:?}) to 86400",
                w.at(&["alerts", "retry_max_seconds"])
            ));
        }
        if let Some(u) = &self.agent_url {
            if !is_url(u) {
                return Err(format!(
                    "{}alerts.agent_url \"{u}\" is not an http(s) URL",
                    w.at(&["alerts", "agent_url"])
                ));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, s) in self.sinks.iter().enumerate() {
            let here = format!("{}: alerts.sinks[{i}]", at(s.span()));
            let s = s.get_ref();
            let name = s.name();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(format!(
                    "{here}.name \"{name}\" must be letters, digits, - or _"
                ));
            }
            if !names.insert(name.clone()) {
                return Err(format!(
                    "{here}: a second sink named \"{name}\"; give each sink a distinct name"
                ));
            }
            if !(1..=300).contains(&s.timeout_seconds) {
                return Err(format!(
                    "{here}.timeout_seconds = {} is out of range: 1 to 300",
                    s.timeout_seconds
                ));
            }
            let not_for = |key: &str, set: bool| -> Result<(), String> {
                if set {
                    Err(format!(
                        "{here}.{key} is not a key of {} sinks",
                        s.kind.as_str()
                    ))
                } else {
                    Ok(())
                }
            };
            let url_sources = [s.url.is_some(), s.url_env.is_some(), s.url_file.is_some()]
                .iter()
                .filter(|x| **x)
                .count();
            match s.kind {
                SinkType::Alertmanager => {
                    not_for("url", s.url.is_some())?;
                    not_for("url_env", s.url_env.is_some())?;
                    not_for("url_file", s.url_file.is_some())?;
                    not_for("secret_env", s.secret_env.is_some())?;
                    not_for("secret_file", s.secret_file.is_some())?;
                    not_for("headers", !s.headers.is_empty())?;
                    if s.urls.is_empty() {
                        return Err(format!("{here}.urls: name at least one Alertmanager URL"));
                    }
                    if let Some(u) = s.urls.iter().find(|u| !is_url(u)) {
                        return Err(format!("{here}.urls: \"{u}\" is not an http(s) URL"));
                    }
                    let pw = s.basic_auth_password_env.is_some() as u8
                        + s.basic_auth_password_file.is_some() as u8;
                    if s.basic_auth_user.is_some() != (pw == 1) || pw > 1 {
                        return Err(format!("{here}.basic_auth_user needs exactly one of basic_auth_password_env or basic_auth_password_file"));
                    }
                }
                SinkType::Webhook | SinkType::Slack => {
                    not_for("urls", !s.urls.is_empty())?;
                    not_for("basic_auth_user", s.basic_auth_user.is_some())?;
                    not_for(
                        "basic_auth_password_env",
                        s.basic_auth_password_env.is_some(),
                    )?;
                    not_for(
                        "basic_auth_password_file",
                        s.basic_auth_password_file.is_some(),
                    )?;
                    if url_sources != 1 {
                        return Err(format!(
                            "{here}: give exactly one of url, url_env or url_file"
                        ));
                    }
                    if let Some(u) = s.url.as_ref().filter(|u| !is_url(u)) {
                        return Err(format!("{here}.url \"{u}\" is not an http(s) URL"));
                    }
                    if s.kind == SinkType::Slack {
                        not_for("url", s.url.is_some())?;
                        not_for("secret_env", s.secret_env.is_some())?;
                        not_for("secret_file", s.secret_file.is_some())?;
                        not_for("headers", !s.headers.is_empty())?;
                    } else if s.secret_env.is_some() && s.secret_file.is_some() {
                        return Err(format!("{here}: give one of secret_env or secret_file"));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Reads a secret from an environment variable or a file (first line); the error names where, never
/// the value.
pub fn read_secret(
    what: &str,
    env: Option<&str>,
    file: Option<&std::path::Path>,
) -> Result<Option<String>, String> {
    let value = if let Some(var) = env {
        std::env::var(var).map_err(|_| format!("{what}: environment variable {var} is not set"))?
    } else if let Some(path) = file {
        std::fs::read_to_string(path)
            .map_err(|e| format!("{what}: cannot read {}: {e}", path.display()))?
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    } else {
        return Ok(None);
    };
    if value.trim().is_empty() {
        return Err(format!("{what}: the secret is empty"));
    }
    Ok(Some(value.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    const BASE: &str = "[[accounts]]\nid = \"111111111111\"\nname = \"prod\"\n";

    fn err(alerts: &str) -> String {
        Config::parse(&format!("{BASE}{alerts}")).unwrap_err()
    }

    /// Sink configs parse with defaults, and every mistake names the sink and the key.
    #[test]
    fn sinks_parse_and_mistakes_are_named() {
        let ok = Config::parse(&format!(
            "{BASE}[alerts]\nagent_url = \"https://m.example\"\n[[alerts.sinks]]\ntype = \"alertmanager\"\nurls = [\"http://am-0:9093\", \"http://am-1:9093\"]\nmin_severity = \"high\"\nmatch_labels = {{ practice = \"identity\" }}\n[[alerts.sinks]]\ntype = \"webhook\"\nurl = \"https://hooks.example/x\"\nsecret_env = \"HOOK_KEY\"\n[[alerts.sinks]]\ntype = \"slack\"\nurl_env = \"SLACK_URL\"\n"
        ))
        .unwrap();
        assert_eq!(ok.alerts.sinks.len(), 3);
        assert_eq!(ok.alerts.audit_failing_after_runs, 3);
        assert_eq!(ok.alerts.sinks[2].get_ref().name(), "slack");
        assert_eq!(
            err("[[alerts.sinks]]\ntype = \"pager\"\n"),
            "line 5: unknown variant `pager`, expected one of `alertmanager`, `webhook`, `slack`"
        );
        assert_eq!(
            err("[[alerts.sinks]]\ntype = \"alertmanager\"\n"),
            "line 4: alerts.sinks[0].urls: name at least one Alertmanager URL"
        );
        assert_eq!(
            err("[[alerts.sinks]]\ntype = \"slack\"\nurl = \"https://hooks.slack.com/x\"\n"),
            "line 4: alerts.sinks[0].url is not a key of slack sinks"
        );
        assert_eq!(
            err("[[alerts.sinks]]\ntype = \"webhook\"\n"),
            "line 4: alerts.sinks[0]: give exactly one of url, url_env or url_file"
        );
        assert_eq!(
            err("[[alerts.sinks]]\ntype = \"webhook\"\nurl = \"ftp://x\"\n"),
            "line 4: alerts.sinks[0].url \"ftp://x\" is not an http(s) URL"
        );
        assert_eq!(
            err("[[alerts.sinks]]\ntype = \"webhook\"\nurl = \"http://a.example\"\n[[alerts.sinks]]\ntype = \"webhook\"\nurl = \"http://b.example\"\n"),
            "line 7: alerts.sinks[1]: a second sink named \"webhook\"; give each sink a distinct name"
        );
        assert_eq!(
            err("[[alerts.sinks]]\ntype = \"alertmanager\"\nurls = [\"http://am:9093\"]\nmin_severity = \"urgent\"\n"),
            "line 7: unknown variant `urgent`, expected one of `low`, `medium`, `high`, `critical`"
        );
        assert_eq!(
            err("[alerts]\nretry_initial_seconds = 0\n"),
            "line 5: alerts.retry_initial_seconds = 0.0 is out of range: 0.1 to 3600"
        );
    }

    /// A secret that is not where the config says is named at start, without its value.
    #[test]
    fn missing_secret_is_named() {
        let c = Config::parse(&format!(
            "{BASE}[[alerts.sinks]]\ntype = \"slack\"\nname = \"oncall\"\nurl_env = \"MATURITY_TEST_UNSET_VARIABLE\"\n"
        ))
        .unwrap();
        let e = crate::alerts::Alerting::new(&c.alerts).err().unwrap();
        assert_eq!(e, "alerts sink \"oncall\" url: environment variable MATURITY_TEST_UNSET_VARIABLE is not set");
    }
}
