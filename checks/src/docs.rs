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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
