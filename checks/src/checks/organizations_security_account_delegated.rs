//! GuardDuty and Security Hub are administered for the organization from a dedicated security
//! account.
//!
//! The rule: each of `guardduty.amazonaws.com` and `securityhub.amazonaws.com` has a delegated
//! administrator in AWS Organizations, and every such administrator is a dedicated security account
//! — not the management account, and tagged with one of `security_environments` (default
//! `security`) under `environment_tag_key`, so never a production or non-production workload
//! account, the audited account included. The facts are the organization's, read once per run;
//! every audited member account gets the same verdict, naming the administrators. When
//! Organizations cannot be read, or does not list the account, the verdict is unknown.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::facts::FactError;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::{EnvironmentKind, Settings};
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "organizations_security_account_delegated",
        title: "GuardDuty and Security Hub are administered from a dedicated security account",
        practice: Practice::Environments,
        severity: Severity::High,
        activity: dsomm::SECURITY_ACCOUNT,
        remediation: "From the management account, make a dedicated security account the \
                      delegated administrator of GuardDuty (aws guardduty \
                      enable-organization-admin-account) and of Security Hub (aws securityhub \
                      enable-organization-admin-account), and tag that account in AWS \
                      Organizations with environment=security (a value of \
                      security_environments). Neither the management account nor an account \
                      running production or non-production workloads may administer them.",
        needs: &[
            Need::OrganizationDelegatedAdministrators,
            Need::OrganizationAccounts,
        ],
        notes: "**Judges** the organization once per run (`ListDelegatedAdministrators`, the administrators' tags from `ListTagsForResource`): it passes when both `guardduty.amazonaws.com` and `securityhub.amazonaws.com` have a delegated administrator and every administrator is a dedicated security account, neither the management account nor a workload account: tagged under `environment_tag_key` with one of `security_environments` (default `security`). It fails naming the missing service or the administrator and its tag; an account in no organization fails; Organizations that cannot be read is `unknown`. Every audited member gets the same verdict.\n\n\
**Edge cases**: an administrator whose tags cannot be read is `unknown`, not a workload; a security account that is also audited is judged like the others; other services' administrators (Config, Access Analyzer, Macie) are not required here.\n\n\
**Differs from Prowler** (`guardduty_delegated_admin_enabled_all_regions`, `securityhub_enabled`): Prowler checks that a delegated administrator exists; ours also requires it to be a dedicated security account, as AWS's Security Reference Architecture recommends.",
        module: module_path!(),
    },
    evaluate,
};

/// The services that must be administered from the security account: (name, service principal).
const SERVICES: [(&str, &str); 2] = [
    ("GuardDuty", "guardduty.amazonaws.com"),
    ("Security Hub", "securityhub.amazonaws.com"),
];

