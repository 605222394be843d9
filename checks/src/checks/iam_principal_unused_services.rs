//! No user or role holds services it does not use: a service a principal may call but has not
//! called for `unused_service_days` (IAM's service last-accessed report) is standing access that
//! only an attacker with its credentials would exercise, and the cheapest least-privilege fix is
//! to take it away.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::policy::actions::catalog;
use crate::policy::escalation::is_service_linked;
use crate::policy::{Effective, PolicyIndex};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need, PrincipalAccess};
use chrono::{DateTime, Duration, Utc};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_principal_unused_services",
        title: "No IAM user or role holds services it has not used for longer than the configured days",
        practice: Practice::LeastPrivilege,
        severity: Severity::Medium,
        activity: dsomm::ROLE_BASED_AUTHORIZATION,
        remediation: "Remove the named services from the principal's policies (IAM's Access Advisor \
                      tab lists the same report), or, when the access is kept for a rare task, \
                      accept it with an [[exceptions]] entry that says why.",
        needs: &[Need::IamAuthorizationDetails, Need::IamServiceLastAccessed],
        notes: "**Judges** every user and every role that is not service-linked. The services it \
holds are those of which the evaluator finds at least one action allowed by its effective grants \
(its policies, its groups' for a user, `Deny` applied, the permissions boundary capping them); each is \
looked up in IAM's service last-accessed report of the principal (`GenerateServiceLastAccessedDetails` \
at `SERVICE_LEVEL`, then `GetServiceLastAccessedDetails`). The principal fails when it holds a \
service whose `LastAuthenticated` is older than `unused_service_days` (default 90) before the \
report's `JobCompletionDate`, or that it never authenticated to, when the principal was created more \
than `unused_service_days` before the report; the reason names the services, with their last use. \
A principal holding no service, or using all it holds, passes.\n\n\
**Edge cases**: a principal without a report in this run is `unknown` with the reason, never a pass: \
the run's budget of jobs (`last_accessed_jobs_per_run`, default 50 per account) went to principals \
with no report or an older one, its job was still `IN_PROGRESS` after ten polls (about 25 s), the \
job `FAILED`, or a call failed. A report is kept for `last_accessed_cache_hours` (default 24) in the \
daemon's state and judged as of its completion, so a service first used after the report counts from \
the next report; a kept report older than its principal (a role deleted and created again under \
the same ARN) is not used. IAM tracks at least the last 400 days (`unused_service_days` is at most 400): \"never \
used\" means none in that window; recent activity usually appears within four hours; every attempt \
counts, denied ones too (an attempt an SCP refused reads as use: the check errs towards pass, never \
towards a false fail). A principal created less than `unused_service_days` before the report is \
judged only on the services it used (none of which can be older): it passes until the window has \
passed, and says so. Service-linked roles are not judged and cost no job: AWS defines their policies. \
AWS Identity Center (`AWSReservedSSO_…`) roles are judged: the fix is in the permission set. A \
service the evaluator finds held but IAM's report does not list (IAM does not track it) is not \
judged; one the report lists but the evaluator finds denied (a `Deny`, a boundary) is not held. An \
unreadable policy leaves the principal `unknown` unless the services its readable policies hold \
already fail it. Resource policies and SCPs are not modelled: they can only narrow what is held.\n\n\
**Cost**: one job per principal, at least two calls (`Generate…`, `Get…`, one more per poll while \
IAM builds the report). A full refresh of an account with 500 roles is 500 jobs, at least 1,000 \
calls: with the defaults, 10 runs of 50 jobs (10 hours with the hourly schedule); each report is \
then reused for 24 hours, so the steady state is 500 jobs a day (50 per run in ten runs out of 24, \
21 per run on average; measured in `BENCHMARKS.md`). Size \
`last_accessed_cache_hours` to at least `principals / last_accessed_jobs_per_run` runs, or \
principals whose report expired before their turn are `unknown`. The one-shot `audit` keeps no \
report: it starts up to 50 jobs per account and leaves the other principals `unknown`. Jobs run four \
at a time: 50 jobs that each need all ten polls take about 5 minutes, within the default \
`account_timeout_seconds` (600); raise both together.\n\n\
**Differs from Prowler** (no last-accessed check; `iam_role_administratoraccess_policy` and \
`iam_policy_allows_privilege_escalation` judge policies, not use): ours follows AWS's Access \
Advisor guidance of refining permissions by last access, judges users and roles, and names the \
unused services.",
        module: module_path!(),
    },
    evaluate,
};

