//! DSOMM levels and scores per practice and per account.
//!
//! Rules (also in ARCHITECTURE.md):
//! - A practice's **level** is the highest DSOMM level L (1–5) held by at least one enabled check of
//!   the practice with evidence (`pass` or `accepted`, not `not_applicable`) such that every enabled
//!   check of the practice with level ≤ L is met (`pass`, `accepted` or `not_applicable`); 0 when
//!   none qualifies. Checks at levels 1, 2, 3, 5 that fail only at 5 give 3; checks at 1 and 2 that
//!   pass and one at 5 with nothing to judge give 2, not 5.
//! - An `unknown` check neither lowers nor confirms a level: the level is computed as if unknown
//!   checks were met, and when that differs from the level computed as if they failed
//!   (`confirmed_level`), the level is marked `unconfirmed`.
//! - An `accepted` check (every failing resource accepted by an active exception) counts as passing
//!   for the level and the score.
//! - A practice's **score** is passing (`pass` or `accepted`) checks / checks with a `pass`,
//!   `accepted` or `fail` verdict (0–1), `None` when no check has any.
//! - The **account level** is the minimum of its practices' levels (and of their confirmed levels),
//!   over the practices that have at least one enabled check.
//! - Per **DSOMM sub-dimension** (as the DSOMM app groups activities: Implementation /
//!   Infrastructure Hardening, Test and Verification / Dynamic depth for infrastructure, …), an
//!   **activity** is met when every enabled check that evidences it is met; it fails when one fails,
//!   and is unknown when none fails and one is unknown. The sub-dimension's level follows the
//!   practice rule over its evidenced activities (each at its model level). An activity that no
//!   enabled check evidences neither raises nor lowers the level: the level says what the evidence
//!   shows, and `activities_evidenced` of `activities_in_model` says how much of the sub-dimension
//!   that is. A dimension's level is the minimum over its scored sub-dimensions.

use crate::model::{Practice, Status};
use serde::{Deserialize, Serialize};

/// What scoring needs of one check result.
#[derive(Debug, Clone, Copy)]
pub struct Scored {
    pub practice: Practice,
    pub level: u8,
    pub status: Status,
}

/// The maturity of one practice of one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PracticeScore {
    pub practice: Practice,
    /// The level, with unknown checks not counted against it.
    pub level: u8,
    /// The level with unknown checks counted as failed; equal to `level` unless `unconfirmed`.
    pub confirmed_level: u8,
    /// True when an unknown check stands between `confirmed_level` and `level`.
    pub unconfirmed: bool,
    /// Passing / (passing + failing) checks, accepted ones passing; `None` when no check passed,
    /// was accepted or failed.
    pub score: Option<f64>,
    pub passed: u32,
    /// Checks whose every failing resource is accepted by an exception (counted as passing).
    #[serde(default)]
    pub accepted: u32,
    pub failed: u32,
    pub unknown: u32,
    pub not_applicable: u32,
}

/// The maturity of one DSOMM sub-dimension of one account, from the activities its checks evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    pub dimension: String,
    pub subdimension: String,
    pub level: u8,
    pub confirmed_level: u8,
    pub unconfirmed: bool,
    /// Activities of the sub-dimension that an enabled check evidences.
    pub activities_evidenced: u32,
    /// Of those, the activities met.
    pub activities_met: u32,
    /// Activities of the sub-dimension in the model.
    pub activities_in_model: u32,
}

/// The status of an activity from the statuses of the checks that evidence it.
fn activity_status(statuses: &[Status]) -> Status {
    let has = |s: Status| statuses.contains(&s);
    if has(Status::Fail) {
        Status::Fail
    } else if has(Status::Unknown) {
        Status::Unknown
    } else if has(Status::Accepted) {
        Status::Accepted
    } else if has(Status::Pass) {
        Status::Pass
    } else {
        Status::NotApplicable
    }
}

/// Scores each DSOMM sub-dimension that an enabled check evidences, in the model's order, from
/// (activity uuid, check status) pairs; uuids the model does not hold are ignored (tested not to
/// exist in the catalog).
pub fn score_dimensions(checks: &[(&str, Status)]) -> Vec<DimensionScore> {
    let model = crate::dsomm::model();
    let mut order: Vec<(&str, &str)> = Vec::new();
    for a in model {
        if !order.contains(&(a.dimension, a.subdimension)) {
            order.push((a.dimension, a.subdimension));
        }
    }
    order
        .into_iter()
        .filter_map(|(dimension, subdimension)| {
            let activities: Vec<&crate::dsomm::ModelActivity> = model
                .iter()
                .filter(|a| a.dimension == dimension && a.subdimension == subdimension)
                .collect();
            let scored: Vec<Scored> = activities
                .iter()
                .filter_map(|a| {
                    let statuses: Vec<Status> = checks
                        .iter()
                        .filter(|(u, _)| *u == a.uuid)
                        .map(|(_, s)| *s)
                        .collect();
                    (!statuses.is_empty()).then(|| Scored {
                        practice: Practice::Identity,
                        level: a.level,
                        status: activity_status(&statuses),
                    })
                })
                .collect();
            if scored.is_empty() {
                return None;
            }
            let refs: Vec<&Scored> = scored.iter().collect();
            let level = level_of(&refs, |s| s.meets() || s == Status::Unknown);
            let confirmed_level = level_of(&refs, Status::meets);
            Some(DimensionScore {
                dimension: dimension.to_owned(),
                subdimension: subdimension.to_owned(),
                level,
                confirmed_level,
                unconfirmed: level != confirmed_level,
                activities_evidenced: scored.len() as u32,
                activities_met: scored.iter().filter(|s| s.status.meets()).count() as u32,
                activities_in_model: activities.len() as u32,
            })
        })
        .collect()
}

