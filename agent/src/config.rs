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
    /// …or from this file (first line). Never from the config itself.
    pub basic_auth_password_file: Option<PathBuf>,
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
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// The SQLite database (a mounted volume in containers).
    pub path: PathBuf,
    /// Runs older than this many days are deleted (the latest run of each account is always kept).
    pub retention_days: u32,
    /// An `unknown` verdict is scored with the previous known verdict for this many hours, and says so.
    pub unknown_staleness_hours: u32,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            path: PathBuf::from("/var/lib/maturity-agent/state.db"),
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

impl TryFrom<String> for RoleArn {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "iam"
            && parts[4].len() == 12
            && parts[4].bytes().all(|b| b.is_ascii_digit())
            && parts[5].starts_with("role/")
            && parts[5].len() > 5;
        if ok {
            Ok(RoleArn(s))
        } else {
            Err(format!(
                "\"{s}\" is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
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
            .map(|_| CronCheck)
            .map_err(|e| format!("is not a cron expression: {e:?}"))
    }
}

pub(crate) fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
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
        let s = &config.server;
        if s.tls_cert_file.is_some() != s.tls_key_file.is_some() {
            return Err("server.tls_cert_file and server.tls_key_file go together".into());
        }
        if s.basic_auth_user.is_some()
            && s.basic_auth_password_env.is_none()
            && s.basic_auth_password_file.is_none()
        {
            return Err("server.basic_auth_user needs server.basic_auth_password_env or server.basic_auth_password_file".into());
        }
        if config.organization.discover && config.organization.role_name.trim().is_empty() {
            return Err("organization.role_name is empty".into());
        }
        if config.aws.call_timeout_seconds == 0 || config.audit.account_timeout_seconds == 0 {
            return Err(
                "aws.call_timeout_seconds and audit.account_timeout_seconds must be above 0".into(),
            );
        }
        let regions = config.aws.regions.get_ref();
        if regions.iter().any(|r| r.0 == "all") && regions.len() > 1 {
            return Err(format!(
                "{}: aws.regions: \"all\" stands alone",
                at(config.aws.regions.span())
            ));
        }
        if config
            .aws
            .home_region
            .as_ref()
            .is_some_and(|r| r.0 == "all")
        {
            return Err("aws.home_region must name one region".into());
        }
        if config.aws.max_requests_per_second.is_nan() || config.aws.max_requests_per_second < 0.0 {
            return Err("aws.max_requests_per_second must be 0 (no limit) or more".into());
        }
        if config.audit.max_concurrent_accounts == 0 || config.aws.max_attempts == 0 {
            return Err(
                "audit.max_concurrent_accounts and aws.max_attempts must be at least 1".into(),
            );
        }
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
            if let Some(j) = config.accounts[..i]
                .iter()
                .position(|b| b.get_ref().id.get_ref() == acc.id.get_ref())
            {
                return Err(format!(
                    "{}: accounts[{i}].id {} repeats accounts[{j}].id",
                    at(acc.id.span()),
                    acc.id.get_ref().0
                ));
            }
        }
        config.alerts.validate(&at)?;
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
            "line 8: \"arn:aws:iam::111111111111:user/audit\" is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
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
}
