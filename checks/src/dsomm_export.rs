//! The DSOMM app's team files from a report: `team-progress.yaml` (how far each team has implemented
//! each activity) and `team-evidence.yaml` (the checks and resources behind it), in the format of the
//! app v4 (`TeamProgressFile` in its `src/app/model/types.ts`). Pure: the agent reads the report and writes
//! the files.
//!
//! # The rule
//! For one team and one activity, every check mapped to the activity is looked at in every account of
//! the team: each (account, check) pair is *passing* (`pass` or `accepted`), *failing* (`fail`),
//! *unknown* (`unknown`, or the account could not be audited) or *not applicable*. The status that
//! counts is the one the level is scored with (a carried-over status when there is one).
//! - **Fully implemented**: at least one pair passes and none fails or is unknown.
//! - **Partly implemented**: at least one pair passes, and at least as many pass as fail
//!   (unknown pairs only keep it from being fully implemented).
//! - **Started**: at least one pair passes, but fewer than fail.
//! - nothing (the app's 0% `Not implemented`, never written): no pair passes.
//!
//! An unknown pair never makes an activity implemented and never counts as failing; a team whose
//! pairs are all not applicable has nothing to prove and is not claimed. Titles are written
//! cumulatively, as the app does (`Fully implemented` also writes `Started` and `Partly implemented`),
//! each dated with the run's day (UTC).

use crate::model::Status;
use crate::report::{AccountReport, AccountStatus, Report};
use chrono::NaiveDate;
use sha1::{Digest, Sha1};
use std::collections::BTreeMap;
use std::fmt::Write;

/// A team of the DSOMM app and the accounts it owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    /// The name as in the app's `teams:` list.
    pub name: String,
    /// Account ids.
    pub accounts: Vec<String>,
}

/// One team per account of the report, named after the account (with the id when two accounts
/// share a name).
pub fn team_per_account(accounts: &[AccountReport]) -> Vec<Team> {
    accounts
        .iter()
        .map(|a| {
            let shared = accounts
                .iter()
                .filter(|b| b.account_name == a.account_name)
                .count()
                > 1;
            Team {
                name: if shared {
                    format!("{} ({})", a.account_name, a.account_id)
                } else {
                    a.account_name.clone()
                },
                accounts: vec![a.account_id.clone()],
            }
        })
        .collect()
}

/// The progress titles of the app's default `progressDefinition`, above `Not implemented` (0%).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Progress {
    NotImplemented,
    Started,
    PartlyImplemented,
    FullyImplemented,
}

impl Progress {
    pub fn title(self) -> &'static str {
        match self {
            Progress::NotImplemented => "Not implemented",
            Progress::Started => "Started",
            Progress::PartlyImplemented => "Partly implemented",
            Progress::FullyImplemented => "Fully implemented",
        }
    }

    /// The titles written for this progress: every one reached on the way, never the 0% one.
    pub fn titles(self) -> Vec<&'static str> {
        [
            Progress::Started,
            Progress::PartlyImplemented,
            Progress::FullyImplemented,
        ]
        .into_iter()
        .filter(|p| *p <= self)
        .map(Progress::title)
        .collect()
    }
}

/// The (account, check) pairs of one team and activity, by how they count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub passing: u32,
    pub failing: u32,
    pub unknown: u32,
    pub not_applicable: u32,
}

impl Tally {
    fn add(&mut self, s: Status) {
        match s {
            Status::Pass | Status::Accepted => self.passing += 1,
            Status::Fail => self.failing += 1,
            Status::Unknown => self.unknown += 1,
            Status::NotApplicable => self.not_applicable += 1,
        }
    }

    /// The rule of this module's documentation.
    pub fn progress(&self) -> Progress {
        if self.passing == 0 {
            Progress::NotImplemented
        } else if self.failing == 0 && self.unknown == 0 {
            Progress::FullyImplemented
        } else if self.passing >= self.failing {
            Progress::PartlyImplemented
        } else {
            Progress::Started
        }
    }
}

/// One team's standing on one activity, with the lines of its evidence.
#[derive(Debug, Clone)]
pub struct TeamActivity {
    pub team: String,
    pub activity_uuid: String,
    pub activity_name: String,
    pub tally: Tally,
    pub progress: Progress,
    /// Per account and check: the status and every verdict's resource and reason.
    pub evidence: Vec<String>,
}

