//! The account has a cost budget with at least one notification.
//!
//! Every account spends, so having no budget fails: this check is never not_applicable.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "budgets_budget_with_notification",
        title: "A cost budget notifies someone",
        practice: Practice::Monitoring,
        severity: Severity::Low,
        activity: dsomm::SIMPLE_BUDGET_METRICS,
        remediation: "Create a COST budget with an actual or forecasted threshold notification to \
                      an e-mail address or SNS topic (aws budgets create-budget \
                      --notifications-with-subscribers ...).",
        needs: &[Need::Budgets],
        notes: "**Judges** `DescribeBudgets` (global) and `DescribeNotificationsForBudget` per budget: pass \
when a `COST` budget has at least one notification (AWS requires a subscriber on each); fail \
naming 'no cost budget' or 'no notification'; a cost budget whose notifications cannot be read \
makes it unknown when no other qualifies. Never not_applicable.

**Edge cases**: usage, RI and Savings Plans budgets do not count: they do not watch spend. A \
budget in the management account filtering on this account does not count either: the check \
reads the audited account, and a member can create its own budget.

**Differs from Prowler / Security Hub**: neither has an equivalent control.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let account = snap.account_resource();
    let budgets = match &snap.budgets {
        Err(e) => return vec![super::unknown(&account, None, e)],
        Ok(b) => b,
    };
    if let Some(b) = budgets
        .iter()
        .find(|b| b.kind == "COST" && matches!(b.notifications, Ok(n) if n > 0))
    {
        return vec![Verdict::pass(
            &account,
            None,
            format!(
                "Cost budget {} of account {} has {} notification(s).",
                b.name,
                snap.account_id,
                b.notifications.as_ref().copied().unwrap_or_default()
            ),
        )];
    }
    // A cost budget whose notifications could not be read may be the one that proves it.
    if let Some(e) = budgets
        .iter()
        .filter(|b| b.kind == "COST")
        .find_map(|b| b.notifications.as_ref().err())
    {
        return vec![super::unknown(&account, None, e)];
    }
    let why = if budgets.iter().any(|b| b.kind == "COST") {
        "its cost budgets have no notification"
    } else {
        "it has no cost budget"
    };
    vec![Verdict::fail(
        &account,
        None,
        format!(
            "Account {} has no cost budget with a notification: {why}.",
            snap.account_id
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::Budget;

    fn budget(kind: &str, n: crate::facts::Fact<usize>) -> Budget {
        Budget {
            name: "monthly".into(),
            kind: kind.into(),
            notifications: n,
        }
    }

    fn run(b: crate::facts::Fact<Vec<Budget>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.budgets = b;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_with_notified_cost_budget() {
        let v = run(Ok(vec![budget("USAGE", Ok(1)), budget("COST", Ok(2))]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "account 111122223333",
                None,
                "Cost budget monthly of account 111122223333 has 2 notification(s)."
            )]
        );
    }

    /// Never not_applicable: no budget fails.
    #[test]
    fn fails_without_notified_cost_budget() {
        let v = run(Ok(vec![budget("COST", Ok(0))]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no cost budget with a notification: its cost budgets have no notification."
        );
        let v = run(Ok(vec![budget("USAGE", Ok(1))]));
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no cost budget with a notification: it has no cost budget."
        );
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied("budgets", "DescribeBudgets", None)));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: budgets:DescribeBudgets access denied (AccessDenied: not authorized)."
        );
        let v = run(Ok(vec![budget(
            "COST",
            Err(denied("budgets", "DescribeNotificationsForBudget", None)),
        )]));
        assert_eq!(v[0].status, Status::Unknown);
    }
}
