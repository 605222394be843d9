//! The root user signs in only with MFA.

use super::unknown;
use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_root_mfa_enabled",
        title: "The root user has MFA enabled",
        practice: Practice::Identity,
        severity: Severity::Critical,
        activity: dsomm::MFA_FOR_ADMINS,
        remediation:
            "Sign in as the root user and assign an MFA device (preferably a hardware key) under \
                      Security credentials; keep the device in a safe with a break-glass procedure.",
        needs: &[Need::IamAccountSummary],
        notes: "",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let root = format!("arn:aws:iam::{}:root", snap.account_id);
    vec![match &snap.iam.account_summary {
        Err(e) => unknown(&root, None, e),
        Ok(s) if s.account_mfa_enabled => Verdict::pass(
            &root,
            None,
            format!("The root user {root} has MFA enabled."),
        ),
        Ok(_) => Verdict::fail(
            &root,
            None,
            format!("The root user {root} has no MFA device."),
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
    fn passes_with_root_mfa() {
        let v = run(Ok(AccountSummary {
            account_mfa_enabled: true,
            ..Default::default()
        }));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:iam::111122223333:root",
                None,
                "The root user arn:aws:iam::111122223333:root has MFA enabled."
            )]
        );
    }

    #[test]
    fn fails_without_root_mfa() {
        let v = run(Ok(AccountSummary::default()));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "The root user arn:aws:iam::111122223333:root has no MFA device."
        );
    }

    /// Every account has a root user, so this check is never not_applicable: its only other outcome
    /// is unknown when the summary cannot be read.
    #[test]
    fn unknown_when_summary_denied() {
        let v = run(Err(denied("iam", "GetAccountSummary", None)));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge arn:aws:iam::111122223333:root: iam:GetAccountSummary access denied (AccessDenied: not authorized)."
        );
    }
}