/// The export of one report.
#[derive(Debug, Clone)]
pub struct Export {
    /// The day the progress is dated with: the run's start (UTC).
    pub date: NaiveDate,
    pub agent_version: String,
    pub started_at: String,
    /// Ordered by activity level, activity name, then the teams' order.
    pub entries: Vec<TeamActivity>,
}

/// Judges every activity that a check of the report proves, for every team.
pub fn export(report: &Report, teams: &[Team]) -> Export {
    // Activity uuid → (level, name, check ids), from every audited account of the report.
    let mut activities: BTreeMap<&str, (u8, &str, Vec<&str>)> = BTreeMap::new();
    for c in report.accounts.iter().flat_map(|a| a.checks.iter()) {
        let e = activities.entry(&c.dsomm_activity.uuid).or_insert((
            c.dsomm_activity.level,
            &c.dsomm_activity.name,
            vec![],
        ));
        if !e.2.contains(&c.id.as_str()) {
            e.2.push(&c.id);
        }
    }
    let mut ordered: Vec<_> = activities.into_iter().collect();
    ordered.sort_by_key(|(uuid, (level, name, _))| (*level, *name, *uuid));
    let mut entries = Vec::new();
    for (uuid, (_, name, check_ids)) in ordered {
        for team in teams {
            let mut tally = Tally::default();
            let mut evidence = Vec::new();
            for account_id in &team.accounts {
                let account = report.account(account_id);
                let label = match account {
                    Some(a) => format!("{} ({})", a.account_name, a.account_id),
                    None => account_id.clone(),
                };
                for check_id in &check_ids {
                    let result = account
                        .filter(|a| a.status == AccountStatus::Audited)
                        .and_then(|a| a.check(check_id));
                    let Some(c) = result else {
                        tally.add(Status::Unknown);
                        let why = match account {
                            None => "the account is not in the run".to_owned(),
                            Some(a) if a.status == AccountStatus::Failed => format!(
                                "the account could not be audited: {}",
                                a.error.as_deref().unwrap_or("unknown error")
                            ),
                            Some(_) => "the check did not run (disabled)".to_owned(),
                        };
                        evidence.push(format!("{label} {check_id}: unknown ({why})"));
                        continue;
                    };
                    let status = c.scored_status();
                    tally.add(status);
                    let mut line = format!("{label} {check_id}: {status}");
                    if let Some(co) = &c.carried_over {
                        let _ = write!(
                            line,
                            " (carried over from {}; this run: unknown)",
                            co.observed_at.format("%Y-%m-%d %H:%M UTC")
                        );
                    }
                    evidence.push(line);
                    for v in &c.verdicts {
                        let mut l = format!("  - {} {}", v.status, v.resource);
                        if let Some(r) = &v.region {
                            let _ = write!(l, " ({r})");
                        }
                        let _ = write!(l, ": {}", v.reason);
                        if let Some(note) = &v.exception {
                            let _ = write!(l, " [{note}]");
                        }
                        evidence.push(l);
                    }
                }
            }
            entries.push(TeamActivity {
                team: team.name.clone(),
                activity_uuid: uuid.to_owned(),
                activity_name: name.to_owned(),
                progress: tally.progress(),
                tally,
                evidence,
            });
        }
    }
    Export {
        date: report.started_at.date_naive(),
        agent_version: report.agent_version.clone(),
        started_at: report.started_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        entries,
    }
}

