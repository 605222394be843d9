//! `maturity-agent export dsomm`: the DSOMM app's `team-progress.yaml` and `team-evidence.yaml`
//! from the last saved run or a new audit, for a team per account or the `[[teams]]` of the config.
//! The rule and the YAML are in `maturity_checks::dsomm_export`; this module owns the `[[teams]]`
//! section, where the report comes from, and the files.

use crate::config::{line_of, AccountId, Config};
use crate::state::Store;
use maturity_checks::dsomm_export::{self, Progress, Team};
use maturity_checks::report::Report;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A team of the DSOMM app that owns several accounts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamConfig {
    /// The team's name exactly as in the DSOMM app's `teams:` list.
    pub name: Spanned<String>,
    /// The account ids it owns (each account belongs to at most one team).
    pub accounts: Spanned<Vec<Spanned<AccountId>>>,
}

/// Validates `[[teams]]`: a name without control characters, unique; at least one account; no
/// account in two teams.
pub fn validate(config: &Config, text: &str) -> Result<(), String> {
    let at = |offset: usize| format!("line {}", line_of(text, offset));
    for (i, t) in config.teams.iter().enumerate() {
        let name = t.get_ref().name.get_ref();
        let name_at = at(t.get_ref().name.span().start);
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            return Err(format!(
                "{name_at}: teams[{i}].name is empty or holds a control character"
            ));
        }
        if let Some(j) = config.teams[..i]
            .iter()
            .position(|o| o.get_ref().name.get_ref() == name)
        {
            return Err(format!(
                "{name_at}: teams[{i}].name \"{name}\" repeats teams[{j}].name"
            ));
        }
        let accounts = &t.get_ref().accounts;
        if accounts.get_ref().is_empty() {
            return Err(format!(
                "{}: teams[{i}].accounts is empty",
                at(accounts.span().start)
            ));
        }
        for a in accounts.get_ref() {
            let owner = config.teams[..=i].iter().enumerate().find(|(j, o)| {
                o.get_ref()
                    .accounts
                    .get_ref()
                    .iter()
                    .filter(|b| b.get_ref() == a.get_ref())
                    .count()
                    > usize::from(*j == i)
            });
            if let Some((j, _)) = owner {
                return Err(format!(
                    "{}: teams[{i}].accounts: {} already belongs to teams[{j}]",
                    at(a.span().start),
                    a.get_ref().0
                ));
            }
        }
    }
    Ok(())
}

/// The teams of an export: the configured ones, then a team per account of the report that no
/// configured team owns (named after the account), so that no audited account is left out.
pub fn teams(config: &Config, report: &Report) -> Vec<Team> {
    let mut teams: Vec<Team> = config
        .teams
        .iter()
        .map(|t| Team {
            name: t.get_ref().name.get_ref().clone(),
            accounts: t
                .get_ref()
                .accounts
                .get_ref()
                .iter()
                .map(|a| a.get_ref().0.clone())
                .collect(),
        })
        .collect();
    let owned = |id: &str| teams.iter().any(|t| t.accounts.iter().any(|a| a == id));
    let rest: Vec<_> = report
        .accounts
        .iter()
        .filter(|a| !owned(&a.account_id))
        .cloned()
        .collect();
    teams.extend(dsomm_export::team_per_account(&rest));
    teams
}

/// Where the exported report comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// The last run saved in the state database (`[state]`) when it exists and holds one; else a new audit.
    Auto,
    /// The last saved run; an error when there is none.
    State,
    /// A new audit of every configured account.
    Audit,
}

/// The last saved run, when `source` asks for it and one exists. `Ok(None)`: audit now.
pub fn saved_report(config: &Config, source: Source) -> Result<Option<Report>, String> {
    if source == Source::Audit {
        return Ok(None);
    }
    let database = crate::state::Database::of(&config.state)?;
    if let crate::state::Database::Sqlite(path) = &database {
        match source {
            _ if path.exists() => {}
            Source::Auto => return Ok(None),
            _ => {
                return Err(format!(
                    "--from state: no state database at {} (state.path)",
                    path.display()
                ))
            }
        }
    }
    let report = Store::connect(&database)
        .and_then(|s| s.latest_report())
        .map_err(|e| e.to_string())?;
    match (report, source) {
        (None, Source::State) => Err(format!("--from state: {} holds no run", database.name())),
        (report, _) => Ok(report),
    }
}

/// What an export wrote.
#[derive(Debug)]
pub struct Written {
    pub progress: PathBuf,
    pub evidence: PathBuf,
    pub teams: usize,
    /// (team, activity) pairs with some progress, by the highest title reached.
    pub started: usize,
    pub partly: usize,
    pub fully: usize,
    pub evidence_entries: usize,
}

impl std::fmt::Display for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "wrote {} ({} teams; activities fully implemented {}, partly {}, started {}) and {} ({} entries)",
            self.progress.display(),
            self.teams,
            self.fully,
            self.partly,
            self.started,
            self.evidence.display(),
            self.evidence_entries
        )
    }
}

