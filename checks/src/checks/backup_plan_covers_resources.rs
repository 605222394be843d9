//! The account has an AWS Backup plan that backs something up: at least one plan, in any audited
//! region, with at least one rule (a schedule and a vault) and at least one resource selection.
//!
//! A plan without a selection backs up nothing, and a selection without a rule never runs. Having no
//! such plan fails (every account holds data worth restoring), so this check is never
//! not_applicable. One qualifying plan is enough; a region or a plan that could not be read makes the
//! check unknown only when no other plan qualifies.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::facts::FactError;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "backup_plan_covers_resources",
        title: "An AWS Backup plan with a rule covers selected resources",
        practice: Practice::Backups,
        severity: Severity::Medium,
        activity: dsomm::BACKUP,
        remediation: "Create an AWS Backup plan with at least one rule (schedule, vault, \
                      retention) and assign resources to it with a resource selection by tag or \
                      ARN (aws backup create-backup-plan, aws backup create-backup-selection).",
        needs: &[Need::BackupPlans],
        notes: "**Judges** `ListBackupPlans` per audited region, `GetBackupPlan` (rules) and \
`ListBackupSelections` per plan: pass when one plan has at least one rule and one resource \
selection; fail naming each incomplete plan, or 'no backup plan'. Never not_applicable. A region \
or plan that cannot be read makes the verdict unknown only when no other plan qualifies.

**Edge cases**: a plan without a selection backs up nothing, a selection without a rule never \
runs: neither qualifies. Deleted plans are not listed. Plans created by an Organizations backup \
policy are listed in the member account and count. Whether a selection's tags or ARNs match any \
resource is not judged (a known gap: it needs the protected resources list).

**Differs from Prowler / Security Hub**: Prowler's `backup_plans_exist` passes any plan, even one \
without rules or selections; ours requires both. Security Hub has per-resource controls \
(e.g. EC2.28, DynamoDB.4) rather than an account-level one.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let account = snap.account_resource();
    let mut first_error: Option<&FactError> = None;
    let mut incomplete = Vec::new();
    for (region, facts) in &snap.regional {
        let plans = match &facts.backup_plans {
            Err(e) => {
                first_error.get_or_insert(e);
                continue;
            }
            Ok(p) => p,
        };
        for plan in plans {
            let rules = plan.rules.as_ref().map(Vec::len);
            let selections = plan.selections.as_ref().map(Vec::len);
            match (rules, selections) {
                (Ok(0), _) | (_, Ok(0)) => {
                    let mut missing = Vec::new();
                    if rules == Ok(0) {
                        missing.push("no rule");
                    }
                    if selections == Ok(0) {
                        missing.push("no resource selection");
                    }
                    incomplete.push(format!(
                        "plan {} in {region} has {}",
                        plan.name,
                        missing.join(" and ")
                    ));
                }
                (Err(e), _) | (_, Err(e)) => {
                    first_error.get_or_insert(e);
                }
                (Ok(r), Ok(s)) => {
                    return vec![Verdict::pass(
                        &account,
                        None,
                        format!(
                        "Backup plan {} in {region} has {r} rule(s) and {s} resource selection(s).",
                        plan.name
                    ),
                    )]
                }
            }
        }
    }
    // A plan that could not be read, or a region whose plans could not be listed, may hold the plan
    // that proves it.
    if let Some(e) = first_error {
        return vec![super::unknown(&account, None, e)];
    }
    let why = if incomplete.is_empty() {
        "it has no backup plan".to_owned()
    } else {
        incomplete.join("; ")
    };
    vec![Verdict::fail(
        &account,
        None,
        format!(
            "Account {} has no AWS Backup plan with a rule and a resource selection in the audited regions: {why}.",
            snap.account_id
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::facts::Fact;
    use crate::model::Status;
    use crate::snapshot::BackupPlan;

    fn plan(rules: Fact<Vec<String>>, selections: Fact<Vec<String>>) -> BackupPlan {
        BackupPlan {
            id: "p-1".into(),
            arn: format!("arn:aws:backup:{REGION}:{ACCOUNT}:backup-plan:p-1"),
            name: "daily".into(),
            rules,
            selections,
        }
    }

    fn names(n: &[&str]) -> Fact<Vec<String>> {
        Ok(n.iter().map(|s| s.to_string()).collect())
    }

    fn run(plans: Fact<Vec<BackupPlan>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().backup_plans = plans;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_with_a_rule_and_a_selection() {
        let v = run(Ok(vec![
            plan(names(&[]), names(&["all"])),
            plan(names(&["nightly"]), names(&["tagged"])),
        ]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "account 111122223333",
                None,
                "Backup plan daily in eu-west-1 has 1 rule(s) and 1 resource selection(s)."
            )]
        );
    }

    /// A plan that covers nothing fails by name; so does having no plan (never not_applicable).
    #[test]
    fn fails_without_a_complete_plan() {
        let v = run(Ok(vec![plan(names(&["nightly"]), names(&[]))]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no AWS Backup plan with a rule and a resource selection in the audited regions: plan daily in eu-west-1 has no resource selection."
        );
        // A plan without a rule fails even when its selections could not be read.
        let v = run(Ok(vec![plan(
            names(&[]),
            Err(denied("backup", "ListBackupSelections", Some(REGION))),
        )]));
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no AWS Backup plan with a rule and a resource selection in the audited regions: plan daily in eu-west-1 has no rule."
        );
        let v = run(Ok(vec![]));
        assert_eq!(
            v,
            vec![Verdict::fail(
                "account 111122223333",
                None,
                "Account 111122223333 has no AWS Backup plan with a rule and a resource selection in the audited regions: it has no backup plan."
            )]
        );
    }

    /// An unreadable listing, or a plan with a rule whose selections cannot be read, is unknown.
    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied("backup", "ListBackupPlans", Some(REGION))));
        assert_eq!(
            v,
            vec![Verdict::unknown(
                "account 111122223333",
                None,
                "Cannot judge account 111122223333: backup:ListBackupPlans in eu-west-1 access denied (AccessDenied: not authorized)."
            )]
        );
        let v = run(Ok(vec![plan(
            names(&["nightly"]),
            Err(denied("backup", "ListBackupSelections", Some(REGION))),
        )]));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: backup:ListBackupSelections in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