/// What one service's administration shows.
enum Finding<'a> {
    Dedicated(String),
    Problem(String),
    Unreadable(&'a FactError),
}

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    let (org, members, _) = match super::org_member(snap) {
        Ok(m) => m,
        Err(unknown) => return vec![unknown],
    };
    let account = snap.account_resource();
    let delegated = match &org.delegated_administrators {
        Ok(d) => d,
        Err(e) => return vec![super::unknown(&account, None, e)],
    };
    let key = &settings.environment_tag_key;
    let judge = |admin: &str| -> Finding {
        if admin == org.management_account_id {
            return Finding::Problem(format!("the management account {admin}"));
        }
        let Some(m) = members.get(admin) else {
            return Finding::Problem(format!(
                "account {admin}, which organization {} does not list",
                org.id
            ));
        };
        let envs = match super::environments(m, key) {
            Ok(e) => e,
            Err(e) => return Finding::Unreadable(e),
        };
        let who = format!("account {} ({})", m.id, m.name);
        match envs.as_slice() {
            [one] if settings.environment_kind(one) == Some(EnvironmentKind::Security) => {
                Finding::Dedicated(format!("security {who}"))
            }
            [one] => match settings.environment_kind(one) {
                Some(kind) => Finding::Problem(format!(
                    "{who}, a {} workload account ({key}={one})",
                    kind.as_str()
                )),
                None => Finding::Problem(format!(
                    "{who}, not tagged as a security account ({key}={one})"
                )),
            },
            [] => Finding::Problem(format!("{who}, which has no {key} tag")),
            several => Finding::Problem(format!(
                "{who}, which serves several environments ({})",
                several.join(", ")
            )),
        }
    };
    let mut dedicated = Vec::new();
    let mut problems = Vec::new();
    let mut unreadable = None;
    for (name, principal) in SERVICES {
        let admins = delegated
            .get(principal)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if admins.is_empty() {
            problems.push(format!("{name} has no delegated administrator"));
        }
        for admin in admins {
            match judge(admin) {
                Finding::Dedicated(who) => dedicated.push(format!("{name} from {who}")),
                Finding::Problem(who) => {
                    problems.push(format!("{name} is administered from {who}"))
                }
                Finding::Unreadable(e) => {
                    unreadable.get_or_insert(e);
                }
            }
        }
    }
    let id = &snap.account_id;
    if !problems.is_empty() {
        return vec![Verdict::fail(
            &account,
            None,
            format!(
                "GuardDuty and Security Hub of account {id} are not administered from a dedicated security account: {}.",
                problems.join("; ")
            ),
        )];
    }
    if let Some(e) = unreadable {
        return vec![super::unknown(&account, None, e)];
    }
    vec![Verdict::pass(
        &account,
        None,
        format!(
            "GuardDuty and Security Hub of account {id} are administered from a dedicated security account: {}.",
            dedicated.join("; ")
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use std::sync::Arc;

    const SECURITY: &str = "222233334444";
    const GD: &str = "guardduty.amazonaws.com";
    const SH: &str = "securityhub.amazonaws.com";

    /// The audited account (production), a security account, and the given delegations.
    fn run(security_tags: &[(&str, &str)], delegated: &[(&str, &[&str])]) -> Vec<Verdict> {
        let mut s = snapshot();
        s.organization = Ok(Arc::new(organization(
            &[
                (ACCOUNT, "shop", &[("environment", "production")]),
                (SECURITY, "sec", security_tags),
                (MANAGEMENT, "root", &[]),
            ],
            delegated,
        )));
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_when_a_security_account_administers_both() {
        let v = run(
            &[("Environment", "security")],
            &[(GD, &[SECURITY]), (SH, &[SECURITY])],
        );
        assert_eq!(
            v,
            vec![Verdict::pass(
                "account 111122223333",
                None,
                "GuardDuty and Security Hub of account 111122223333 are administered from a dedicated security account: GuardDuty from security account 222233334444 (sec); Security Hub from security account 222233334444 (sec)."
            )]
        );
    }

    /// No administrator, the management account, a workload account (here the audited one) and an
    /// untagged account each fail, by name.
    #[test]
    fn fails_unless_a_dedicated_security_account_administers() {
        let v = run(&[("environment", "security")], &[(GD, &[SECURITY])]);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "GuardDuty and Security Hub of account 111122223333 are not administered from a dedicated security account: Security Hub has no delegated administrator."
        );
        let v = run(&[], &[(GD, &[MANAGEMENT]), (SH, &[ACCOUNT])]);
        assert_eq!(
            v[0].reason,
            "GuardDuty and Security Hub of account 111122223333 are not administered from a dedicated security account: GuardDuty is administered from the management account 999988887777; Security Hub is administered from account 111122223333 (shop), a production workload account (environment=production)."
        );
        let v = run(&[], &[(GD, &[SECURITY]), (SH, &[SECURITY])]);
        assert_eq!(
            v[0].reason,
            "GuardDuty and Security Hub of account 111122223333 are not administered from a dedicated security account: GuardDuty is administered from account 222233334444 (sec), which has no environment tag; Security Hub is administered from account 222233334444 (sec), which has no environment tag."
        );
        let v = run(
            &[("environment", "tools")],
            &[(GD, &[SECURITY]), (SH, &[SECURITY])],
        );
        assert!(
            v[0].reason.ends_with("Security Hub is administered from account 222233334444 (sec), not tagged as a security account (environment=tools)."),
            "{}",
            v[0].reason
        );
    }

    /// Never not_applicable: every organization needs its security services administered.
    /// Unreadable delegations, organization or administrator tags are unknown, never a failure.
    #[test]
    fn unknown_when_the_organization_cannot_tell() {
        let mut s = snapshot();
        s.organization = Err(denied("organizations", "DescribeOrganization", None));
        assert_eq!(
            evaluate(&s, &Settings::default()),
            vec![Verdict::unknown(
                "account 111122223333",
                None,
                "Cannot judge account 111122223333: organizations:DescribeOrganization access denied (AccessDenied: not authorized)."
            )]
        );
        let mut org = organization(&[(ACCOUNT, "shop", &[])], &[]);
        org.delegated_administrators =
            Err(denied("organizations", "ListDelegatedAdministrators", None));
        s.organization = Ok(Arc::new(org));
        assert_eq!(
            evaluate(&s, &Settings::default())[0].reason,
            "Cannot judge account 111122223333: organizations:ListDelegatedAdministrators access denied (AccessDenied: not authorized)."
        );
        let org = tags_denied(
            organization(
                &[(ACCOUNT, "shop", &[]), (SECURITY, "sec", &[])],
                &[(GD, &[SECURITY]), (SH, &[SECURITY])],
            ),
            SECURITY,
        );
        s.organization = Ok(Arc::new(org));
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: organizations:ListTagsForResource access denied (AccessDenied: not authorized)."
        );
    }
}