/// How many unused services a reason names before it counts the rest.
const NAMED: usize = 10;

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    let details = match super::iam_details(snap) {
        Ok(d) => d,
        Err(v) => return vec![v],
    };
    let access = match &snap.iam.service_last_accessed {
        Ok(a) => a,
        Err(e) => return vec![super::unknown(&snap.account_resource(), None, e)],
    };
    let index = PolicyIndex::new(details, &snap.account_id);
    let days = settings.unused_service_days;
    let mut principals: Vec<(String, &str, Option<DateTime<Utc>>, Effective)> = Vec::new();
    for u in &details.users {
        principals.push((format!("User {}", u.name), &u.arn, u.created, index.user(u)));
    }
    for r in details.roles.iter().filter(|r| !is_service_linked(&r.arn)) {
        principals.push((format!("Role {}", r.name), &r.arn, r.created, index.role(r)));
    }
    let verdicts = principals
        .into_iter()
        .map(|(who, arn, created, effective)| {
            let reason = match access.get(arn) {
                None => Err(format!(
                    "Cannot judge {who}: IAM's service last-accessed report was not read for it."
                )),
                Some(PrincipalAccess::Unknown(why)) => Err(format!("Cannot judge {who}: {why}.")),
                Some(PrincipalAccess::Known(report)) => {
                    judge(&who, created, &effective, report, days)
                }
            };
            match reason {
                Ok(Judged::Pass(why)) => Verdict::pass(arn, None, why),
                Ok(Judged::Fail(why)) => Verdict::fail(arn, None, why),
                Err(why) => Verdict::unknown(arn, None, why),
            }
        })
        .collect();
    super::or_not_applicable(
        snap,
        verdicts,
        "IAM user or role other than service-linked roles",
    )
}

enum Judged {
    Pass(String),
    Fail(String),
}

