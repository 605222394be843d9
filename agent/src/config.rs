//! The agent's TOML configuration. Every key is documented in `config.example.toml`; unknown keys
//! are refused, and every error names the key and the line.

use maturity_checks::catalog;
use maturity_checks::settings::Settings;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A configuration that could not be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub aws: AwsConfig,
    #[serde(default)]
    pub audit: AuditConfig,
    /// The accounts to audit (at least one).
    #[serde(default)]
    pub accounts: Vec<Spanned<AccountConfig>>,
    #[serde(default)]
    pub checks: ChecksConfig,
    /// Accounts discovered through AWS Organizations (daemon and one-shot audit alike).
    #[serde(default)]
    pub organization: OrganizationConfig,
    /// When the daemon audits.
    #[serde(default)]
    pub schedule: ScheduleConfig,
    /// The daemon's HTTP server: metrics, API, page.
    #[serde(default)]
    pub server: ServerConfig,
    /// The daemon's persistent state.
    #[serde(default)]
    pub state: StateConfig,
    /// Regression alerts and their sinks.
    #[serde(default)]
    pub alerts: crate::alerts::config::AlertsConfig,
    /// Event-driven re-checks from CloudTrail events on an SQS queue (`crate::events`).
    #[serde(default)]
    pub events: crate::events::config::EventsConfig,
    /// Teams of the DSOMM export, each owning accounts (`crate::export`).
    #[serde(default)]
    pub teams: Vec<Spanned<crate::export::TeamConfig>>,
    /// Accepted findings (`crate::exceptions`).
    #[serde(default)]
    pub exceptions: Vec<Spanned<crate::exceptions::ExceptionConfig>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrganizationConfig {
    /// Discover accounts with Organizations `ListAccounts` (through the OU tree) from the management
    /// or a delegated administrator account.
    pub discover: bool,
    /// A role to assume for the Organizations calls; omit to use the agent's own credentials.
    pub management_role_arn: Option<Spanned<RoleArn>>,
    /// The audit role's name in every discovered account; `{account_id}` and the partition are filled
    /// in: arn:aws:iam::{account_id}:role/{role_name}.
    pub role_name: String,
    /// The external id the audit roles require.
    pub external_id: Option<String>,
    /// Only these account ids (empty: all).
    pub include_account_ids: Vec<AccountId>,
    /// Never these account ids (e.g. the management account).
    pub exclude_account_ids: Vec<AccountId>,
    /// Only accounts under one of these OUs (OU ids `ou-…` or names, anywhere on the account's path).
    pub include_ous: Vec<String>,
    /// Never accounts under one of these OUs.
    pub exclude_ous: Vec<String>,
    /// Only accounts that carry all these tags with these values.
    pub include_tags: std::collections::BTreeMap<String, String>,
    /// Never accounts that carry any of these tags with these values.
    pub exclude_tags: std::collections::BTreeMap<String, String>,
}