/// The level and confirmed level of each DSOMM dimension: the minimum over its scored
/// sub-dimensions, in the model's order.
pub fn dimension_levels(subs: &[DimensionScore]) -> Vec<(String, u8, u8)> {
    let mut out: Vec<(String, u8, u8)> = Vec::new();
    for s in subs {
        match out.iter_mut().find(|(d, _, _)| *d == s.dimension) {
            Some(d) => {
                d.1 = d.1.min(s.level);
                d.2 = d.2.min(s.confirmed_level);
            }
            None => out.push((s.dimension.clone(), s.level, s.confirmed_level)),
        }
    }
    out
}

/// The level reached when checks with the given statuses count as met: the highest level at which
/// some check holds evidence (it is met and not `not_applicable`) while every check up to that level
/// is met. A level whose checks are all `not_applicable` neither blocks nor is reached, so an account
/// without containers is not at level 5 because its blue/green check has nothing to judge.
fn level_of(checks: &[&Scored], meets: impl Fn(Status) -> bool) -> u8 {
    let mut levels: Vec<u8> = checks.iter().map(|c| c.level).collect();
    levels.sort_unstable();
    levels.dedup();
    let mut reached = 0;
    for l in levels {
        if !checks
            .iter()
            .filter(|c| c.level <= l)
            .all(|c| meets(c.status))
        {
            break;
        }
        if checks
            .iter()
            .any(|c| c.level == l && c.status != Status::NotApplicable)
        {
            reached = l;
        }
    }
    reached
}

/// Scores each practice that has at least one check, in `Practice::ALL` order.
pub fn score_practices(results: &[Scored]) -> Vec<PracticeScore> {
    Practice::ALL
        .iter()
        .filter_map(|&practice| {
            let checks: Vec<&Scored> = results.iter().filter(|r| r.practice == practice).collect();
            if checks.is_empty() {
                return None;
            }
            let count = |s: Status| checks.iter().filter(|c| c.status == s).count() as u32;
            let (passed, failed) = (count(Status::Pass), count(Status::Fail));
            let accepted = count(Status::Accepted);
            let passing = passed + accepted;
            let level = level_of(&checks, |s| s.meets() || s == Status::Unknown);
            let confirmed_level = level_of(&checks, Status::meets);
            Some(PracticeScore {
                practice,
                level,
                confirmed_level,
                unconfirmed: level != confirmed_level,
                score: (passing + failed > 0)
                    .then(|| f64::from(passing) / f64::from(passing + failed)),
                passed,
                accepted,
                failed,
                unknown: count(Status::Unknown),
                not_applicable: count(Status::NotApplicable),
            })
        })
        .collect()
}

