//! The `[[exceptions]]` config section: accepted findings, validated at load with line numbers and
//! turned into the engine's [`Exception`]s (applied by `maturity_checks::exceptions` at each audit).

use crate::config::{line_of, AccountId, Config};
use chrono::NaiveDate;
use maturity_checks::catalog;
use maturity_checks::exceptions::{Exception, ResourcePattern};
use serde::Deserialize;
use toml::Spanned;

/// One accepted finding.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionConfig {
    /// The check id (see `maturity-agent checks`).
    pub check: Spanned<String>,
    /// The resources it accepts: a glob (`*`, `?`) or `regex:…`, matched against the whole resource
    /// (ARN or name as the report shows it).
    pub resources: Spanned<String>,
    /// The accounts it applies to; omitted or empty: every account.
    #[serde(default)]
    pub accounts: Vec<AccountId>,
    /// Why the finding is accepted.
    pub reason: Spanned<String>,
    /// Who accepted it (a person or a team, e.g. an email address).
    pub owner: Spanned<String>,
    /// The first day (UTC) on which it no longer counts: a TOML date, `expires = 2027-03-31`.
    pub expires: Spanned<toml::value::Datetime>,
}

/// The date of a TOML date value; anything with a time or an offset is refused.
fn date_of(d: &toml::value::Datetime) -> Option<NaiveDate> {
    match (d.date, d.time, d.offset) {
        (Some(date), None, None) => NaiveDate::from_ymd_opt(
            i32::from(date.year),
            u32::from(date.month),
            u32::from(date.day),
        ),
        _ => None,
    }
}

/// Compiles one configured exception; the error is (byte offset, message).
fn compile(i: usize, e: &ExceptionConfig) -> Result<Exception, (usize, String)> {
    let key = |k: &str| format!("exceptions[{i}].{k}");
    if catalog::find(e.check.get_ref()).is_none() {
        return Err((
            e.check.span().start,
            format!(
                "{} names \"{}\", which is not a check (see `maturity-agent checks`)",
                key("check"),
                e.check.get_ref()
            ),
        ));
    }
    let resources = ResourcePattern::parse(e.resources.get_ref()).map_err(|why| {
        (
            e.resources.span().start,
            format!("{} \"{}\": {why}", key("resources"), e.resources.get_ref()),
        )
    })?;
    for (name, value) in [("reason", &e.reason), ("owner", &e.owner)] {
        if value.get_ref().trim().is_empty() {
            return Err((value.span().start, format!("{} is empty", key(name))));
        }
    }
    let expires = date_of(e.expires.get_ref()).ok_or_else(|| {
        (
            e.expires.span().start,
            format!(
                "{} {} is not a date; write it unquoted like 2027-03-31",
                key("expires"),
                e.expires.get_ref()
            ),
        )
    })?;
    Ok(Exception {
        check: e.check.get_ref().clone(),
        resources,
        accounts: e.accounts.iter().map(|a| a.0.clone()).collect(),
        reason: e.reason.get_ref().trim().to_owned(),
        owner: e.owner.get_ref().trim().to_owned(),
        expires,
    })
}

/// Validates every exception of a parsed config: known check, valid pattern, reason and owner, and
/// an expiry date after `today` (an exception that no longer counts is a mistake to fix, not to keep).
pub fn validate(config: &Config, text: &str, today: NaiveDate) -> Result<(), String> {
    for (i, e) in config.exceptions.iter().enumerate() {
        let rule = compile(i, e.get_ref())
            .map_err(|(at, why)| format!("line {}: {why}", line_of(text, at)))?;
        if rule.expires <= today {
            return Err(format!(
                "line {}: exceptions[{i}].expires {} is not after today ({today}): renew the exception with a new date or remove it",
                line_of(text, e.get_ref().expires.span().start),
                rule.expires
            ));
        }
    }
    Ok(())
}