impl Default for OrganizationConfig {
    fn default() -> Self {
        OrganizationConfig {
            discover: false,
            management_role_arn: None,
            role_name: "maturity-agent-audit".into(),
            external_id: None,
            include_account_ids: vec![],
            exclude_account_ids: vec![],
            include_ous: vec![],
            exclude_ous: vec![],
            include_tags: Default::default(),
            exclude_tags: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// Cron expression with seconds: `sec min hour day-of-month month day-of-week`. Default: hourly.
    pub cron: Spanned<String>,
    /// Time zone of the cron expression (IANA name). Default UTC.
    pub timezone: Spanned<String>,
    /// On SIGTERM/SIGINT, how long a running audit may take to finish before it is cancelled.
    pub shutdown_grace_seconds: u64,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            cron: Spanned::new(0..0, "0 0 * * * *".into()),
            timezone: Spanned::new(0..0, "UTC".into()),
            shutdown_grace_seconds: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address of the HTTP server (metrics, API, page).
    pub listen: Spanned<String>,
    /// TLS for the server: PEM certificate chain and private key files.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    /// Basic auth for every path except /healthz: the user name.
    pub basic_auth_user: Option<String>,
    /// The basic-auth password, read from this environment variable…
    pub basic_auth_password_env: Option<String>,
    /// …or from this file (first line, trimmed). Never from the config itself.
    pub basic_auth_password_file: Option<PathBuf>,
    /// Connections served at once; past it new connections are closed at once, so that idle or
    /// slow clients cannot starve the probes and Prometheus.
    pub max_connections: usize,
    /// Time a client has to send a request's headers, from the connection's start or the end of
    /// its previous response (the keep-alive idle limit). Also the TLS handshake's limit.
    pub header_read_timeout_seconds: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: Spanned::new(0..0, "0.0.0.0:9464".into()),
            tls_cert_file: None,
            tls_key_file: None,
            basic_auth_user: None,
            basic_auth_password_env: None,
            basic_auth_password_file: None,
            max_connections: 512,
            header_read_timeout_seconds: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// The SQLite database file (a mounted volume in containers), when `url` is not set. Default
    /// `/var/lib/maturity-agent/state.db`.
    pub path: Option<PathBuf>,
    /// A PostgreSQL database instead of SQLite, shared by every replica that names it:
    /// `postgres://USER@HOST:PORT/DATABASE`, with `?sslmode=disable|prefer|require` (prefer when
    /// absent: TLS when the server offers it; the certificate is always verified). Never the
    /// password: it comes from `password_env` or `password_file`.
    pub url: Option<String>,
    /// The environment variable that holds the PostgreSQL password.
    pub password_env: Option<String>,
    /// The file whose first line is the PostgreSQL password.
    pub password_file: Option<PathBuf>,
    /// PEM certificates that verify the PostgreSQL server's (default: the Mozilla roots).
    pub ca_file: Option<PathBuf>,
    /// With `url`: how long a claim on an account, and the lease of the replica that starts the
    /// cycles and delivers the alerts, run without renewal (renewed every third of it). A replica
    /// that dies loses both within this time, and the others audit its accounts.
    pub lease_seconds: u64,
    /// Runs older than this many days are deleted (the latest run of each account is always kept).
    pub retention_days: u32,
    /// An `unknown` verdict is scored with the previous known verdict for this many hours, and says so.
    pub unknown_staleness_hours: u32,
}

impl StateConfig {
    /// The SQLite file (the configured one or the default).
    pub fn sqlite_path(&self) -> PathBuf {
        self.path
            .clone()
            .unwrap_or_else(|| PathBuf::from("/var/lib/maturity-agent/state.db"))
    }
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            path: None,
            url: None,
            password_env: None,
            password_file: None,
            ca_file: None,
            lease_seconds: 30,
            retention_days: 90,
            unknown_staleness_hours: 72,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwsConfig {
    /// Regions to audit; the first one is also used for global services and STS. `["all"]` audits
    /// every region enabled in each account (EC2 `DescribeRegions`).
    pub regions: Spanned<Vec<Region>>,
    /// Region of global services and STS when `regions = ["all"]` (default us-east-1).
    pub home_region: Option<Region>,
    /// Send every AWS call to this URL instead of AWS (an emulator such as moto). Turns on
    /// path-style S3 addressing.
    pub endpoint_url: Option<EndpointUrl>,
    /// Time limit of one API call, retries included, in seconds.
    pub call_timeout_seconds: u64,
    /// Attempts per API call (adaptive retry with backoff on throttling).
    pub max_attempts: u32,
    /// Client-side limit of requests per second per service and account; 0 turns it off.
    pub max_requests_per_second: f64,
}

impl Default for AwsConfig {
    fn default() -> Self {
        AwsConfig {
            regions: Spanned::new(0..0, vec![Region("us-east-1".into())]),
            home_region: None,
            endpoint_url: None,
            call_timeout_seconds: 30,
            max_attempts: 5,
            max_requests_per_second: 10.0,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// How many accounts are audited at once.
    pub max_concurrent_accounts: usize,
    /// Time limit of one account's audit, in seconds; past it the account is reported as failed.
    pub account_timeout_seconds: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            max_concurrent_accounts: 4,
            account_timeout_seconds: 600,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The 12-digit account id.
    pub id: Spanned<AccountId>,
    /// A name for people (reports, metrics).
    pub name: String,
    /// The role to assume in the account; omit to audit with the agent's own credentials.
    pub role_arn: Option<Spanned<RoleArn>>,
    /// The external id the role's trust policy requires.
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChecksConfig {
    /// Check ids not to run (see `maturity-agent checks`).
    pub disabled: Vec<Spanned<String>>,
    /// Thresholds of the checks.
    pub settings: Settings,
}

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct AccountId(pub String);

impl TryFrom<String> for AccountId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(s))
        } else {
            Err(format!("account id \"{s}\" is not 12 digits"))
        }
    }
}

/// An AWS region name such as `eu-west-1`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Region(pub String);

impl TryFrom<String> for Region {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s == "all" {
            return Ok(Region(s));
        }
        let parts: Vec<&str> = s.split('-').collect();
        let ok = parts.len() >= 3
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
            && parts
                .last()
                .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
        if ok {
            Ok(Region(s))
        } else {
            Err(format!(
                "\"{s}\" is not an AWS region name (like eu-west-1)"
            ))
        }
    }
}

/// An IAM role ARN.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct RoleArn(pub String);

impl RoleArn {
    pub fn account(&self) -> &str {
        self.0.split(':').nth(4).unwrap_or_default()
    }
}

/// The AWS partitions (the second field of an ARN).
const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// IAM's grammar of a role's resource: `role/` + an optional path (`/` + printable ASCII, up to 512
/// characters, ending in `/`) + a name of 1–64 of `A-Za-z0-9+=,.@_-`.
fn is_role_resource(resource: &str) -> bool {
    let Some(rest) = resource.strip_prefix("role/") else {
        return false;
    };
    let (path, name) = match rest.rfind('/') {
        Some(i) => (&rest[..=i], &rest[i + 1..]),
        None => ("", rest),
    };
    let path_ok = path.len() < 512 && path.bytes().all(|b| (0x21..=0x7e).contains(&b));
    let name_ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    path_ok && name_ok
}

impl TryFrom<String> for RoleArn {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && PARTITIONS.contains(&parts[1])
            && parts[2] == "iam"
            && parts[3].is_empty()
            && parts[4].len() == 12
            && parts[4].bytes().all(|b| b.is_ascii_digit())
            && is_role_resource(parts[5]);
        if ok {
            Ok(RoleArn(s))
        } else {
            Err(format!(
                "\"{s}\" is not an IAM role ARN (arn:PARTITION:iam::123456789012:role/[PATH/]NAME; partition aws, aws-cn, aws-us-gov, …; a name of 1-64 of A-Za-z0-9+=,.@_-)"
            ))
        }
    }
}

