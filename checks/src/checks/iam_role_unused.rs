//! No IAM role sits unused: a role nobody assumed for `unused_role_days` (IAM's `RoleLastUsed`)
//! is standing access no one watches, and the cheapest least-privilege fix is to delete it.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::policy::escalation::is_service_linked;
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_role_unused",
        title: "No IAM role has gone unused for longer than the configured days",
        practice: Practice::LeastPrivilege,
        severity: Severity::Medium,
        activity: dsomm::TEST_FOR_UNUSED_RESOURCES,
        remediation: "Delete the role (aws iam delete-role after detaching its policies and removing \
                      it from its instance profiles), or, when it is kept for emergencies, accept it \
                      with an [[exceptions]] entry that says why.",
        needs: &[Need::IamAuthorizationDetails],
        notes: "**Judges** every role that is not service-linked by `RoleLastUsed` of \
`GetAccountAuthorizationDetails`: it fails when the last use is older than `unused_role_days` (default \
90), or when the role was never used (IAM keeps no record) and was created more than `unused_role_days` \
ago; the reason gives the last use or the creation date. A role whose creation date IAM does not give is \
`unknown`.\n\n\
**Edge cases**: IAM records uses within the last 400 days and in the regions it tracks, so \"never \
used\" means none in that window; a role created recently and not yet used passes until the window \
passes; service-linked roles belong to AWS services and are not judged; AWS Identity Center \
(`AWSReservedSSO_…`) roles are judged: an unused permission set assignment is unused access too. Which \
services a used role holds but does not use is `iam_principal_unused_services`'s question.\n\n\
**Differs from Prowler** (`iam_role_administratoraccess_policy`, no unused-role check; \
`iam_user_accesskey_unused` and `iam_user_console_access_unused` cover users only): ours judges roles, \
which hold most standing access in an organization.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    let details = match super::iam_details(snap) {
        Ok(d) => d,
        Err(v) => return vec![v],
    };
    let days = i64::from(settings.unused_role_days);
    let limit = snap.collected_at - chrono::Duration::days(days);
    let day = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d").to_string();
    let mut verdicts: Vec<Verdict> = details
        .roles
        .iter()
        .filter(|r| !is_service_linked(&r.arn))
        .map(|r| {
            let who = format!("Role {}", r.name);
            match (r.last_used, r.created) {
                (Some(used), _) if used < limit => Verdict::fail(
                    &r.arn,
                    None,
                    format!("{who} was last used on {}, more than {days} days ago.", day(used)),
                ),
                (Some(used), _) => Verdict::pass(
                    &r.arn,
                    None,
                    format!("{who} was last used on {}.", day(used)),
                ),
                (None, Some(created)) if created < limit => Verdict::fail(
                    &r.arn,
                    None,
                    format!("{who} has not been used since it was created on {}, more than {days} days ago.", day(created)),
                ),
                (None, Some(created)) => Verdict::pass(
                    &r.arn,
                    None,
                    format!("{who} was created on {} and has not been used yet (within {days} days).", day(created)),
                ),
                (None, None) => Verdict::unknown(
                    &r.arn,
                    None,
                    format!("Cannot judge {who}: IAM gave neither its last use nor its creation date."),
                ),
            }
        })
        .collect();
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
    use crate::snapshot::{AuthorizationDetails, IamRole};
    use chrono::Duration;

    fn role(name: &str, created: Option<i64>, used: Option<i64>) -> IamRole {
        let now = snapshot().collected_at;
        IamRole {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            created: created.map(|d| now - Duration::days(d)),
            last_used: used.map(|d| now - Duration::days(d)),
            ..Default::default()
        }
    }

    #[test]
    fn by_last_use_or_creation() {
        let mut s = snapshot();
        s.iam.authorization = Ok(AuthorizationDetails {
            roles: vec![
                role("stale", Some(400), Some(120)),
                role("busy", Some(400), Some(1)),
                role("never", Some(200), None),
                role("new", Some(10), None),
                role("odd", None, None),
            ],
            ..Default::default()
        });
        let v = evaluate(&s, &Settings::default());
        let st: Vec<Status> = v.iter().map(|v| v.status).collect();
        assert_eq!(
            st,
            [
                Status::Fail,
                Status::Pass,
                Status::Fail,
                Status::Pass,
                Status::Unknown
            ]
        );
        assert!(
            v[0].reason.ends_with("more than 90 days ago."),
            "{}",
            v[0].reason
        );
        assert!(v[2]
            .reason
            .contains("has not been used since it was created"));
        let lax = Settings {
            unused_role_days: 365,
            ..Default::default()
        };
        assert_eq!(evaluate(&s, &lax)[0].status, Status::Pass);
    }
}