/// The engine's exceptions of a validated config.
pub fn rules(config: &Config) -> Vec<Exception> {
    config
        .exceptions
        .iter()
        .enumerate()
        .filter_map(|(i, e)| compile(i, e.get_ref()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[[accounts]]
id = "111111111111"
name = "prod"

[[exceptions]]
check = "s3_bucket_versioning_enabled"
resources = "arn:aws:s3:::legacy-*"
accounts = ["111111111111"]
reason = "read-only archive, migration in Q3"
owner = "alice@example.com"
expires = 2999-03-31
"#;

    fn err(text: &str) -> String {
        Config::parse(text).unwrap_err()
    }

    /// A valid exception loads into an engine rule with its scope and date.
    #[test]
    fn a_valid_exception_loads() {
        let c = Config::parse(BASE).unwrap();
        let r = rules(&c);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].check, "s3_bucket_versioning_enabled");
        assert_eq!(r[0].accounts, vec!["111111111111"]);
        assert_eq!(r[0].expires, NaiveDate::from_ymd_opt(2999, 3, 31).unwrap());
        assert!(r[0].resources.matches("arn:aws:s3:::legacy-logs"));
        let everywhere =
            Config::parse(&BASE.replace("accounts = [\"111111111111\"]\n", "")).unwrap();
        assert!(rules(&everywhere)[0].accounts.is_empty());
    }

    /// Each broken exception is refused with its line and what is wrong.
    #[test]
    fn broken_exceptions_name_the_line() {
        assert_eq!(
            err(&BASE.replace("\"s3_bucket_versioning_enabled\"", "\"s3_versioning\"")),
            "line 7: exceptions[0].check names \"s3_versioning\", which is not a check (see `maturity-agent checks`)"
        );
        assert!(
            err(&BASE.replace("arn:aws:s3:::legacy-*", "regex:legacy-(")).starts_with(
                "line 8: exceptions[0].resources \"regex:legacy-(\": is not a valid regex"
            )
        );
        let past = err(&BASE.replace("2999-03-31", "2020-01-01"));
        assert!(
            past.starts_with("line 12: exceptions[0].expires 2020-01-01 is not after today (")
                && past.ends_with("): renew the exception with a new date or remove it"),
            "{past}"
        );
        assert_eq!(
            err(&BASE.replace("2999-03-31", "\"2999-03-31\"")),
            "line 12: invalid type: string \"2999-03-31\", expected a TOML datetime"
        );
        assert_eq!(
            err(&BASE.replace("2999-03-31", "2999-03-31T10:00:00Z")),
            "line 12: exceptions[0].expires 2999-03-31T10:00:00Z is not a date; write it unquoted like 2027-03-31"
        );
        assert_eq!(
            err(&BASE.replace("alice@example.com", " ")),
            "line 11: exceptions[0].owner is empty"
        );
        assert_eq!(
            err(&BASE.replace("accounts = [\"111111111111\"]", "accounts = [\"1111\"]")),
            "line 9: account id \"1111\" is not 12 digits"
        );
        assert!(
            err(&BASE.replace("owner =", "ownr =")).starts_with("line 11: unknown field `ownr`")
        );
        assert!(err(&BASE.replace("owner = \"alice@example.com\"\n", ""))
            .contains("missing field `owner`"));
    }

    /// The commented-out example of config.example.toml, uncommented, is a valid exception (judged
    /// on a fixed day, so that the example's date does not turn this test into a time bomb).
    #[test]
    fn the_documented_example_is_valid() {
        let example = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../config.example.toml"
        ))
        .unwrap();
        let start = example
            .find("# [[exceptions]]")
            .expect("documented exception");
        let block: String = example[start..]
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .filter(|l| l.starts_with("# [[") || l.contains(" = "))
            .map(|l| format!("{}\n", l.trim_start_matches("# ")))
            .collect();
        let text = format!("{BASE}\n{block}");
        let c: Config = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(c.exceptions.len(), 2);
        validate(&c, &text, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).unwrap();
        assert_eq!(rules(&c)[1].check, "s3_bucket_versioning_enabled");
    }

    /// The expiry must be after the day of loading: today itself no longer counts.
    #[test]
    fn expiry_today_is_refused() {
        let c: Config = toml::from_str(BASE).unwrap();
        let day = NaiveDate::from_ymd_opt(2999, 3, 31).unwrap();
        assert!(validate(&c, BASE, day).is_err());
        assert!(validate(&c, BASE, day.pred_opt().unwrap()).is_ok());
    }
}

/// Accepted results as the daemon publishes them.
#[cfg(test)]
mod published {
    use maturity_checks::model::Status;

    /// An accepted check exports `maturity_check_status{status="accepted"} 1`, counts no failing
    /// resource, and scores as passing.
    #[test]
    fn metrics_show_accepted_checks() {
        let now = chrono::Utc::now();
        let mut report = crate::state::tests::account("111111111111", Status::Fail, now);
        let a = &mut report.accounts[0];
        a.checks[0].verdicts[0].status = Status::Accepted;
        a.checks[0].status = Status::Accepted;
        maturity_checks::audit::rescore(a);
        assert_eq!(a.practices[0].level, 1);
        assert_eq!(a.practices[0].accepted, 1);
        let m = crate::metrics::Metrics::new(maturity_checks::catalog::CATALOG);
        m.update(&report, &|_| None);
        let text = m.encode();
        let series = |status: &str| {
            format!("maturity_check_status{{account_id=\"111111111111\",check=\"iam_root_mfa_enabled\",level=\"1\",practice=\"identity\",severity=\"critical\",status=\"{status}\"}}")
        };
        assert!(
            text.contains(&format!("{} 1\n", series("accepted"))),
            "{text}"
        );
        assert!(
            !text.contains(&series("fail")),
            "only the current status: {text}"
        );
        assert!(!text.contains("maturity_check_failing_resources{account_id=\"111111111111\",check=\"iam_root_mfa_enabled\"}"), "an accepted resource is not failing");
        assert!(text.contains("maturity_score_ratio{account_id=\"111111111111\",account_name=\"name-111111111111\",practice=\"identity\"} 1"));
    }
}
