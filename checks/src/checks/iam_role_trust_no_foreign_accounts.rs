//! No IAM role trusts an AWS account outside the organization: a trust policy that names an
//! account (its root, a role, a user or a session) which is neither the audited account nor a
//! member of the organization is a door held by someone the organization does not govern. Outside
//! an organization, the configured `trusted_account_ids` are the accounts one may trust.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::policy::escalation::is_service_linked;
use crate::policy::{PolicyDocument, Statement};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};
use std::collections::BTreeSet;

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_role_trust_no_foreign_accounts",
        title: "No IAM role trusts an AWS account outside the organization",
        practice: Practice::LeastPrivilege,
        severity: Severity::High,
        activity: dsomm::ROLE_BASED_AUTHORIZATION,
        remediation: "Remove the foreign account from the role's trust policy (aws iam \
                      update-assume-role-policy), or delete the role; for a vendor you do trust, pin \
                      the statement with sts:ExternalId and accept it with an [[exceptions]] entry that \
                      names the vendor; outside an organization, list the accounts you trust in \
                      [checks.settings] trusted_account_ids.",
        needs: &[Need::IamAuthorizationDetails, Need::OrganizationAccounts],
        notes: "**Judges** the trust policy of every role that is not service-linked: each `Allow` \
statement's `AWS` principals (an account id, `arn:PARTITION:iam::ACCOUNT:root`, a role, user or \
assumed-role ARN) give the accounts trusted; an account that is neither the audited account nor listed by \
AWS Organizations (`ListAccounts`, any status) fails, named in the reason. Outside an organization \
(`AWSOrganizationsNotInUseException`), the accounts of `trusted_account_ids` are the trusted ones. A \
statement pinned to the organization (`aws:PrincipalOrgID` equal to its id) is not foreign. Organization \
facts that cannot be read make roles with cross-account trusts `unknown`.\n\n\
**Edge cases**: `*` principals and federated or service principals are not judged here \
(`iam_role_trust_not_public` judges open trusts); `sts:ExternalId` does not make a foreign account \
trusted (it answers the confused-deputy problem, not who is trusted): accept known vendors with an \
`[[exceptions]]` entry; `Deny` and `NotPrincipal` statements grant nothing here; an account that left the \
organization is foreign from the next run on, which raises a regression.\n\n\
**Differs from Prowler** (`iam_role_cross_account_readonlyaccess_policy`, \
`iam_role_cross_service_confused_deputy_prevention`): Prowler flags cross-account roles only when they hold \
ReadOnlyAccess and does not know the organization's accounts; ours fails any trust outside the \
organization, whatever the role holds, and names the account.",
        module: module_path!(),
    },
    evaluate,
};

/// The account of an `AWS` principal value: a 12-digit id or an IAM/STS ARN's account field.
fn account_of(v: &str) -> Option<&str> {
    let is_id = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    if is_id(v) {
        return Some(v);
    }
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    (parts.len() == 6 && parts[0] == "arn" && is_id(parts[4])).then(|| parts[4])
}