/// An http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct EndpointUrl(pub String);

impl TryFrom<String> for EndpointUrl {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if (s.starts_with("http://") || s.starts_with("https://")) && s.len() > 8 {
            Ok(EndpointUrl(s.trim_end_matches('/').to_owned()))
        } else {
            Err(format!(
                "endpoint_url \"{s}\" is not an http:// or https:// URL"
            ))
        }
    }
}

/// Validates a cron expression the way the scheduler will read it (six or seven fields, seconds first).
struct CronCheck;

impl std::str::FromStr for CronCheck {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let fields = s.split_whitespace().count();
        if !(6..=7).contains(&fields) {
            return Err(format!(
                "has {fields} fields; write sec min hour day-of-month month day-of-week [year]"
            ));
        }
        tokio_cron_scheduler::Job::new_async(s, |_, _| Box::pin(async {}))
            .map_err(|e| format!("is not a cron expression: {e:?}"))?;
        // The scheduler's own parser settings (tokio-cron-scheduler's `Job::new_async`).
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Required)
            .dom_and_dow(true)
            .build()
            .parse(s)
            .map_err(|e| format!("is not a cron expression: {e}"))?;
        cron.find_next_occurrence(&chrono::Utc::now(), false)
            .map(|_| CronCheck)
            .map_err(|_| {
                "never fires (no date matches it); check day-of-month, month and year".into()
            })
    }
}

pub(crate) fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

/// The longest account name accepted (AWS allows 50 characters; names from people get some room).
pub const MAX_ACCOUNT_NAME: usize = 128;

/// The `[state]` keys that go together: `path` or `url`, and a password source and CA file only
/// with `url` (one password source at most). The URL's form is checked here, its password read by
/// `state::Database::of`.
fn check_state(s: &StateConfig, w: &Where) -> Result<(), String> {
    let with_url = [
        ("password_env", s.password_env.is_some()),
        ("password_file", s.password_file.is_some()),
        ("ca_file", s.ca_file.is_some()),
    ];
    let Some(url) = &s.url else {
        return match with_url.iter().find(|(_, set)| *set) {
            Some((key, _)) => Err(format!(
                "{}state.{key} is set without state.url: it belongs to a PostgreSQL database",
                w.at(&["state", key])
            )),
            None => Ok(()),
        };
    };
    if s.path.is_some() {
        return Err(format!(
            "{}state: give path (SQLite) or url (PostgreSQL), not both",
            w.at(&["state", "url"])
        ));
    }
    if s.password_env.is_some() && s.password_file.is_some() {
        return Err(format!(
            "{}state: give one of password_env or password_file, not both",
            w.at(&["state", "password_file"])
        ));
    }
    crate::state::PgTarget::new(url, None, None)
        .map(|_| ())
        .map_err(|e| format!("{}state.url: {e}", w.at(&["state", "url"])))
}

/// Where keys are written in the config text, for errors about values serde accepted (bounds,
/// pairings): the same file parsed again with spans.
pub struct Where<'a> {
    text: &'a str,
    doc: Option<toml_edit::ImDocument<&'a str>>,
}

