//! DSOMM levels and scores per practice and per account.
//!
//! Rules (also in ARCHITECTURE.md):
//! - A practice's **level** is the highest DSOMM level L (1–5) held by at least one enabled check of
//!   the practice such that every enabled check of the practice with level ≤ L is met (`pass` or
//!   `not_applicable`); 0 when none qualifies. Checks at levels 1, 2, 3, 5 that fail only at 5 give 3.
//! - An `unknown` check neither lowers nor confirms a level: the level is computed as if unknown
//!   checks were met, and when that differs from the level computed as if they failed
//!   (`confirmed_level`), the level is marked `unconfirmed`.
//! - An `accepted` check (every failing resource accepted by an active exception) counts as passing
//!   for the level and the score.
//! - A practice's **score** is passing (`pass` or `accepted`) checks / checks with a `pass`,
//!   `accepted` or `fail` verdict (0–1), `None` when no check has any.
//! - The **account level** is the minimum of its practices' levels (and of their confirmed levels),
//!   over the practices that have at least one enabled check.

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

/// The level reached when checks with the given statuses count as met.
fn level_of(checks: &[&Scored], meets: impl Fn(Status) -> bool) -> u8 {
    let mut levels: Vec<u8> = checks.iter().map(|c| c.level).collect();
    levels.sort_unstable();
    levels.dedup();
    let mut reached = 0;
    for l in levels {
        if checks
            .iter()
            .filter(|c| c.level <= l)
            .all(|c| meets(c.status))
        {
            reached = l;
        } else {
            break;
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

    /// Not applicable counts as met; two checks at one level must both be met.
    #[test]
    fn not_applicable_counts_as_met_and_levels_need_all_their_checks() {
        let p = score_practices(&[s(1, NotApplicable), s(2, Pass), s(2, Fail)]);
        assert_eq!(p[0].level, 1);
        assert_eq!(p[0].score, Some(0.5));
        let only_na = score_practices(&[s(2, NotApplicable)]);
        assert_eq!((only_na[0].level, only_na[0].score), (2, None));
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
}