/// The account's level and confirmed level: the minimum over its practices; `None` without any.
pub fn account_level(practices: &[PracticeScore]) -> Option<(u8, u8)> {
    let level = practices.iter().map(|p| p.level).min()?;
    let confirmed = practices.iter().map(|p| p.confirmed_level).min()?;
    Some((level, confirmed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    fn s(level: u8, status: Status) -> Scored {
        Scored {
            practice: Practice::Identity,
            level,
            status,
        }
    }

    /// The worked example of the rule: levels 1, 2, 3, 5 failing only at 5 is level 3, not 4.
    #[test]
    fn failing_only_the_top_check_gives_the_level_below() {
        let p = score_practices(&[s(1, Pass), s(2, Pass), s(3, Pass), s(5, Fail)]);
        assert_eq!(p[0].level, 3);
        assert_eq!(p[0].score, Some(0.75));
        assert!(!p[0].unconfirmed);
    }

    /// A level-1 failure makes the practice 0 whatever passes above it.
    #[test]
    fn a_low_failure_blocks_everything_above() {
        let p = score_practices(&[s(1, Fail), s(2, Pass), s(3, Pass)]);
        assert_eq!((p[0].level, p[0].confirmed_level), (0, 0));
    }

    /// Not applicable counts as met but is no evidence; two checks at one level must both be met.
    #[test]
    fn not_applicable_counts_as_met_and_levels_need_all_their_checks() {
        let p = score_practices(&[s(1, NotApplicable), s(2, Pass), s(2, Fail)]);
        assert_eq!(p[0].level, 0, "level 1 has nothing to judge, level 2 fails");
        let q = score_practices(&[s(1, Pass), s(2, Pass), s(2, Fail)]);
        assert_eq!(q[0].level, 1);
        assert_eq!(p[0].score, Some(0.5));
        let only_na = score_practices(&[s(2, NotApplicable)]);
        assert_eq!((only_na[0].level, only_na[0].score), (0, None));
        // Nothing to judge at the top does not lift the level; nothing to judge in between does not
        // block it.
        let top_na = score_practices(&[s(1, Pass), s(2, Pass), s(5, NotApplicable)]);
        assert_eq!(top_na[0].level, 2);
        let middle_na = score_practices(&[s(1, Pass), s(2, NotApplicable), s(3, Pass)]);
        assert_eq!(middle_na[0].level, 3);
    }

    /// An unknown blocking check marks the level unconfirmed instead of lowering it.
    #[test]
    fn unknown_marks_unconfirmed_not_lower() {
        let p = score_practices(&[s(1, Pass), s(2, Unknown), s(3, Pass)]);
        assert_eq!(
            (p[0].level, p[0].confirmed_level, p[0].unconfirmed),
            (3, 1, true)
        );
        assert_eq!(p[0].score, Some(1.0));
        assert_eq!(p[0].unknown, 1);
        // An unknown above a failure changes nothing: the failure decides.
        let q = score_practices(&[s(1, Fail), s(2, Unknown)]);
        assert_eq!((q[0].level, q[0].unconfirmed), (0, false));
    }

    /// An accepted check counts as passing for the level and the score, and is counted apart.
    #[test]
    fn accepted_counts_as_passing() {
        let p = score_practices(&[s(1, Accepted), s(2, Pass), s(3, Fail)]);
        assert_eq!((p[0].level, p[0].confirmed_level), (2, 2));
        assert_eq!(p[0].score, Some(2.0 / 3.0));
        assert_eq!((p[0].passed, p[0].accepted, p[0].failed), (1, 1, 1));
        let only_accepted = score_practices(&[s(1, Accepted)]);
        assert_eq!(
            (only_accepted[0].level, only_accepted[0].score),
            (1, Some(1.0))
        );
    }

    /// The account level is the minimum over scored practices; practices without checks are absent.
    #[test]
    fn account_level_is_the_minimum() {
        let mut results = vec![s(1, Pass), s(2, Pass)];
        results.push(Scored {
            practice: Practice::Network,
            level: 2,
            status: Unknown,
        });
        results.push(Scored {
            practice: Practice::Logging,
            level: 1,
            status: Pass,
        });
        let p = score_practices(&results);
        assert_eq!(
            p.iter().map(|p| p.practice).collect::<Vec<_>>(),
            vec![Practice::Identity, Practice::Logging, Practice::Network]
        );
        assert_eq!(account_level(&p), Some((1, 0)));
        assert_eq!(account_level(&[]), None);
    }

    const MFA_ADMINS: &str = "8098e416-e1ed-4ae4-a561-83efbe76bf57"; // Infrastructure Hardening L1
    const BACKUP: &str = "5c61fd6b-8106-4c68-ac28-a8a42f1c67dc"; // Infrastructure Hardening L2
    const HARDENING_ENV: &str = "dcf9601b-b4f2-4e25-9143-e39af75f7c33"; // Infrastructure Hardening L4
    const EXPOSED: &str = "a6c4cefb-a0b7-4787-8cc7-a0f96b4b00d8"; // Dynamic depth for infrastructure L2

    /// An activity with several checks is met only when all are; activities without a check do not
    /// count; sub-dimensions follow the model's grouping and a dimension takes the minimum.
    #[test]
    fn dimensions_follow_the_model() {
        let d = score_dimensions(&[
            (MFA_ADMINS, Pass),
            (BACKUP, Pass),
            (BACKUP, Fail),
            (HARDENING_ENV, Pass),
            (EXPOSED, Unknown),
            ("not-a-uuid", Fail),
        ]);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(
            (d[0].dimension.as_str(), d[0].subdimension.as_str()),
            ("Implementation", "Infrastructure Hardening")
        );
        assert_eq!(
            (d[0].level, d[0].activities_evidenced, d[0].activities_met),
            (1, 3, 2)
        );
        assert!(d[0].activities_in_model > 10);
        assert_eq!(d[1].subdimension, "Dynamic depth for infrastructure");
        assert_eq!(
            (d[1].level, d[1].confirmed_level, d[1].unconfirmed),
            (2, 0, true)
        );
        let fixed = score_dimensions(&[(MFA_ADMINS, Pass), (BACKUP, Pass), (HARDENING_ENV, Pass)]);
        assert_eq!(
            fixed[0].level, 4,
            "levels without evidence (3) do not block"
        );
        let dims = dimension_levels(&d);
        assert_eq!(
            dims,
            vec![
                ("Implementation".to_owned(), 1, 1),
                ("Test and Verification".to_owned(), 2, 0)
            ]
        );
    }
}