impl<'a> Where<'a> {
    pub fn new(text: &'a str) -> Where<'a> {
        Where {
            text,
            doc: toml_edit::ImDocument::parse(text).ok(),
        }
    }

    /// `"line N: "` for the key at `path` (or its nearest written table); empty when nothing of it
    /// is written (a default).
    pub fn at(&self, path: &[&str]) -> String {
        let Some(doc) = &self.doc else {
            return String::new();
        };
        let mut table: &dyn toml_edit::TableLike = doc.as_table();
        let mut found = None;
        for (i, k) in path.iter().enumerate() {
            let Some((key, item)) = table.get_key_value(k) else {
                break;
            };
            found = key.span().or_else(|| item.span()).or(found);
            match item.as_table_like() {
                Some(t) if i + 1 < path.len() => table = t,
                _ => break,
            }
        }
        found
            .map(|s| format!("line {}: ", line_of(self.text, s.start)))
            .unwrap_or_default()
    }

    /// Refuses a number outside `min..=max`, naming the key and its line.
    pub fn within<T: PartialOrd + std::fmt::Display>(
        &self,
        path: &[&str],
        value: T,
        min: T,
        max: T,
    ) -> Result<(), String> {
        if value < min || value > max {
            return Err(format!(
                "{}{} = {value} is out of range: {min} to {max}",
                self.at(path),
                path.join(".")
            ));
        }
        Ok(())
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses and validates config text; the error names the key and the line.
    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| format!("line {}: ", line_of(text, s.start)))
                .unwrap_or_default();
            format!("{line}{}", e.message())
        })?;
        let at = |span: std::ops::Range<usize>| format!("line {}", line_of(text, span.start));
        if config.aws.regions.get_ref().is_empty() {
            return Err(format!(
                "{}: aws.regions is empty; name at least one region",
                at(config.aws.regions.span())
            ));
        }
        if config.accounts.is_empty() && !config.organization.discover {
            return Err(
                "no [[accounts]] configured and organization.discover is false; add an account or turn on discovery".into(),
            );
        }
        let cron = &config.schedule.cron;
        if let Err(e) = cron.get_ref().parse::<CronCheck>() {
            return Err(format!(
                "{}: schedule.cron \"{}\" {e}",
                at(cron.span()),
                cron.get_ref()
            ));
        }
        let tz = &config.schedule.timezone;
        if tz.get_ref().parse::<chrono_tz::Tz>().is_err() {
            return Err(format!(
                "{}: schedule.timezone \"{}\" is not an IANA time zone",
                at(tz.span()),
                tz.get_ref()
            ));
        }
        let listen = &config.server.listen;
        if listen.get_ref().parse::<std::net::SocketAddr>().is_err() {
            return Err(format!(
                "{}: server.listen \"{}\" is not an address like 0.0.0.0:9464",
                at(listen.span()),
                listen.get_ref()
            ));
        }
        let w = Where::new(text);
        let s = &config.server;
        if s.tls_cert_file.is_some() != s.tls_key_file.is_some() {
            let (set, missing) = if s.tls_cert_file.is_some() {
                ("tls_cert_file", "tls_key_file")
            } else {
                ("tls_key_file", "tls_cert_file")
            };
            return Err(format!(
                "{}server.{set} needs server.{missing}: give both files or neither",
                w.at(&["server", set])
            ));
        }
        // Auth must never be off by a mistake: a password without a user, or two password sources,
        // is refused rather than read as "no auth".
        let sources = [
            (
                "basic_auth_password_env",
                s.basic_auth_password_env.is_some(),
            ),
            (
                "basic_auth_password_file",
                s.basic_auth_password_file.is_some(),
            ),
        ];
        let given: Vec<&str> = sources
            .iter()
            .filter(|(_, g)| *g)
            .map(|(k, _)| *k)
            .collect();
        match (&s.basic_auth_user, given.as_slice()) {
            (None, []) | (Some(_), [_]) => {}
            (Some(_), []) => {
                return Err(format!(
                    "{}server.basic_auth_user needs server.basic_auth_password_env or server.basic_auth_password_file",
                    w.at(&["server", "basic_auth_user"])
                ))
            }
            (None, [key, ..]) => {
                return Err(format!(
                    "{}server.{key} is set without server.basic_auth_user: name the user, or remove the password to serve without auth",
                    w.at(&["server", key])
                ))
            }
            (Some(_), [_, second, ..]) => {
                return Err(format!(
                    "{}server: give one of basic_auth_password_env or basic_auth_password_file, not both",
                    w.at(&["server", second])
                ))
            }
        }
        if let Some(user) = &s.basic_auth_user {
            if user.is_empty() || user.contains(':') || user.chars().any(char::is_control) {
                return Err(format!(
                    "{}server.basic_auth_user must be non-empty, without ':' or control characters",
                    w.at(&["server", "basic_auth_user"])
                ));
            }
        }
        check_state(&config.state, &w)?;
        if config.organization.discover && config.organization.role_name.trim().is_empty() {
            return Err(format!(
                "{}organization.role_name is empty",
                w.at(&["organization", "role_name"])
            ));
        }
        w.within(
            &["aws", "call_timeout_seconds"],
            config.aws.call_timeout_seconds,
            1,
            3600,
        )?;
        w.within(&["aws", "max_attempts"], config.aws.max_attempts, 1, 20)?;
        let rps = config.aws.max_requests_per_second;
        if !(rps == 0.0 || (0.01..=10_000.0).contains(&rps)) {
            return Err(format!(
                "{}aws.max_requests_per_second = {rps:?} is out of range: 0 (no limit) or 0.01 to 10000",
                w.at(&["aws", "max_requests_per_second"])
            ));
        }
        w.within(
            &["audit", "max_concurrent_accounts"],
            config.audit.max_concurrent_accounts,
            1,
            256,
        )?;
        w.within(
            &["audit", "account_timeout_seconds"],
            config.audit.account_timeout_seconds,
            1,
            86_400,
        )?;
        let settings = &config.checks.settings;
        w.within(
            &["checks", "settings", "unused_service_days"],
            settings.unused_service_days,
            1,
            400,
        )?;
        w.within(
            &["checks", "settings", "last_accessed_jobs_per_run"],
            settings.last_accessed_jobs_per_run,
            0,
            10_000,
        )?;
        w.within(
            &["checks", "settings", "last_accessed_cache_hours"],
            settings.last_accessed_cache_hours,
            1,
            8_760,
        )?;
        w.within(
            &["checks", "settings", "max_image_age_days"],
            settings.max_image_age_days,
            1,
            3_650,
        )?;
        w.within(
            &["checks", "settings", "chaos_experiment_max_age_days"],
            settings.chaos_experiment_max_age_days,
            1,
            3_650,
        )?;
        w.within(
            &["checks", "settings", "drift_check_max_age_days"],
            settings.drift_check_max_age_days,
            1,
            3_650,
        )?;
        w.within(
            &["checks", "settings", "short_max_image_age_days"],
            settings.short_max_image_age_days,
            1,
            settings.max_image_age_days,
        )?;
        w.within(
            &["state", "retention_days"],
            config.state.retention_days,
            1,
            36_500,
        )?;
        w.within(
            &["state", "lease_seconds"],
            config.state.lease_seconds,
            3,
            3_600,
        )?;
        w.within(
            &["state", "unknown_staleness_hours"],
            config.state.unknown_staleness_hours,
            0,
            8_760,
        )?;
        w.within(
            &["schedule", "shutdown_grace_seconds"],
            config.schedule.shutdown_grace_seconds,
            0,
            3_600,
        )?;
        w.within(
            &["server", "max_connections"],
            config.server.max_connections,
            1,
            65_536,
        )?;
        w.within(
            &["server", "header_read_timeout_seconds"],
            config.server.header_read_timeout_seconds,
            1,
            300,
        )?;
        let regions = config.aws.regions.get_ref();
        if regions.iter().any(|r| r.0 == "all") && regions.len() > 1 {
            return Err(format!(
                "{}: aws.regions: \"all\" stands alone",
                at(config.aws.regions.span())
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(r) = regions.iter().find(|r| !seen.insert(r.0.as_str())) {
            return Err(format!(
                "{}: aws.regions names \"{}\" twice",
                at(config.aws.regions.span()),
                r.0
            ));
        }
        if config
            .aws
            .home_region
            .as_ref()
            .is_some_and(|r| r.0 == "all")
        {
            return Err(format!(
                "{}aws.home_region must name one region",
                w.at(&["aws", "home_region"])
            ));
        }
        let mut ids = std::collections::HashMap::with_capacity(config.accounts.len());
        for (i, a) in config.accounts.iter().enumerate() {
            let acc = a.get_ref();
            if let Some(role) = &acc.role_arn {
                if role.get_ref().account() != acc.id.get_ref().0 {
                    return Err(format!(
                        "{}: accounts[{i}].role_arn {} is in account {}, not in the account's id {}",
                        at(role.span()),
                        role.get_ref().0,
                        role.get_ref().account(),
                        acc.id.get_ref().0
                    ));
                }
            }
            if acc.name.trim().is_empty() {
                return Err(format!("{}: accounts[{i}].name is empty", at(a.span())));
            }
            if acc.name.chars().count() > MAX_ACCOUNT_NAME || acc.name.chars().any(char::is_control)
            {
                return Err(format!(
                    "{}: accounts[{i}].name is longer than {MAX_ACCOUNT_NAME} characters or holds a control character",
                    at(a.span())
                ));
            }
            if let Some(j) = ids.insert(acc.id.get_ref().0.as_str(), i) {
                return Err(format!(
                    "{}: accounts[{i}].id {} repeats accounts[{j}].id",
                    at(acc.id.span()),
                    acc.id.get_ref().0
                ));
            }
        }
        config.alerts.validate(&at, &w)?;
        config.events.validate(&at)?;
        for d in &config.checks.disabled {
            if catalog::find(d.get_ref()).is_none() {
                return Err(format!(
                    "{}: checks.disabled names \"{}\", which is not a check (see `maturity-agent checks`)",
                    at(d.span()),
                    d.get_ref()
                ));
            }
        }
        crate::export::validate(&config, text)?;
        crate::exceptions::validate(&config, text, chrono::Utc::now().date_naive())?;
        Ok(config)
    }

    /// The regions to audit; empty means every region enabled in each account (`["all"]`).
    pub fn regions(&self) -> Vec<String> {
        self.aws
            .regions
            .get_ref()
            .iter()
            .map(|r| r.0.clone())
            .filter(|r| r != "all")
            .collect()
    }

    /// The region of global services and STS.
    pub fn home_region(&self) -> String {
        match &self.aws.home_region {
            Some(r) => r.0.clone(),
            None => self
                .regions()
                .into_iter()
                .next()
                .unwrap_or_else(|| "us-east-1".to_owned()),
        }
    }

    pub fn disabled(&self) -> Vec<String> {
        self.checks
            .disabled
            .iter()
            .map(|d| d.get_ref().clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[aws]
regions = ["eu-west-1", "us-east-1"]

[[accounts]]
id = "111111111111"
name = "prod"
role_arn = "arn:aws:iam::111111111111:role/audit"
external_id = "xyz"

[checks]
disabled = ["iam_root_mfa_enabled"]
[checks.settings]
rds_min_backup_retention_days = 14
"#;

    /// The example config shipped with the project parses.
    #[test]
    fn example_config_parses() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../config.example.toml"
        ))
        .unwrap();
        let c = Config::parse(&text).unwrap_or_else(|e| panic!("config.example.toml: {e}"));
        assert!(!c.accounts.is_empty());
    }

    /// The commented-out PostgreSQL keys of config.example.toml, uncommented in place of `path`,
    /// are a valid `[state]` section.
    #[test]
    fn the_documented_postgres_state_is_valid() {
        let example = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../config.example.toml"
        ))
        .unwrap();
        let text = example
            .replace("\npath = \"/var/lib/maturity-agent/state.db\"", "\n")
            .replace("# url = ", "url = ")
            .replace("# password_file = ", "password_file = ")
            .replace("# ca_file = ", "ca_file = ");
        let c = Config::parse(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.state.url.as_deref(),
            Some("postgres://maturity@db.internal:5432/maturity?sslmode=require")
        );
        assert!(c.state.password_file.is_some() && c.state.ca_file.is_some());
    }

    /// `[state]` takes a path or a URL; the PostgreSQL keys need the URL; the URL never holds the
    /// password; each error names its line.
    #[test]
    fn state_section_errors_name_the_key() {
        let base = "[[accounts]]\nid = \"111111111111\"\nname = \"p\"\n[state]\n";
        let cases = [
            (
                "path = \"/x.db\"\nurl = \"postgres://u@h/d\"\n",
                "line 6: state: give path (SQLite) or url (PostgreSQL), not both",
            ),
            (
                "password_env = \"PW\"\n",
                "line 5: state.password_env is set without state.url: it belongs to a PostgreSQL database",
            ),
            (
                "url = \"postgres://u@h/d\"\npassword_env = \"PW\"\npassword_file = \"/pw\"\n",
                "line 7: state: give one of password_env or password_file, not both",
            ),
            (
                "url = \"postgres://u:hunter2@h/d\"\n",
                "line 5: state.url: postgres://u@h/d holds a password: give it through a password variable or file instead",
            ),
            (
                "url = \"mysql://h/d\"\n",
                "line 5: state.url: mysql://h/d is not a PostgreSQL URL (postgres://USER@HOST:PORT/DATABASE)",
            ),
            (
                "url = \"postgres://u@h/d?sslmode=allow\"\n",
                "line 5: state.url: postgres://u@h/d?sslmode=allow: sslmode=allow is not one of disable, prefer, require (or verify-ca, verify-full: TLS always verifies the certificate and the host name)",
            ),
        ];
        for (state, expected) in cases {
            assert_eq!(err(&format!("{base}{state}")), expected, "{state}");
        }
        let c = Config::parse(&format!("{base}url = \"postgres://u@h/d\"\n")).unwrap();
        assert_eq!(c.state.url.as_deref(), Some("postgres://u@h/d"));
    }

    #[test]
    fn good_config_parses_with_defaults() {
        let c = Config::parse(GOOD).unwrap();
        assert_eq!(c.regions(), vec!["eu-west-1", "us-east-1"]);
        assert_eq!(c.home_region(), "eu-west-1");
        let all =
            Config::parse(&GOOD.replace("[\"eu-west-1\", \"us-east-1\"]", "[\"all\"]")).unwrap();
        assert!(all.regions().is_empty());
        assert_eq!(all.home_region(), "us-east-1");
        assert_eq!(
            err(&GOOD.replace("[\"eu-west-1\", \"us-east-1\"]", "[\"all\", \"us-east-1\"]")),
            "line 3: aws.regions: \"all\" stands alone"
        );
        assert_eq!(c.checks.settings.rds_min_backup_retention_days, 14);
        assert_eq!(c.checks.settings.admin_ports, vec![22, 3389]);
        assert_eq!(c.audit.max_concurrent_accounts, 4);
        assert_eq!(c.disabled(), vec!["iam_root_mfa_enabled"]);
    }

    fn err(text: &str) -> String {
        Config::parse(text).unwrap_err()
    }

    /// Each broken config is refused with the line and the key or value at fault.
    #[test]
    fn broken_configs_name_key_and_line() {
        assert_eq!(err(&GOOD.replace("regions", "regoins")), "line 3: unknown field `regoins`, expected one of `regions`, `home_region`, `endpoint_url`, `call_timeout_seconds`, `max_attempts`, `max_requests_per_second`");
        assert_eq!(
            err(&GOOD.replace("\"111111111111\"", "\"1111\"")),
            "line 6: account id \"1111\" is not 12 digits"
        );
        assert_eq!(
            err(&GOOD.replace("\"eu-west-1\"", "\"europe\"")),
            "line 3: \"europe\" is not an AWS region name (like eu-west-1)"
        );
        assert_eq!(
            err(&GOOD.replace("role/audit", "user/audit")),
            "line 8: \"arn:aws:iam::111111111111:user/audit\" is not an IAM role ARN (arn:PARTITION:iam::123456789012:role/[PATH/]NAME; partition aws, aws-cn, aws-us-gov, …; a name of 1-64 of A-Za-z0-9+=,.@_-)"
        );
        assert_eq!(
            err(&GOOD.replace("iam::111111111111:role", "iam::222222222222:role")),
            "line 8: accounts[0].role_arn arn:aws:iam::222222222222:role/audit is in account 222222222222, not in the account's id 111111111111"
        );
        assert_eq!(
            err(&GOOD.replace("iam_root_mfa_enabled", "iam_root_mfa")),
            "line 12: checks.disabled names \"iam_root_mfa\", which is not a check (see `maturity-agent checks`)"
        );
        assert_eq!(
            err(&GOOD.replace(
                "rds_min_backup_retention_days = 14",
                "rds_min_backup_retention_days = \"a week\""
            )),
            "line 14: invalid type: string \"a week\", expected u16"
        );
        assert_eq!(
            err("[aws]\nregions = []\n[[accounts]]\nid=\"111111111111\"\nname=\"x\"\n"),
            "line 2: aws.regions is empty; name at least one region"
        );
        assert_eq!(
            err("[aws]\nregions = [\"us-east-1\"]\n"),
            "no [[accounts]] configured and organization.discover is false; add an account or turn on discovery"
        );
        let dup = format!("{GOOD}\n[[accounts]]\nid = \"111111111111\"\nname = \"again\"\n");
        assert_eq!(
            err(&dup),
            "line 17: accounts[1].id 111111111111 repeats accounts[0].id"
        );
        assert!(err("[aws\n").starts_with("line 1: "), "{}", err("[aws\n"));
    }

    /// Every value that would panic, hang or overflow `run` is refused with its key and line.
    #[test]
    fn out_of_range_values_are_refused_with_their_line() {
        let cases = [
            ("[aws]\nmax_requests_per_second = 1e-20\n", "line 2: aws.max_requests_per_second = 1e-20 is out of range: 0 (no limit) or 0.01 to 10000"),
            ("[aws]\nmax_attempts = 4294967295\n", "line 2: aws.max_attempts = 4294967295 is out of range: 1 to 20"),
            ("[aws]\ncall_timeout_seconds = 0\n", "line 2: aws.call_timeout_seconds = 0 is out of range: 1 to 3600"),
            ("[audit]\naccount_timeout_seconds = 0\n", "line 2: audit.account_timeout_seconds = 0 is out of range: 1 to 86400"),
            ("[audit]\nmax_concurrent_accounts = 0\n", "line 2: audit.max_concurrent_accounts = 0 is out of range: 1 to 256"),
            ("[state]\nretention_days = 1000000000\n", "line 2: state.retention_days = 1000000000 is out of range: 1 to 36500"),
            ("[checks.settings]\nunused_service_days = 401\n", "line 2: checks.settings.unused_service_days = 401 is out of range: 1 to 400"),
            ("[checks.settings]\nlast_accessed_cache_hours = 0\n", "line 2: checks.settings.last_accessed_cache_hours = 0 is out of range: 1 to 8760"),
            ("[checks.settings]\nlast_accessed_jobs_per_run = 10001\n", "line 2: checks.settings.last_accessed_jobs_per_run = 10001 is out of range: 0 to 10000"),
            ("[checks.settings]\nmax_image_age_days = 0\n", "line 2: checks.settings.max_image_age_days = 0 is out of range: 1 to 3650"),
            ("[checks.settings]\nmax_image_age_days = 7\nshort_max_image_age_days = 8\n", "line 3: checks.settings.short_max_image_age_days = 8 is out of range: 1 to 7"),
            ("[alerts]\nretry_initial_seconds = 1e300\n", "line 2: alerts.retry_initial_seconds = 1e300 is out of range: 0.1 to 3600"),
            ("[alerts]\nretry_max_seconds = inf\n", "line 2: alerts.retry_max_seconds = inf is out of range: retry_initial_seconds (5.0) to 86400"),
            ("[alerts]\nresend_interval_seconds = 9223372036854775807\n", "line 2: alerts.resend_interval_seconds = 9223372036854775807 is out of range: 1 to 3600"),
            ("alerts.audit_failing_after_runs = 0\n", "line 1: alerts.audit_failing_after_runs = 0 is out of range: 1 to 10000"),
            ("[server]\nmax_connections = 0\n", "line 2: server.max_connections = 0 is out of range: 1 to 65536"),
            ("server = { header_read_timeout_seconds = 0 }\n", "line 1: server.header_read_timeout_seconds = 0 is out of range: 1 to 300"),
            ("[schedule]\nshutdown_grace_seconds = 99999\n", "line 2: schedule.shutdown_grace_seconds = 99999 is out of range: 0 to 3600"),
        ];
        for (section, expected) in cases {
            let text = format!("{section}[[accounts]]\nid = \"111111111111\"\nname = \"prod\"\n");
            assert_eq!(err(&text), expected, "{section}");
        }
    }

    /// Auth cannot be switched off by a half-written section, and TLS goes in pairs; both name the
    /// line.
    #[test]
    fn auth_and_tls_pairings_are_refused_with_their_line() {
        let with = |server: &str| {
            err(&format!(
                "[[accounts]]\nid = \"111111111111\"\nname = \"prod\"\n[server]\n{server}"
            ))
        };
        assert_eq!(
            with("basic_auth_password_env = \"PW\"\n"),
            "line 5: server.basic_auth_password_env is set without server.basic_auth_user: name the user, or remove the password to serve without auth"
        );
        assert_eq!(
            with("basic_auth_password_file = \"/run/pw\"\n"),
            "line 5: server.basic_auth_password_file is set without server.basic_auth_user: name the user, or remove the password to serve without auth"
        );
        assert_eq!(
            with("basic_auth_user = \"g\"\nbasic_auth_password_env = \"PW\"\nbasic_auth_password_file = \"/run/pw\"\n"),
            "line 7: server: give one of basic_auth_password_env or basic_auth_password_file, not both"
        );
        assert_eq!(
            with("basic_auth_user = \"g\"\n"),
            "line 5: server.basic_auth_user needs server.basic_auth_password_env or server.basic_auth_password_file"
        );
        assert_eq!(
            with("tls_key_file = \"/k\"\n"),
            "line 5: server.tls_key_file needs server.tls_cert_file: give both files or neither"
        );
    }

    /// Role ARNs follow IAM's grammar per partition; regions are not repeated; names are bounded;
    /// a cron expression that never fires is refused.
    #[test]
    fn arns_regions_names_and_cron_are_checked() {
        for bad in [
            "arn:aws-xx:iam::111111111111:role/audit",
            "arn:aws:sts::111111111111:role/audit",
            "arn:aws:iam:us-east-1:111111111111:role/audit",
            "arn:aws:iam::111111111111:role/",
            "arn:aws:iam::111111111111:role/a b",
            "arn:aws:iam::111111111111:role/path/",
        ] {
            let e = err(&GOOD.replace("arn:aws:iam::111111111111:role/audit", bad));
            assert!(e.starts_with("line 8: \""), "{bad}: {e}");
        }
        for good in [
            "arn:aws-cn:iam::111111111111:role/audit",
            "arn:aws-us-gov:iam::111111111111:role/team/ci/audit+x=y,z.w@v_u-t",
        ] {
            Config::parse(&GOOD.replace("arn:aws:iam::111111111111:role/audit", good))
                .unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        assert_eq!(
            err(&GOOD.replace("\"us-east-1\"]", "\"eu-west-1\"]")),
            "line 3: aws.regions names \"eu-west-1\" twice"
        );
        let long = "x".repeat(MAX_ACCOUNT_NAME + 1);
        assert_eq!(
            err(&GOOD.replace("name = \"prod\"", &format!("name = \"{long}\""))),
            "line 5: accounts[0].name is longer than 128 characters or holds a control character"
        );
        assert_eq!(
            err(&format!("{GOOD}[schedule]\ncron = \"0 0 0 30 2 *\"\n")),
            "line 16: schedule.cron \"0 0 0 30 2 *\" never fires (no date matches it); check day-of-month, month and year"
        );
    }

    /// The duplicate-account check is linear: 60,000 accounts validate quickly (a bound far above
    /// the measured time, only to catch a return to the quadratic scan).
    #[test]
    fn many_accounts_validate() {
        let mut text = String::from("[aws]\nregions = [\"us-east-1\"]\n");
        for i in 0..60_000u64 {
            text.push_str(&format!(
                "[[accounts]]\nid = \"{:012}\"\nname = \"a{i}\"\n",
                100_000_000_000 + i
            ));
        }
        let c = Config::parse(&text).unwrap();
        assert_eq!(c.accounts.len(), 60_000);
        let dup = format!("{text}[[accounts]]\nid = \"100000000000\"\nname = \"again\"\n");
        assert!(err(&dup).ends_with("accounts[60000].id 100000000000 repeats accounts[0].id"));
    }
}