/// One principal against its report: `Err` is an unknown verdict's reason.
fn judge(
    who: &str,
    created: Option<DateTime<Utc>>,
    effective: &Effective,
    report: &crate::snapshot::ServiceLastAccessed,
    days: u32,
) -> Result<Judged, String> {
    let at = report.generated_at;
    let limit = at - Duration::days(i64::from(days));
    let day = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
    let held: Vec<&str> = catalog()
        .services
        .iter()
        .filter(|s| effective.grants.any.touches_service(s))
        .map(|s| s.prefix.as_str())
        .collect();
    let young = created.map(|c| c >= limit);
    let mut unused = Vec::new();
    let mut unjudged_new = 0;
    let mut tracked = 0;
    for service in &held {
        let Some(entry) = report
            .services
            .iter()
            .find(|s| s.namespace.eq_ignore_ascii_case(service))
        else {
            continue; // IAM does not track it
        };
        tracked += 1;
        match entry.last_authenticated {
            Some(t) if t < limit => unused.push(format!("{service} (last used {})", day(t))),
            Some(_) => {}
            None => match young {
                Some(false) => unused.push(format!("{service} (never used)")),
                Some(true) => unjudged_new += 1,
                None => {
                    return Err(format!(
                        "Cannot judge {who}: it never used {service}, and IAM gave no creation date to tell whether it is older than {days} days."
                    ))
                }
            },
        }
    }
    let as_of = format!("IAM's report of {}", day(at));
    if !unused.is_empty() {
        let n = unused.len();
        let mut named = unused[..n.min(NAMED)].join(", ");
        if n > NAMED {
            named.push_str(&format!(" and {} more", n - NAMED));
        }
        return Ok(Judged::Fail(format!(
            "{who} holds {n} service{} it has not used for more than {days} days ({as_of}): {named}.",
            if n == 1 { "" } else { "s" }
        )));
    }
    if !effective.unreadable.is_empty() {
        return Err(format!(
            "Cannot judge {who}: {} could not be read, so it may hold services not judged.",
            effective.unreadable.join(", ")
        ));
    }
    if held.is_empty() {
        return Ok(Judged::Pass(format!("{who} holds no service.")));
    }
    if unjudged_new > 0 {
        return Ok(Judged::Pass(format!(
            "{who} was created on {}, less than {days} days before {as_of}: the {unjudged_new} \
             service{} it has not used yet are judged once {days} days have passed.",
            created.map(day).unwrap_or_default(),
            if unjudged_new == 1 { "" } else { "s" }
        )));
    }
    if tracked == 0 {
        return Ok(Judged::Pass(format!(
            "{who} holds {} service{}, none of which {as_of} tracks: nothing to judge.",
            held.len(),
            if held.len() == 1 { "" } else { "s" }
        )));
    }
    Ok(Judged::Pass(format!(
        "{who} used each of the {tracked} service{} it holds within {days} days ({as_of}).",
        if tracked == 1 { "" } else { "s" }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{
        AuthorizationDetails, IamRole, IamUser, InlinePolicy, ServiceAccess, ServiceLastAccessed,
    };
    use std::collections::BTreeMap;

    const S3_AND_EC2: &str = r#"{"Statement":[{"Effect":"Allow","Action":["s3:GetObject","ec2:Describe*"],"Resource":"*"}]}"#;

    fn role(name: &str, created_days_ago: Option<i64>, document: &str) -> IamRole {
        IamRole {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            created: created_days_ago.map(days_ago),
            inline_policies: vec![InlinePolicy {
                name: "p".into(),
                document: document.into(),
            }],
            ..Default::default()
        }
    }

    /// A report of `arn` generated a day before the snapshot: (namespace, days since last use).
    fn report(arn: &str, services: &[(&str, Option<i64>)]) -> PrincipalAccess {
        PrincipalAccess::Known(ServiceLastAccessed {
            arn: arn.into(),
            generated_at: days_ago(1),
            services: services
                .iter()
                .map(|(n, d)| ServiceAccess {
                    namespace: (*n).into(),
                    last_authenticated: d.map(|d| days_ago(1 + d)),
                })
                .collect(),
        })
    }

    fn snap(
        roles: Vec<IamRole>,
        users: Vec<IamUser>,
        access: &[(&str, PrincipalAccess)],
    ) -> AccountSnapshot {
        let mut s = snapshot();
        s.iam.authorization = Ok(AuthorizationDetails {
            roles,
            users,
            ..Default::default()
        });
        s.iam.service_last_accessed = Ok(access
            .iter()
            .map(|(a, p)| (a.to_string(), p.clone()))
            .collect::<BTreeMap<_, _>>());
        s
    }

    fn arn(name: &str) -> String {
        format!("arn:aws:iam::{ACCOUNT}:role/{name}")
    }

    /// A role that used s3 lately but ec2 long ago fails naming ec2; one that used both passes; a
    /// service held but never used fails an old role and is forgiven a young one.
    #[test]
    fn fails_held_services_unused_for_the_days() {
        let (stale, busy, never, young) = (arn("stale"), arn("busy"), arn("never"), arn("young"));
        let s = snap(
            vec![
                role("stale", Some(400), S3_AND_EC2),
                role("busy", Some(400), S3_AND_EC2),
                role("never", Some(400), S3_AND_EC2),
                role("young", Some(10), S3_AND_EC2),
            ],
            vec![],
            &[
                (
                    &stale,
                    report(&stale, &[("s3", Some(3)), ("ec2", Some(200))]),
                ),
                (&busy, report(&busy, &[("s3", Some(3)), ("ec2", Some(89))])),
                (&never, report(&never, &[("s3", Some(3)), ("ec2", None)])),
                (&young, report(&young, &[("s3", Some(3)), ("ec2", None)])),
            ],
        );
        let v = evaluate(&s, &Settings::default());
        let st: Vec<Status> = v.iter().map(|v| v.status).collect();
        assert_eq!(st, [Status::Fail, Status::Pass, Status::Fail, Status::Pass]);
        assert_eq!(
            v[0].reason,
            "Role stale holds 1 service it has not used for more than 90 days (IAM's report of 2025-05-31): ec2 (last used 2024-11-12)."
        );
        assert!(!v[0].reason.contains("s3"), "{}", v[0].reason);
        assert_eq!(
            v[1].reason,
            "Role busy used each of the 2 services it holds within 90 days (IAM's report of 2025-05-31)."
        );
        assert!(
            v[2].reason.ends_with("ec2 (never used)."),
            "{}",
            v[2].reason
        );
        assert!(
            v[3].reason.contains("created on 2025-05-22"),
            "{}",
            v[3].reason
        );
        let lax = Settings {
            unused_service_days: 365,
            ..Default::default()
        };
        assert_eq!(evaluate(&s, &lax)[0].status, Status::Pass);
    }

    /// A principal without a report (budget spent, job unfinished) is unknown with the reason; a
    /// never-used service of a role without a creation date is unknown; a failed fact is unknown.
    #[test]
    fn no_report_is_unknown_never_a_pass() {
        let (a, b) = (arn("a"), arn("b"));
        let s = snap(
            vec![
                role("a", Some(400), S3_AND_EC2),
                role("b", None, S3_AND_EC2),
                role("c", Some(400), S3_AND_EC2),
            ],
            vec![],
            &[
                (
                    &a,
                    PrincipalAccess::Unknown("the budget went elsewhere".into()),
                ),
                (&b, report(&b, &[("s3", None)])),
            ],
        );
        let v = evaluate(&s, &Settings::default());
        assert!(v.iter().all(|v| v.status == Status::Unknown), "{v:?}");
        assert_eq!(
            v[0].reason,
            "Cannot judge Role a: the budget went elsewhere."
        );
        assert!(v[1].reason.contains("no creation date"), "{}", v[1].reason);
        assert!(v[2].reason.contains("not read"), "{}", v[2].reason);
        let mut failed = s.clone();
        failed.iam.service_last_accessed =
            Err(denied("iam", "GetServiceLastAccessedDetails", None));
        assert_eq!(
            evaluate(&failed, &Settings::default())[0].status,
            Status::Unknown
        );
    }

    /// Held is what the evaluator grants: a service the report lists but a Deny takes away is not
    /// judged, nor one IAM does not report; users are judged through their groups' policies too;
    /// service-linked roles are not judged; an account of only those is not applicable.
    #[test]
    fn held_by_effective_grants() {
        let denied_ec2 = r#"{"Statement":[{"Effect":"Allow","Action":["s3:GetObject","ec2:Describe*"],"Resource":"*"},{"Effect":"Deny","Action":"ec2:*","Resource":"*"}]}"#;
        let (r, u) = (arn("r"), format!("arn:aws:iam::{ACCOUNT}:user/u"));
        let linked = format!(
            "arn:aws:iam::{ACCOUNT}:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX"
        );
        let mut linked_role = role("AWSServiceRoleForX", Some(400), S3_AND_EC2);
        linked_role.arn = linked.clone();
        let user = IamUser {
            name: "u".into(),
            arn: u.clone(),
            created: Some(days_ago(400)),
            inline_policies: vec![InlinePolicy {
                name: "p".into(),
                document: S3_AND_EC2.into(),
            }],
            ..Default::default()
        };
        let s = snap(
            vec![role("r", Some(400), denied_ec2), linked_role.clone()],
            vec![user],
            &[
                (&r, report(&r, &[("s3", Some(1)), ("ec2", None)])),
                // IAM does not report ec2 for the user: not judged.
                (&u, report(&u, &[("s3", Some(1)), ("kms", None)])),
            ],
        );
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v.iter().all(|v| v.status == Status::Pass), "{v:?}");
        assert!(v[0].resource.ends_with(":user/u") && v[1].resource.ends_with(":role/r"));
        assert!(
            v[0].reason.contains("each of the 1 service it holds"),
            "{}",
            v[0].reason
        );
        assert!(
            v[1].reason.contains("each of the 1 service it holds"),
            "{}",
            v[1].reason
        );
        let untracked = snap(
            vec![role("r", Some(400), S3_AND_EC2)],
            vec![],
            &[(&r, report(&r, &[]))],
        );
        let v = evaluate(&untracked, &Settings::default());
        assert_eq!(v[0].status, Status::Pass);
        assert!(
            v[0].reason.ends_with("nothing to judge."),
            "{}",
            v[0].reason
        );
        let only_linked = snap(vec![linked_role], vec![], &[]);
        assert_eq!(
            evaluate(&only_linked, &Settings::default())[0].status,
            Status::NotApplicable
        );
    }

    /// An administrator's unused services are counted, the first ten named.
    #[test]
    fn many_unused_services_are_counted() {
        let admin = arn("admin");
        let all: Vec<(&str, Option<i64>)> = catalog()
            .services
            .iter()
            .map(|s| (s.prefix.as_str(), None))
            .collect();
        let s = snap(
            vec![role(
                "admin",
                Some(400),
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
            )],
            vec![],
            &[(&admin, report(&admin, &all))],
        );
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].status, Status::Fail);
        let more = format!(" and {} more.", all.len() - NAMED);
        assert!(v[0].reason.ends_with(&more), "{}", v[0].reason);
    }
}