/// Writes `team-progress.yaml` and `team-evidence.yaml` into `out` (created if needed).
pub fn write_dsomm(config: &Config, report: &Report, out: &Path) -> Result<Written, String> {
    let teams = teams(config, report);
    let export = dsomm_export::export(report, &teams);
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let progress = out.join("team-progress.yaml");
    let evidence = out.join("team-evidence.yaml");
    for (path, text) in [
        (&progress, export.progress_yaml()),
        (&evidence, export.evidence_yaml()),
    ] {
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let count = |p: Progress| export.entries.iter().filter(|e| e.progress == p).count();
    Ok(Written {
        progress,
        evidence,
        teams: teams.len(),
        started: count(Progress::Started),
        partly: count(Progress::PartlyImplemented),
        fully: count(Progress::FullyImplemented),
        evidence_entries: export.entries.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[[accounts]]
id = "111111111111"
name = "prod"

[[teams]]
name = "Payments"
accounts = ["111111111111", "222222222222"]

[[teams]]
name = "Ops"
accounts = ["333333333333"]
"#;

    /// Teams load; broken ones are refused with their line.
    #[test]
    fn teams_are_validated_with_lines() {
        let c = Config::parse(BASE).unwrap();
        assert_eq!(c.teams.len(), 2);
        let err = |t: &str| Config::parse(t).unwrap_err();
        assert_eq!(
            err(&BASE.replace("\"Ops\"", "\"Payments\"")),
            "line 11: teams[1].name \"Payments\" repeats teams[0].name"
        );
        assert_eq!(
            err(&BASE.replace("[\"333333333333\"]", "[\"222222222222\"]")),
            "line 12: teams[1].accounts: 222222222222 already belongs to teams[0]"
        );
        assert_eq!(
            err(&BASE.replace(
                "\"111111111111\", \"222222222222\"]",
                "\"111111111111\", \"111111111111\"]"
            )),
            "line 8: teams[0].accounts: 111111111111 already belongs to teams[0]"
        );
        assert_eq!(
            err(&BASE.replace("[\"333333333333\"]", "[]")),
            "line 12: teams[1].accounts is empty"
        );
        assert_eq!(
            err(&BASE.replace("\"Ops\"", "\"\"")),
            "line 11: teams[1].name is empty or holds a control character"
        );
        assert_eq!(
            err(&BASE.replace("\"333333333333\"", "\"333\"")),
            "line 12: account id \"333\" is not 12 digits"
        );
        assert!(err(&BASE.replace("name = \"Ops\"", "team = \"Ops\""))
            .starts_with("line 11: unknown field `team`"));
    }

    fn report(ids: &[(&str, &str)]) -> Report {
        let mut r = crate::state::tests::account(
            ids[0].0,
            maturity_checks::model::Status::Pass,
            chrono::Utc::now(),
        );
        let template = r.accounts[0].clone();
        r.accounts = ids
            .iter()
            .map(|(id, name)| maturity_checks::report::AccountReport {
                account_id: (*id).into(),
                account_name: (*name).into(),
                ..template.clone()
            })
            .collect();
        r
    }

    /// Configured teams come first; accounts no team owns get a team of their own.
    #[test]
    fn unowned_accounts_get_their_own_team() {
        let c = Config::parse(BASE).unwrap();
        let r = report(&[("111111111111", "prod"), ("444444444444", "lab")]);
        let t = teams(&c, &r);
        let names: Vec<_> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["Payments", "Ops", "lab"]);
        assert_eq!(t[2].accounts, vec!["444444444444"]);
    }

    /// The files are written where asked, with the progress the rule gives: one passing check of one
    /// account makes Payments (whose second account is not in the run) partly implemented.
    #[test]
    fn writes_both_files() {
        let c = Config::parse(BASE).unwrap();
        let r = report(&[("111111111111", "prod")]);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("dsomm");
        let w = write_dsomm(&c, &r, &out).unwrap();
        assert_eq!(
            (w.teams, w.partly, w.fully, w.evidence_entries),
            (2, 1, 0, 2)
        );
        let progress = std::fs::read_to_string(out.join("team-progress.yaml")).unwrap();
        assert!(
            progress.contains("    'Payments':\n      'Started': "),
            "{progress}"
        );
        assert!(!progress.contains("'Ops'"), "{progress}");
        let evidence = std::fs::read_to_string(out.join("team-evidence.yaml")).unwrap();
        assert!(evidence.contains(
            "222222222222 iam_root_mfa_enabled: unknown (the account is not in the run)"
        ));
    }

    /// `--from auto` audits when there is no state database; `--from state` refuses to.
    #[test]
    fn source_selection() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        let mut c = Config::parse(BASE).unwrap();
        c.state.path = Some(db.clone());
        assert!(saved_report(&c, Source::Auto).unwrap().is_none());
        assert!(saved_report(&c, Source::State)
            .unwrap_err()
            .starts_with("--from state: no state database"));
        let store = Store::open(&db).unwrap();
        assert!(saved_report(&c, Source::State)
            .unwrap_err()
            .ends_with("holds no run"));
        let r = report(&[("111111111111", "prod")]);
        store.save_run(&r).unwrap();
        let saved = saved_report(&c, Source::Auto).unwrap().unwrap();
        assert_eq!(saved.accounts[0].account_id, "111111111111");
        assert!(saved_report(&c, Source::Audit).unwrap().is_none());
    }
}
