//! The root user has no access keys.

use super::unknown;
use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_root_access_keys_absent",
        title: "The root user has no access keys",
        practice: Practice::Identity,
        severity: Severity::Critical,
        activity: dsomm::SIMPLE_ACCESS_CONTROL,
        remediation:
            "Sign in as the root user, delete its access keys under Security credentials, and give \
                      automation an IAM role instead.",
        needs: &[Need::IamAccountSummary],
        notes: "**Judges** `GetAccountSummary` `AccountAccessKeysPresent`: 0 passes, 1 fails; an \
unreadable summary is unknown. Never not_applicable.

**Edge cases**: the counter includes inactive root keys: an inactive key is one console click \
from use by whoever holds the root password, and deleting it is the remediation. A member \
account whose root credentials were removed by centralized root access has no keys and passes.

**Differs from Prowler / Security Hub**: agrees with Security Hub IAM.4 (which reads the same \
counter); Prowler's `iam_no_root_access_key` reads the credential report and passes inactive \
root keys.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let root = format!("arn:aws:iam::{}:root", snap.account_id);
    vec![match &snap.iam.account_summary {
        Err(e) => unknown(&root, None, e),
        Ok(s) if s.account_access_keys_present => Verdict::fail(
            &root,
            None,
            format!("The root user {root} has access keys."),
        ),
        Ok(_) => Verdict::pass(
            &root,
            None,
            format!("The root user {root} has no access keys."),
        ),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::AccountSummary;

    fn run(summary: crate::facts::Fact<AccountSummary>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.iam.account_summary = summary;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_without_root_keys() {
        let v = run(Ok(AccountSummary::default()));
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[0].reason,
            "The root user arn:aws:iam::111122223333:root has no access keys."
        );
    }

    #[test]
    fn fails_with_root_keys() {
        let v = run(Ok(AccountSummary {
            account_access_keys_present: true,
            ..Default::default()
        }));
        assert_eq!(
            v,
            vec![Verdict::fail(
                "arn:aws:iam::111122223333:root",
                None,
                "The root user arn:aws:iam::111122223333:root has access keys."
            )]
        );
    }

    /// Every account has a root user: never not_applicable; unknown when the summary is unreadable.
    #[test]
    fn unknown_when_summary_throttled() {
        let e = crate::facts::FactError::new(
            "iam",
            "GetAccountSummary",
            None,
            crate::facts::ErrorKind::Throttled,
            "Throttling: Rate exceeded",
        );
        let v = run(Err(e));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge arn:aws:iam::111122223333:root: iam:GetAccountSummary throttled (Throttling: Rate exceeded)."
        );
    }
}