/// The accounts an `Allow` statement trusts, unless it is pinned to organization `org_id`.
fn trusted_accounts<'s>(s: &'s Statement, org_id: Option<&str>) -> Vec<&'s str> {
    if !s.allow || s.not_principal {
        return vec![];
    }
    if let Some(org) = org_id.filter(|o| !o.is_empty()) {
        if [
            "StringEquals",
            "StringEqualsIgnoreCase",
            "ForAnyValue:StringEquals",
        ]
        .iter()
        .any(|op| s.condition_has(op, "aws:PrincipalOrgID", org))
        {
            return vec![];
        }
    }
    s.principal
        .get("AWS")
        .map(crate::policy::trust::strings)
        .unwrap_or_default()
        .into_iter()
        .filter_map(account_of)
        .collect()
}

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    let details = match super::iam_details(snap) {
        Ok(d) => d,
        Err(v) => return vec![v],
    };
    // The accounts one may trust, or why they are not known.
    let (members, org_id, outside): (Result<BTreeSet<String>, String>, Option<&str>, bool) =
        match snap.organization.as_deref() {
            Ok(org) if !org.in_use => (
                Ok(settings.trusted_account_ids.iter().cloned().collect()),
                None,
                true,
            ),
            Ok(org) => (
                org.accounts
                    .as_ref()
                    .map(|a| a.keys().cloned().collect())
                    .map_err(|e| e.to_string()),
                Some(org.id.as_str()),
                false,
            ),
            Err(e) => (Err(e.to_string()), None, false),
        };
    let mut verdicts = Vec::new();
    for role in details.roles.iter().filter(|r| !is_service_linked(&r.arn)) {
        let who = format!("Role {}", role.name);
        let Some(text) = &role.trust_policy else {
            verdicts.push(Verdict::unknown(
                &role.arn,
                None,
                format!("Cannot judge {who}: IAM returned no trust policy."),
            ));
            continue;
        };
        let doc = match PolicyDocument::parse(text) {
            Ok(d) => d,
            Err(e) => {
                verdicts.push(Verdict::unknown(
                    &role.arn,
                    None,
                    format!("Cannot judge {who}: its trust policy {e}."),
                ));
                continue;
            }
        };
        let crossing: BTreeSet<&str> = doc
            .statements
            .iter()
            .flat_map(|s| trusted_accounts(s, org_id))
            .filter(|a| *a != snap.account_id)
            .collect();
        if crossing.is_empty() {
            verdicts.push(Verdict::pass(
                &role.arn,
                None,
                format!("{who} trusts no other AWS account."),
            ));
            continue;
        }
        let members = match &members {
            Ok(m) => m,
            Err(e) => {
                verdicts.push(Verdict::unknown(
                    &role.arn,
                    None,
                    format!("Cannot judge {who}: it trusts account {} and the organization's accounts are unknown: {e}.", crossing.iter().copied().collect::<Vec<_>>().join(", ")),
                ));
                continue;
            }
        };
        let foreign: Vec<&str> = crossing
            .iter()
            .copied()
            .filter(|a| !members.contains(*a))
            .collect();
        let list = |a: &[&str]| {
            format!(
                "account{} {}",
                if a.len() == 1 { "" } else { "s" },
                a.join(", ")
            )
        };
        verdicts.push(match (foreign.is_empty(), outside) {
            (true, false) => Verdict::pass(&role.arn, None, format!("{who} trusts only accounts of the organization ({}).", list(&crossing.iter().copied().collect::<Vec<_>>()))),
            (true, true) => Verdict::pass(&role.arn, None, format!("{who} trusts only accounts listed in trusted_account_ids ({}).", list(&crossing.iter().copied().collect::<Vec<_>>()))),
            (false, false) => Verdict::fail(&role.arn, None, format!("{who} trusts {} outside organization {}.", list(&foreign), org_id.unwrap_or_default())),
            (false, true) => Verdict::fail(&role.arn, None, format!("{who} trusts {}, which the account (in no organization) does not list in trusted_account_ids.", list(&foreign))),
        });
    }
    if verdicts.is_empty() {
        verdicts.push(Verdict::not_applicable(
            snap.account_resource(),
            None,
            "The account has no IAM role other than service-linked roles.",
        ));
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{AuthorizationDetails, IamRole, OrgMember, Organization};
    use std::collections::BTreeMap;
    use std::sync::Arc;

    fn role(name: &str, principal: &str, condition: &str) -> IamRole {
        IamRole {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            trust_policy: Some(format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":{principal}}},"Action":"sts:AssumeRole"{condition}}}]}}"#
            )),
            ..Default::default()
        }
    }

    fn org(accounts: &[&str]) -> Organization {
        let mut o = Organization::not_in_use();
        o.in_use = true;
        o.id = "o-abc123".into();
        o.accounts = Ok(accounts
            .iter()
            .map(|a| {
                (
                    a.to_string(),
                    OrgMember {
                        id: a.to_string(),
                        name: a.to_string(),
                        status: "ACTIVE".into(),
                        tags: Ok(BTreeMap::new()),
                    },
                )
            })
            .collect());
        o
    }

    fn run(roles: Vec<IamRole>, o: Organization, settings: &Settings) -> Vec<Verdict> {
        let mut s = snapshot();
        s.iam.authorization = Ok(AuthorizationDetails {
            roles,
            ..Default::default()
        });
        s.organization = Ok(Arc::new(o));
        evaluate(&s, settings)
    }

    #[test]
    fn foreign_accounts_are_named() {
        let v = run(
            vec![
                role("ops", r#""arn:aws:iam::444455556666:root""#, ""),
                role("vendor", r#"["999988887777","arn:aws:iam::444455556666:role/x"]"#, r#","Condition":{"StringEquals":{"sts:ExternalId":"abc"}}"#),
                role("self", r#""arn:aws:iam::111122223333:root""#, ""),
                role("pinned", r#""*""#, r#","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#),
                IamRole { name: "AWSServiceRoleForSupport".into(), arn: format!("arn:aws:iam::{ACCOUNT}:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport"), ..Default::default() },
            ],
            org(&[ACCOUNT, "444455556666"]),
            &Settings::default(),
        );
        let got: Vec<(Status, &str)> = v.iter().map(|v| (v.status, v.reason.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (
                    Status::Pass,
                    "Role ops trusts only accounts of the organization (account 444455556666)."
                ),
                (
                    Status::Fail,
                    "Role vendor trusts account 999988887777 outside organization o-abc123."
                ),
                (Status::Pass, "Role self trusts no other AWS account."),
                (Status::Pass, "Role pinned trusts no other AWS account."),
            ]
        );
    }

    #[test]
    fn outside_an_organization_the_settings_list_counts() {
        let mut settings = Settings::default();
        let r = || vec![role("ops", r#""arn:aws:iam::444455556666:root""#, "")];
        let v = run(r(), Organization::not_in_use(), &settings);
        assert_eq!(v[0].status, Status::Fail);
        assert!(
            v[0].reason.contains("trusted_account_ids"),
            "{}",
            v[0].reason
        );
        settings.trusted_account_ids = vec!["444455556666".into()];
        assert_eq!(
            run(r(), Organization::not_in_use(), &settings)[0].status,
            Status::Pass
        );
        let mut s = snapshot();
        s.iam.authorization = Ok(AuthorizationDetails {
            roles: r(),
            ..Default::default()
        });
        s.organization = Err(crate::facts::FactError::not_collected(
            "organizations",
            "ListAccounts",
        ));
        assert_eq!(evaluate(&s, &settings)[0].status, Status::Unknown);
    }
}
