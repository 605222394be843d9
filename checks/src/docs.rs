//! `docs/checks.md`, generated from the catalog so that the documentation cannot drift from the
//! code: a test regenerates it in memory and fails when the file differs
//! (`UPDATE_DOCS=1 cargo test -p maturity-checks docs::` rewrites it).

use crate::catalog::{needs_of, Check, CATALOG};
use crate::model::Practice;
use std::collections::BTreeSet;
use std::fmt::Write;

/// The IAM actions a check's facts require, sorted and deduplicated.
pub fn iam_actions(check: &Check) -> Vec<&'static str> {
    let actions: BTreeSet<&'static str> = needs_of(&[check])
        .into_iter()
        .flat_map(|n| n.operations().iter().map(|o| o.iam_action))
        .collect();
    actions.into_iter().collect()
}

/// Markdown table cells may not hold `|` or line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The catalog as Markdown: a summary table per practice, then every check's remediation and the
/// IAM actions its facts need.
pub fn checks_markdown() -> String {
    let mut out = String::new();
    out.push_str(
        "# Checks\n\n\
         Generated from the catalog (`checks/src/catalog.rs`) by `UPDATE_DOCS=1 cargo test -p \
         maturity-checks docs::`; a test fails when this file is stale. Each check proves one \
         [DSOMM](https://dsomm.owasp.org/) activity and carries its level.\n\n\
         | practice | id | title | level | DSOMM activity | severity |\n\
         |---|---|---|---|---|---|\n",
    );
    let ordered: Vec<&Check> = Practice::ALL
        .iter()
        .flat_map(|p| {
            CATALOG
                .iter()
                .copied()
                .filter(move |c| c.meta.practice == *p)
        })
        .collect();
    for c in &ordered {
        let m = &c.meta;
        let _ = writeln!(
            out,
            "| {} | [`{}`](#{}) | {} | {} | {} (`{}`) | {} |",
            m.practice,
            m.id,
            m.id,
            cell(m.title),
            m.activity.level,
            m.activity.name,
            m.activity.uuid,
            m.severity
        );
    }
    out.push_str("\n## Remediation and required IAM actions\n");
    for c in &ordered {
        let m = &c.meta;
        let whose = if m.needs.iter().any(|n| n.is_organization()) {
            " (of the agent's own credentials, or of `organization.management_role_arn` when set: \
             AWS Organizations is read once per run, not through the account's role)"
        } else {
            ""
        };
        let _ = write!(
            out,
            "\n### {}\n\n{}\n\n- practice: {}; level {} ({}); severity: {}\n- remediation: {}\n- IAM actions{whose}: {}\n",
            m.id,
            m.title,
            m.practice,
            m.activity.level,
            m.activity.name,
            m.severity,
            m.remediation,
            iam_actions(c)
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if !m.notes.is_empty() {
            let _ = writeln!(out, "\n{}", m.notes.trim());
        }
    }
    out.push_str(&coverage_markdown());
    out
}

/// One row of `checks/data/dsomm/aws-evidence.tsv`: a tier-A activity and, when no check evidences
/// it, what judging it needs.
pub struct Evidence {
    pub uuid: &'static str,
    pub name: &'static str,
    pub level: u8,
    pub not_judged: &'static str,
}

/// The tier-A activities (those whose implementation AWS APIs can show).
pub fn tier_a() -> Vec<Evidence> {
    include_str!("../data/dsomm/aws-evidence.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&'static str> = l.split('\t').collect();
            Some(Evidence {
                uuid: c.first()?,
                name: c.get(1)?,
                level: c.get(2)?.parse().ok()?,
                not_judged: c.get(3).copied().unwrap_or(""),
            })
        })
        .collect()
}

/// The DSOMM coverage section: every tier-A activity by dimension and sub-dimension, with the
/// checks that evidence it or why none does yet.
fn coverage_markdown() -> String {
    let rows = tier_a();
    let evidenced = rows
        .iter()
        .filter(|r| CATALOG.iter().any(|c| c.meta.activity.uuid == r.uuid))
        .count();
    let mut out = format!(
        "\n## DSOMM coverage\n\nThe DSOMM activities whose implementation AWS APIs can show (tier A, \
         `checks/data/dsomm/aws-evidence.tsv`): {evidenced} of {} are evidenced by a check; for the \
         others, what judging them needs. Levels per sub-dimension count evidenced activities only \
         (ARCHITECTURE.md, scoring rules).\n\n\
         | dimension / sub-dimension | activity | level | evidenced by |\n|---|---|---|---|\n",
        rows.len()
    );
    for r in &rows {
        let at = crate::dsomm::find(r.uuid)
            .map(|a| format!("{} / {}", a.dimension, a.subdimension))
            .unwrap_or_default();
        let checks: Vec<String> = CATALOG
            .iter()
            .filter(|c| c.meta.activity.uuid == r.uuid)
            .map(|c| format!("[`{}`](#{})", c.meta.id, c.meta.id))
            .collect();
        let by = if checks.is_empty() {
            format!("not judged: {}", r.not_judged)
        } else {
            checks.join(", ")
        };
        let _ = writeln!(
            out,
            "| {at} | {} | {} | {} |",
            cell(r.name),
            r.level,
            cell(&by)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every tier-A activity is the model's (uuid, name, level), and it is either evidenced by a
    /// check or says why not — never both, so that a reason cannot outlive the check that answers it.
    #[test]
    fn tier_a_activities_are_evidenced_or_explained() {
        let rows = tier_a();
        assert!(rows.len() >= 50, "aws-evidence.tsv looks truncated");
        for r in rows {
            let a = crate::dsomm::find(r.uuid)
                .unwrap_or_else(|| panic!("{} ({}) is not in the model", r.name, r.uuid));
            assert_eq!((a.name, a.level), (r.name, r.level), "{}", r.uuid);
            let evidenced = CATALOG.iter().any(|c| c.meta.activity.uuid == r.uuid);
            assert_ne!(
                evidenced,
                !r.not_judged.is_empty(),
                "{}: evidenced = {evidenced}, reason = {:?}",
                r.name,
                r.not_judged
            );
        }
    }

    /// `docs/checks.md` is exactly what the catalog generates; `UPDATE_DOCS=1` rewrites it.
    #[test]
    fn checks_md_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/checks.md");
        let want = checks_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1") {
            std::fs::write(path, &want).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "docs/checks.md is stale; regenerate it with: UPDATE_DOCS=1 cargo test -p maturity-checks docs::"
        );
    }

    /// Every check is documented with its id, level and every IAM action it needs.
    #[test]
    fn every_check_and_action_is_documented() {
        let md = checks_markdown();
        for c in CATALOG {
            assert!(
                md.contains(&format!("\n### {}\n", c.meta.id)),
                "{}",
                c.meta.id
            );
            for a in iam_actions(c) {
                assert!(md.contains(&format!("`{a}`")), "{}: {a}", c.meta.id);
            }
        }
    }
}