/// A YAML scalar as the app writes names and titles: single-quoted; double-quoted with escapes
/// (JSON's escapes are valid YAML) when it holds a control character.
fn quoted(s: &str) -> String {
    if s.chars().any(char::is_control) {
        serde_json::to_string(s).expect("a string serialises")
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// A `# comment` that cannot break the line it ends.
fn comment(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// A stable name-based UUID (RFC 4122 version 5, SHA-1) in maturity-agent's namespace: the same team
/// and activity give the same evidence id, so that the app replaces the entry on the next import.
pub fn evidence_id(team: &str, activity_uuid: &str) -> String {
    // Namespace: a fixed random UUID of maturity-agent's DSOMM evidence.
    const NAMESPACE: [u8; 16] = [
        0x6b, 0x1f, 0x3c, 0x52, 0x8e, 0x0a, 0x4d, 0x71, 0x9c, 0x2e, 0x51, 0xa4, 0x07, 0xd3, 0xe8,
        0x9f,
    ];
    let mut h = Sha1::new();
    h.update(NAMESPACE);
    h.update(format!("{team}\n{activity_uuid}").as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

impl Export {
    fn header(&self, what: &str) -> String {
        format!(
            "# DSOMM {what} written by maturity-agent {} from the audit of {} (DSOMM app v4 format).\n",
            self.agent_version, self.started_at
        )
    }

    /// `team-progress.yaml`: `progress: {uuid: {team: {title: date}}}` with unquoted dates.
    pub fn progress_yaml(&self) -> String {
        let mut out = self.header("team progress");
        let mut by_activity: BTreeMap<(usize, &str), Vec<&TeamActivity>> = BTreeMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            if e.progress > Progress::NotImplemented {
                // Keep the entries' order: the first index of each activity.
                let first = self
                    .entries
                    .iter()
                    .position(|x| x.activity_uuid == e.activity_uuid)
                    .unwrap_or(i);
                by_activity
                    .entry((first, &e.activity_uuid))
                    .or_default()
                    .push(e);
            }
        }
        if by_activity.is_empty() {
            out.push_str("progress: {}\n");
            return out;
        }
        out.push_str("progress:\n");
        for ((_, uuid), teams) in by_activity {
            let _ = writeln!(out, "  {uuid}:  # {}", comment(&teams[0].activity_name));
            for t in teams {
                let _ = writeln!(out, "    {}:", quoted(&t.team));
                for title in t.progress.titles() {
                    let _ = writeln!(out, "      {}: {}", quoted(title), self.date);
                }
            }
        }
        out
    }

    /// `team-evidence.yaml`: per activity a list of entries, one per team, each with a stable id,
    /// the date as an ISO string, and a description naming every check, status and resource.
    pub fn evidence_yaml(&self) -> String {
        let mut out = self.header("team evidence");
        if self.entries.is_empty() {
            out.push_str("evidence: {}\n");
            return out;
        }
        out.push_str("evidence:\n");
        let mut last_uuid = "";
        for e in &self.entries {
            if e.activity_uuid != last_uuid {
                let _ = writeln!(
                    out,
                    "  {}:  # {}",
                    e.activity_uuid,
                    comment(&e.activity_name)
                );
                last_uuid = &e.activity_uuid;
            }
            let t = &e.tally;
            let mut description = format!(
                "{} according to maturity-agent's audit of {}: {} account checks pass or are accepted, {} fail, {} unknown, {} not applicable.",
                e.progress.title(),
                self.started_at,
                t.passing,
                t.failing,
                t.unknown,
                t.not_applicable
            );
            for line in &e.evidence {
                description.push('\n');
                description.push_str(line);
            }
            let _ = writeln!(out, "    - id: {}", evidence_id(&e.team, &e.activity_uuid));
            let _ = writeln!(out, "      teams: [{}]", quoted(&e.team));
            let _ = writeln!(
                out,
                "      title: {}",
                quoted(&format!("AWS checks (maturity-agent): {}", e.activity_name))
            );
            let _ = writeln!(out, "      evidenceRecorded: \"{}\"", self.date);
            out.push_str("      reviewer: 'maturity-agent'\n");
            let _ = writeln!(
                out,
                "      description: {}",
                serde_json::to_string(&description).expect("a string serialises")
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Practice, Severity, Verdict};
    use crate::report::{CheckResult, DsommRef};

    fn tally(passing: u32, failing: u32, unknown: u32, not_applicable: u32) -> Progress {
        Tally {
            passing,
            failing,
            unknown,
            not_applicable,
        }
        .progress()
    }

    /// The rule, case by case: fully needs every pair passing (not-applicable ones aside), partly
    /// needs at least as many passing as failing, started needs one passing; unknowns never help and
    /// never count as failing; nothing passing is nothing, whatever else.
    #[test]
    fn the_progress_rule() {
        use Progress::*;
        assert_eq!(tally(3, 0, 0, 0), FullyImplemented);
        assert_eq!(tally(1, 0, 0, 5), FullyImplemented);
        assert_eq!(
            tally(3, 0, 1, 0),
            PartlyImplemented,
            "an unknown blocks fully"
        );
        assert_eq!(tally(2, 2, 0, 0), PartlyImplemented);
        assert_eq!(tally(1, 2, 0, 0), Started);
        assert_eq!(
            tally(1, 2, 9, 0),
            Started,
            "unknowns do not count as passing"
        );
        assert_eq!(tally(1, 1, 9, 0), PartlyImplemented, "nor as failing");
        assert_eq!(tally(0, 0, 3, 0), NotImplemented);
        assert_eq!(tally(0, 0, 0, 4), NotImplemented, "nothing to prove");
        assert_eq!(tally(0, 1, 0, 0), NotImplemented);
        assert_eq!(
            FullyImplemented.titles(),
            vec!["Started", "Partly implemented", "Fully implemented"]
        );
        assert_eq!(Started.titles(), vec!["Started"]);
        assert!(NotImplemented.titles().is_empty());
    }

    fn check(id: &str, activity: crate::dsomm::Activity, statuses: &[Status]) -> CheckResult {
        let verdicts: Vec<Verdict> = statuses
            .iter()
            .enumerate()
            .map(|(i, s)| Verdict::new(format!("arn:aws:s3:::{id}-{i}"), None, *s, "why."))
            .collect();
        CheckResult {
            id: id.into(),
            title: "t".into(),
            practice: Practice::Backups,
            level: activity.level,
            severity: Severity::Medium,
            dsomm_activity: DsommRef {
                uuid: activity.uuid.into(),
                name: activity.name.into(),
                level: activity.level,
            },
            status: crate::model::overall_status(&verdicts),
            remediation: "r".into(),
            verdicts,
            carried_over: None,
            rechecked: None,
        }
    }

    fn account(id: &str, name: &str, checks: Vec<CheckResult>) -> AccountReport {
        AccountReport {
            account_id: id.into(),
            account_name: name.into(),
            status: AccountStatus::Audited,
            error: None,
            regions: vec!["us-east-1".into()],
            level: None,
            confirmed_level: None,
            unconfirmed: false,
            practices: vec![],
            dimensions: vec![],
            checks,
            errors: vec![],
            api_calls: vec![],
            duration_seconds: 0.1,
        }
    }

    fn report(accounts: Vec<AccountReport>) -> Report {
        Report {
            schema_version: 1,
            agent_version: "test".into(),
            started_at: "2026-05-20T08:31:33Z".parse().unwrap(),
            duration_seconds: 1.0,
            accounts,
            organization: None,
        }
    }

    use crate::dsomm::{BACKUP, MFA_FOR_ADMINS};
    use Status::*;

    /// Two accounts of one team: an activity fully met in both is fully implemented; one failing in
    /// one account of two is partly implemented for the team; a failed account makes its pairs unknown.
    #[test]
    fn teams_combine_their_accounts() {
        let prod = account(
            "111111111111",
            "production",
            vec![
                check("s3_bucket_versioning_enabled", BACKUP, &[Pass]),
                check("iam_admin_users_mfa_enabled", MFA_FOR_ADMINS, &[Pass]),
            ],
        );
        let legacy = account(
            "222222222222",
            "legacy",
            vec![
                check("s3_bucket_versioning_enabled", BACKUP, &[Fail, Accepted]),
                check("iam_admin_users_mfa_enabled", MFA_FOR_ADMINS, &[Accepted]),
            ],
        );
        let mut down = account("333333333333", "down", vec![]);
        down.status = AccountStatus::Failed;
        down.error = Some("cannot assume".into());
        let r = report(vec![prod, legacy, down]);
        let teams = vec![
            Team {
                name: "Payments".into(),
                accounts: vec!["111111111111".into(), "222222222222".into()],
            },
            Team {
                name: "Ops".into(),
                accounts: vec!["111111111111".into(), "333333333333".into()],
            },
        ];
        let x = export(&r, &teams);
        let get = |team: &str, uuid: &str| {
            x.entries
                .iter()
                .find(|e| e.team == team && e.activity_uuid == uuid)
                .unwrap()
        };
        assert_eq!(
            get("Payments", MFA_FOR_ADMINS.uuid).progress,
            Progress::FullyImplemented,
            "accepted counts as passing"
        );
        assert_eq!(
            get("Payments", BACKUP.uuid).progress,
            Progress::PartlyImplemented
        );
        let ops = get("Ops", BACKUP.uuid);
        assert_eq!(
            (ops.progress, ops.tally.unknown),
            (Progress::PartlyImplemented, 1)
        );
        assert!(ops
            .evidence
            .contains(&"down (333333333333) s3_bucket_versioning_enabled: unknown (the account could not be audited: cannot assume)".to_owned()));
        // Level 1 activity first, then level 2; the teams in their order.
        let order: Vec<_> = x
            .entries
            .iter()
            .map(|e| (e.activity_name.as_str(), e.team.as_str()))
            .collect();
        assert_eq!(
            order,
            vec![
                ("MFA for admins", "Payments"),
                ("MFA for admins", "Ops"),
                ("Backup", "Payments"),
                ("Backup", "Ops")
            ]
        );
    }

    /// The progress file: unquoted dates, quoted team names and titles, cumulative titles, activities
    /// without progress left out; the evidence names checks and resources under a stable id.
    #[test]
    fn yaml_files_have_the_apps_shape() {
        let r = report(vec![account(
            "111111111111",
            "team's account",
            vec![
                check("iam_root_mfa_enabled", MFA_FOR_ADMINS, &[Pass]),
                check("iam_admin_users_mfa_enabled", MFA_FOR_ADMINS, &[Pass, Fail]),
                check("s3_bucket_versioning_enabled", BACKUP, &[Fail]),
            ],
        )]);
        let x = export(&r, &team_per_account(&r.accounts));
        assert_eq!(
            x.progress_yaml(),
            "# DSOMM team progress written by maturity-agent test from the audit of 2026-05-20T08:31:33Z (DSOMM app v4 format).\n\
             progress:\n  8098e416-e1ed-4ae4-a561-83efbe76bf57:  # MFA for admins\n    'team''s account':\n      \
             'Started': 2026-05-20\n      'Partly implemented': 2026-05-20\n"
        );
        let ev = x.evidence_yaml();
        let id = evidence_id("team's account", MFA_FOR_ADMINS.uuid);
        assert!(
            ev.contains(&format!("    - id: {id}\n      teams: ['team''s account']\n      title: 'AWS checks (maturity-agent): MFA for admins'\n      evidenceRecorded: \"2026-05-20\"\n      reviewer: 'maturity-agent'\n      description: \"Partly implemented according to maturity-agent's audit of 2026-05-20T08:31:33Z: 1 account checks pass or are accepted, 1 fail, 0 unknown, 0 not applicable.\\nteam's account (111111111111) iam_root_mfa_enabled: pass\\n  - pass arn:aws:s3:::iam_root_mfa_enabled-0: why.\\nteam's account (111111111111) iam_admin_users_mfa_enabled: fail\\n  - pass arn:aws:s3:::iam_admin_users_mfa_enabled-0: why.\\n  - fail arn:aws:s3:::iam_admin_users_mfa_enabled-1: why.\"\n")),
            "{ev}"
        );
        assert!(
            ev.contains(&format!("  {}:  # Backup\n    - id: ", BACKUP.uuid)),
            "an activity without progress still has its evidence: {ev}"
        );
        assert!(ev.contains("description: \"Not implemented according to"));
        let empty = export(&report(vec![]), &[]);
        assert!(empty.progress_yaml().ends_with("\nprogress: {}\n"));
        assert!(empty.evidence_yaml().ends_with("\nevidence: {}\n"));
    }

    /// Evidence ids are RFC 4122 version 5 UUIDs, stable per team and activity, distinct otherwise.
    #[test]
    fn evidence_ids_are_stable_v5_uuids() {
        let a = evidence_id("Payments", BACKUP.uuid);
        assert_eq!(a, evidence_id("Payments", BACKUP.uuid));
        assert_ne!(a, evidence_id("Ops", BACKUP.uuid));
        assert_ne!(a, evidence_id("Payments", MFA_FOR_ADMINS.uuid));
        let parts: Vec<_> = a.split('-').map(str::len).collect();
        assert_eq!(parts, vec![8, 4, 4, 4, 12]);
        assert!(a.as_bytes()[14] == b'5');
        assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
    }

    /// Names with control characters are double-quoted with escapes; comments lose them.
    #[test]
    fn quoting_is_safe() {
        assert_eq!(quoted("Team A"), "'Team A'");
        assert_eq!(quoted("it's"), "'it''s'");
        assert_eq!(quoted("a\nb"), "\"a\\nb\"");
        assert_eq!(comment("a\nb"), "ab");
        let two = team_per_account(&[
            account("111111111111", "same", vec![]),
            account("222222222222", "same", vec![]),
            account("333333333333", "other", vec![]),
        ]);
        let names: Vec<_> = two.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["same (111111111111)", "same (222222222222)", "other"]
        );
    }
}
