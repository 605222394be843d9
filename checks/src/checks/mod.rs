//! One module per check, named `<service>_<resource>_<state>`. Each module holds the check's metadata
//! (`CHECK`), its pure evaluation function and its unit tests.

pub mod accessanalyzer_enabled;
pub mod backup_plan_covers_resources;
pub mod budgets_budget_with_notification;
pub mod ce_anomaly_detection_alerting;
pub mod cloudformation_stack_in_sync;
pub mod cloudfront_distribution_https_only;
pub mod cloudfront_elbv2_security_headers_set;
pub mod cloudtrail_central_bucket;
pub mod cloudtrail_config_changes_recorded;
pub mod cloudtrail_kms_encrypted;
pub mod cloudtrail_log_file_validation;
pub mod cloudtrail_multi_region_logging;
pub mod cloudwatch_availability_probe_exists;
pub mod cloudwatch_dashboard_exists;
pub mod cloudwatch_root_usage_alarm;
pub mod cloudwatch_system_metrics_collected;
pub mod config_recorder_enabled;
pub mod detective_graph_covers_account;
pub mod dynamodb_table_pitr_enabled;
pub mod ebs_default_encryption_enabled;
pub mod ec2_default_security_group_closed;
pub mod ec2_ebs_snapshot_not_public;
pub mod ec2_instance_imdsv2_required;
pub mod ec2_security_group_egress_restricted;
pub mod ec2_security_group_no_world_admin_ports;
pub mod ec2_security_group_no_world_high_risk_ports;
pub mod ecr_registry_continuous_scanning;
pub mod ecr_registry_scan_on_push;
pub mod ecr_repository_not_public;
pub mod ecr_repository_tag_immutable;
pub mod ecs_ec2_running_image_max_age;
pub mod ecs_ec2_running_image_short_max_age;
pub mod ecs_service_blue_green_deployment;
pub mod ecs_service_canary_deployment;
pub mod ecs_service_rolling_update;
pub mod ecs_task_definition_image_pinned;
pub mod ecs_task_definition_non_root;
pub mod ecs_task_definition_resource_limits;
pub mod ecs_task_definition_secrets_from_store;
pub mod elb_listener_tls_only;
pub mod elbv2_listener_modern_tls_policy;
pub mod elbv2_listener_tls_only;
pub mod elbv2_target_group_tls;
pub mod fis_experiment_recently_run;
pub mod guardduty_enabled;
pub mod guardduty_malware_protection_enabled;
pub mod guardduty_runtime_monitoring_enabled;
pub mod iam_access_keys_rotated;
pub mod iam_admin_users_mfa_enabled;
pub mod iam_console_users_mfa_enabled;
pub mod iam_credentials_unused_disabled;
pub mod iam_no_privilege_escalation;
pub mod iam_passrole_restricted;
pub mod iam_password_policy_strong;
pub mod iam_policy_no_full_admin;
pub mod iam_policy_no_service_wildcard;
pub mod iam_principal_unused_services;
pub mod iam_role_trust_no_foreign_accounts;
pub mod iam_role_trust_not_public;
pub mod iam_role_unused;
pub mod iam_root_access_keys_absent;
pub mod iam_root_mfa_enabled;
pub mod iam_user_no_direct_policies;
pub mod imagebuilder_pipeline_nightly;
pub mod inspector2_scanning_enabled;
pub mod kms_key_policy_not_public;
pub mod kms_key_rotation_enabled;
pub mod lambda_function_policy_not_public;
pub mod logs_log_groups_centralized;
pub mod organizations_environments_separated;
pub mod organizations_security_account_delegated;
pub mod rds_instance_backup_retention;
pub mod rds_instance_not_publicly_accessible;
pub mod rds_instance_storage_encrypted;
pub mod rds_snapshot_not_public;
pub mod s3_account_public_access_blocked;
pub mod s3_bucket_default_encryption;
pub mod s3_bucket_public_access_blocked;
pub mod s3_bucket_tls_only;
pub mod s3_bucket_versioning_enabled;
pub mod secretsmanager_secret_policy_not_public;
pub mod secretsmanager_secret_rotation_enabled;
pub mod securityhub_enabled;
pub mod securityhub_vulnerability_findings_imported;
pub mod sns_topic_policy_not_public;
pub mod sqs_queue_policy_not_public;
pub mod ssm_instance_patch_compliant;
pub mod vpc_flow_logs_enabled;
pub mod wafv2_public_endpoints_protected;
pub mod wafv2_web_acl_in_depth_rules;

use crate::facts::{Fact, FactError};
use crate::model::Verdict;
use crate::policy::{DocumentGrants, Grants, PolicyDocument};
use crate::snapshot::{
    AccountSnapshot, Bucket, DeploymentGroup, EcsService, OrgMember, Organization, RegionFacts,
    TaskDefinition, Trail,
};
use std::collections::BTreeMap;

/// The verdict for a resource whose facts could not be read: it names the resource, the call and why.
pub(crate) fn unknown(resource: &str, region: Option<&str>, err: &FactError) -> Verdict {
    Verdict::unknown(resource, region, format!("Cannot judge {resource}: {err}."))
}

/// Judges every resource of a regional list. A region whose list could not be read gives one
/// `unknown` verdict for "`what` of REGION"; `judge` gives the verdicts of one resource.
pub(crate) fn per_region<T>(
    snap: &AccountSnapshot,
    what: &str,
    fact: impl Fn(&RegionFacts) -> &Fact<Vec<T>>,
    mut judge: impl FnMut(&str, &T) -> Vec<Verdict>,
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for (region, facts) in &snap.regional {
        match fact(facts) {
            Err(e) => verdicts.push(unknown(&format!("{what} of {region}"), Some(region), e)),
            Ok(items) => items
                .iter()
                .for_each(|item| verdicts.extend(judge(region, item))),
        }
    }
    verdicts
}

/// Judges one regional fact per audited region: `unknown` for "`what` of REGION" when it could not
/// be read, else the verdicts of `judge(region, value)`.
pub(crate) fn per_region_value<T>(
    snap: &AccountSnapshot,
    what: &str,
    fact: impl Fn(&RegionFacts) -> &Fact<T>,
    mut judge: impl FnMut(&str, &T) -> Vec<Verdict>,
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for (region, facts) in &snap.regional {
        match fact(facts) {
            Err(e) => verdicts.push(unknown(&format!("{what} of {region}"), Some(region), e)),
            Ok(value) => verdicts.extend(judge(region, value)),
        }
    }
    verdicts
}

/// Judges a GuardDuty protection plan in every audited region. `judge(detector id, features)`
/// of each `ENABLED` detector gives `Ok(passing reason)` or `Err(why the plan is off)`: the region
/// passes on the first detector that passes, is `unknown` when a detector could not be read, and
/// otherwise fails with `fail(region, why)` ("no GuardDuty detector is enabled" without one).
pub(crate) fn per_region_guardduty_plan(
    snap: &AccountSnapshot,
    judge: impl Fn(&str, &str, &[(String, String)]) -> Result<String, String>,
    fail: impl Fn(&str, &str) -> String,
) -> Vec<Verdict> {
    per_region_value(
        snap,
        "GuardDuty detectors",
        |r| &r.guardduty_detectors,
        |region, detectors| {
            let resource = account_in(snap, region);
            let mut unknown_error = None;
            let mut off = None;
            for d in detectors {
                match (&d.status, &d.features) {
                    (Ok(s), Ok(features)) if s == "ENABLED" => {
                        match judge(region, &d.id, features) {
                            Ok(reason) => {
                                return vec![Verdict::pass(resource, Some(region), reason)]
                            }
                            Err(why) => off = Some(why),
                        }
                    }
                    (Ok(_), Ok(_)) => {}
                    (Err(e), _) | (_, Err(e)) => unknown_error = unknown_error.or(Some(e)),
                }
            }
            if let Some(e) = unknown_error {
                return vec![unknown(&resource, Some(region), e)];
            }
            let why = off.unwrap_or_else(|| "no GuardDuty detector is enabled".to_owned());
            vec![Verdict::fail(resource, Some(region), fail(region, &why))]
        },
    )
}

/// The status of the feature `name` among a detector's features, if it has it.
pub(crate) fn feature_status<'a>(features: &'a [(String, String)], name: &str) -> Option<&'a str> {
    features
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, s)| s.as_str())
}

/// One account-level verdict from evidence gathered over the account's facts: `pass(n, names)`
/// when `found` is not empty (naming at most three, "and N more"), else `unknown` for the first
/// fact that could not be read, else `fail` with the given reason.
pub(crate) fn account_evidence(
    snap: &AccountSnapshot,
    mut found: Vec<String>,
    unreadable: Option<&FactError>,
    pass: impl Fn(usize, &str) -> String,
    fail: String,
) -> Vec<Verdict> {
    let resource = snap.account_resource();
    if !found.is_empty() {
        let n = found.len();
        found.truncate(3);
        let more = if n > 3 {
            format!(" and {} more", n - 3)
        } else {
            String::new()
        };
        let names = format!("{}{more}", found.join(", "));
        return vec![Verdict::pass(resource, None, pass(n, &names))];
    }
    if let Some(e) = unreadable {
        return vec![unknown(&resource, None, e)];
    }
    vec![Verdict::fail(resource, None, fail)]
}

/// The audited regions, comma-separated, for reasons that name where nothing was found.
pub(crate) fn audited_regions(snap: &AccountSnapshot) -> String {
    snap.regional
        .keys()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The active ECS services of one region, or `None` with an `unknown` verdict for "ECS services
/// of REGION" pushed when they could not be read.
fn active_services<'a>(
    region: &str,
    facts: &'a RegionFacts,
    verdicts: &mut Vec<Verdict>,
) -> Option<impl Iterator<Item = &'a EcsService>> {
    match &facts.ecs_services {
        Err(e) => {
            verdicts.push(unknown(
                &format!("ECS services of {region}"),
                Some(region),
                e,
            ));
            None
        }
        Ok(s) => Some(s.iter().filter(|s| s.status == "ACTIVE")),
    }
}

/// Judges every task definition that an active ECS service runs, once per task definition:
/// `judge(region, definition, services)` with the names of the services that run it. A region
/// whose services or task definitions could not be read is `unknown`, and so is a task
/// definition whose `DescribeTaskDefinition` failed; `not_applicable` when no service runs one.
pub(crate) fn per_task_definition(
    snap: &AccountSnapshot,
    judge: impl Fn(&str, &TaskDefinition, &[&str]) -> Vec<Verdict>,
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for (region, facts) in &snap.regional {
        let Some(services) = active_services(region, facts, &mut verdicts) else {
            continue;
        };
        let mut users: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for s in services {
            if let Some(td) = &s.task_definition {
                users.entry(td).or_default().push(&s.name);
            }
        }
        if users.is_empty() {
            continue;
        }
        let definitions = match &facts.ecs_task_definitions {
            Err(e) => {
                verdicts.push(unknown(
                    &format!("ECS task definitions of {region}"),
                    Some(region),
                    e,
                ));
                continue;
            }
            Ok(d) => d,
        };
        for (arn, names) in users {
            match definitions.get(arn) {
                Some(Ok(def)) => verdicts.extend(judge(region, def, &names)),
                Some(Err(e)) => verdicts.push(unknown(arn, Some(region), e)),
                None => verdicts.push(unknown(
                    arn,
                    Some(region),
                    &FactError::not_collected("ecs", "DescribeTaskDefinition"),
                )),
            }
        }
    }
    or_not_applicable(
        snap,
        verdicts,
        "task definitions run by ECS services in the audited regions",
    )
}

/// Whether a task definition runs Windows containers (ECS ignores `user` and `privileged` there).
pub(crate) fn is_windows(def: &TaskDefinition) -> bool {
    def.os_family
        .as_deref()
        .is_some_and(|f| f.starts_with("WINDOWS"))
}

/// How an ECS service rolls out a new revision, as far as the deployment checks judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rollout<'a> {
    /// ECS's own controller with a strategy (`ROLLING` when the answer names none).
    Ecs(&'a str),
    /// CodeDeploy's blue/green traffic shifting, with the deployment group that deploys it
    /// (`None` when no deployment group of the region names the service).
    CodeDeploy(Option<&'a DeploymentGroup>),
    /// A third-party controller: AWS does not see how it deploys.
    External,
}

/// How `service` of `region` rolls out, with CodeDeploy's groups when the service uses it and
/// `groups` asks for them; `Err` when CodeDeploy's groups of the region could not be read.
pub(crate) fn rollout<'a>(
    facts: &'a RegionFacts,
    service: &'a EcsService,
    groups: bool,
) -> Result<Rollout<'a>, &'a FactError> {
    Ok(match service.controller.as_str() {
        "CODE_DEPLOY" if !groups => Rollout::CodeDeploy(None),
        "CODE_DEPLOY" => {
            let groups = facts.codedeploy_groups.as_ref()?;
            Rollout::CodeDeploy(groups.iter().find(|g| {
                g.ecs_services
                    .iter()
                    .any(|(c, s)| *c == service.cluster_name && *s == service.name)
            }))
        }
        "EXTERNAL" => Rollout::External,
        _ => Rollout::Ecs(service.strategy.as_deref().unwrap_or("ROLLING")),
    })
}

/// Judges every active ECS service with how it rolls out: `judge(region, service, rollout)`,
/// with the CodeDeploy group of a CodeDeploy service when `groups` (the check declares
/// [`crate::snapshot::Need::CodeDeployDeploymentGroups`]);
/// `unknown` for a service whose rollout cannot be read (its CodeDeploy groups); services of the
/// `DAEMON` strategy (one task per instance, replaced in place) and of an external controller
/// are skipped; `not_applicable` when nothing is left.
pub(crate) fn per_rollout(
    snap: &AccountSnapshot,
    groups: bool,
    judge: impl Fn(&str, &EcsService, Rollout) -> Verdict,
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for (region, facts) in &snap.regional {
        let Some(services) = active_services(region, facts, &mut verdicts) else {
            continue;
        };
        for s in services.filter(|s| s.scheduling_strategy != "DAEMON") {
            match rollout(facts, s, groups) {
                Err(e) => verdicts.push(unknown(&s.arn, Some(region), e)),
                Ok(Rollout::External) => {}
                Ok(r) => verdicts.push(judge(region, s, r)),
            }
        }
    }
    or_not_applicable(
        snap,
        verdicts,
        "replica ECS services deployed by ECS or CodeDeploy in the audited regions",
    )
}

/// A DB cluster or a DB instance, as the RDS checks judge it.
pub(crate) struct Database<'a> {
    /// "DB cluster" or "DB instance", for reasons.
    pub kind: &'static str,
    pub id: &'a str,
    pub arn: &'a str,
    pub backup_retention_days: i32,
    pub storage_encrypted: bool,
}

/// Judges every DB cluster, then every DB instance that `own` keeps (cluster members are judged
/// on their cluster): `judge(database, region)` per database; a region whose listing failed is
/// `unknown` for "DB clusters of REGION" or "`instances` of REGION".
pub(crate) fn per_database(
    snap: &AccountSnapshot,
    instances: &str,
    own: impl Fn(&crate::snapshot::DbInstance) -> bool,
    judge: impl Fn(&Database, &str) -> Verdict,
) -> Vec<Verdict> {
    let mut verdicts = per_region(
        snap,
        "DB clusters",
        |r| &r.db_clusters,
        |region, c| {
            let db = Database {
                kind: "DB cluster",
                id: &c.id,
                arn: &c.arn,
                backup_retention_days: c.backup_retention_days,
                storage_encrypted: c.storage_encrypted,
            };
            vec![judge(&db, region)]
        },
    );
    verdicts.extend(per_region(
        snap,
        instances,
        |r| &r.db_instances,
        |region, i| {
            if !own(i) {
                return vec![];
            }
            let db = Database {
                kind: "DB instance",
                id: &i.id,
                arn: &i.arn,
                backup_retention_days: i.backup_retention_days,
                storage_encrypted: i.storage_encrypted,
            };
            vec![judge(&db, region)]
        },
    ));
    verdicts
}

/// The account in one region, as the resource of a region-level verdict.
pub(crate) fn account_in(snap: &AccountSnapshot, region: &str) -> String {
    format!("account {} in {region}", snap.account_id)
}

/// Whole days from `then` to the snapshot's collection time.
pub(crate) fn days_since(snap: &AccountSnapshot, then: chrono::DateTime<chrono::Utc>) -> i64 {
    (snap.collected_at - then).num_days()
}

/// The verdicts, or — when there are none — one `not_applicable` verdict for the account saying
/// "Account ID has no `nothing`."
pub(crate) fn or_not_applicable(
    snap: &AccountSnapshot,
    verdicts: Vec<Verdict>,
    nothing: &str,
) -> Vec<Verdict> {
    if !verdicts.is_empty() {
        return verdicts;
    }
    vec![Verdict::not_applicable(
        snap.account_resource(),
        None,
        format!("Account {} has no {nothing}.", snap.account_id),
    )]
}

/// Judges every S3 bucket: `unknown` for the account when the listing failed, `not_applicable`
/// when there is no bucket, else one verdict per bucket from `judge(bucket, arn, region)`.
pub(crate) fn per_bucket(
    snap: &AccountSnapshot,
    judge: impl Fn(&Bucket, &str, Option<&str>) -> Verdict,
) -> Vec<Verdict> {
    match &snap.s3.buckets {
        Err(e) => vec![unknown(&snap.account_resource(), None, e)],
        Ok(buckets) => {
            let verdicts = buckets
                .iter()
                .map(|b| judge(b, &b.arn(), b.region_name()))
                .collect();
            or_not_applicable(snap, verdicts, "S3 buckets")
        }
    }
}

/// Judges every CloudTrail trail the account sees: `unknown` for the account when the trails could
/// not be read and once more per region whose listing failed (a trail may hide there),
/// `not_applicable` when there is no trail, else `judge(trail)` per trail.
pub(crate) fn per_trail(snap: &AccountSnapshot, judge: impl Fn(&Trail) -> Verdict) -> Vec<Verdict> {
    let account = snap.account_resource();
    match &snap.cloudtrail {
        Err(e) => vec![unknown(&account, None, e)],
        Ok(facts) => {
            let mut verdicts: Vec<Verdict> = facts.trails.iter().map(judge).collect();
            verdicts.extend(
                facts
                    .listing_errors
                    .iter()
                    .map(|e| unknown(&account, None, e)),
            );
            or_not_applicable(snap, verdicts, "CloudTrail trails")
        }
    }
}

/// Judges what every customer-managed policy (its default version) and every inline policy of
/// users, groups and roles grants on its own: `judge(grants, resource, what)` gives the verdict
/// from the document's effective grants ([`crate::policy::grants`]), where `what` names the policy
/// ("Customer-managed policy NAME", "Inline policy NAME of role R"). A customer-managed policy
/// attached to no one and used only as a permissions boundary passes without being judged: a
/// boundary grants nothing, it caps. A missing or malformed document is `unknown` with the
/// reason; an account without such policies is `not_applicable`; unreadable authorization details
/// are `unknown` for the account.
pub(crate) fn per_policy(
    snap: &AccountSnapshot,
    judge: impl Fn(&Grants, &str, &str) -> Verdict,
) -> Vec<Verdict> {
    let details = match iam_details(snap) {
        Ok(d) => d,
        Err(v) => return vec![v],
    };
    let one = |resource: &str, what: &str, document: Option<&str>| -> Verdict {
        let Some(text) = document else {
            return Verdict::unknown(
                resource,
                None,
                format!("Cannot judge {what}: IAM returned no policy document."),
            );
        };
        match PolicyDocument::parse(text) {
            Err(e) => Verdict::unknown(
                resource,
                None,
                format!("Cannot judge {what}: its policy document {e}."),
            ),
            Ok(doc) => judge(
                &DocumentGrants::of(&doc, &snap.account_id).alone(),
                resource,
                what,
            ),
        }
    };
    let mut verdicts: Vec<Verdict> = details
        .policies
        .iter()
        .filter(|p| p.customer_managed)
        .map(|p| {
            let what = format!("Customer-managed policy {}", p.name);
            if p.attachment_count == 0 && p.permissions_boundary_usage_count > 0 {
                return Verdict::pass(
                    &p.arn,
                    None,
                    format!(
                        "{what} is attached to no one and only used as the permissions boundary of {} principal(s): a boundary grants nothing, it caps what their own policies grant.",
                        p.permissions_boundary_usage_count
                    ),
                );
            }
            one(&p.arn, &what, p.default_document.as_deref())
        })
        .collect();
    let principals = details
        .users
        .iter()
        .map(|u| ("user", &u.name, &u.arn, &u.inline_policies))
        .chain(
            details
                .groups
                .iter()
                .map(|g| ("group", &g.name, &g.arn, &g.inline_policies)),
        )
        .chain(
            details
                .roles
                .iter()
                .map(|r| ("role", &r.name, &r.arn, &r.inline_policies)),
        );
    for (kind, name, arn, policies) in principals {
        for p in policies {
            verdicts.push(one(
                &format!("{arn}/inline/{}", p.name),
                &format!("Inline policy {} of {kind} {name}", p.name),
                Some(&p.document),
            ));
        }
    }
    or_not_applicable(snap, verdicts, "customer-managed or inline IAM policies")
}

/// The account's IAM authorization details (users, groups, roles, policies), or the `unknown`
/// verdict for the account saying why they could not be read.
pub(crate) fn iam_details(
    snap: &AccountSnapshot,
) -> Result<&crate::snapshot::AuthorizationDetails, Verdict> {
    snap.iam
        .authorization
        .as_ref()
        .map_err(|e| unknown(&snap.account_resource(), None, e))
}

/// The audited account as a member of its organization: the organization, its accounts and the
/// account's own entry; or the verdict that stands in for them: `fail` when the account belongs to
/// no organization (a definite answer), `unknown` when Organizations could not be read or does not
/// list the account.
pub(crate) fn org_member(
    snap: &AccountSnapshot,
) -> Result<(&Organization, &BTreeMap<String, OrgMember>, &OrgMember), Verdict> {
    let account = snap.account_resource();
    let org = snap
        .organization
        .as_deref()
        .map_err(|e| unknown(&account, None, e))?;
    if !org.in_use {
        return Err(Verdict::fail(
            &account,
            None,
            format!(
                "Account {} belongs to no AWS organization (AWSOrganizationsNotInUseException): it has no organization to separate environments or delegate security services in.",
                snap.account_id
            ),
        ));
    }
    let members = org
        .accounts
        .as_ref()
        .map_err(|e| unknown(&account, None, e))?;
    let me = members.get(&snap.account_id).ok_or_else(|| {
        Verdict::unknown(
            &account,
            None,
            format!(
                "Cannot judge {account}: organization {} does not list it among its accounts.",
                org.id
            ),
        )
    })?;
    Ok((org, members, me))
}

/// The environments an account's environment tags name (every tag whose key is `key` without
/// regard to case; a value such as `prod,dev` names two), each once, in order.
pub(crate) fn environments<'a>(
    member: &'a OrgMember,
    key: &str,
) -> Result<Vec<&'a str>, &'a FactError> {
    let mut out: Vec<&str> = Vec::new();
    let values = member
        .tags
        .as_ref()?
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(key));
    for (_, value) in values {
        let names = value
            .split(|c: char| ",;/|+&".contains(c) || c.is_whitespace())
            .filter(|n| !n.is_empty());
        for name in names {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(name)) {
                out.push(name);
            }
        }
    }
    Ok(out)
}

/// The notes of a check that judges resource policies with [`judge_resource_policy`]: what it
/// reads (`$reads`), the shared rule and edge cases, and how it differs from Prowler (`$prowler`).
macro_rules! public_policy_notes {
    ($reads:literal, $prowler:literal) => {
        concat!(
            "**Judges** ",
            $reads,
            ": ",
            "it fails when an `Allow` statement's principal is everyone \
(`*`, `{\"AWS\": \"*\"}`, any `NotPrincipal`) and no positive condition pins the caller to a 12-digit \
account (`aws:SourceAccount`, `aws:PrincipalAccount`), an ARN in a concrete account (`aws:SourceArn`, \
`aws:PrincipalArn`), an organization id or path, or a VPC / endpoint; the reason names the statements \
and their actions. No policy passes (only the account's own principals can be granted the resource \
then); a policy that cannot be read or parsed is `unknown`.\n\n\
**Edge cases**: `IfExists` on an organization or source key matches callers that lack the key, so it \
pins nothing; `ForAllValues:` pins nothing; `Deny` statements grant nothing; a statement naming a \
foreign account is not public here (it is a cross-account grant someone chose).\n\n\
**Differs from Prowler**: ",
            $prowler
        )
    };
}
pub(crate) use public_policy_notes;

/// The verdict on a resource whose policy decides who may use it: `fail` naming the statements
/// that let anyone use it ([`crate::policy::public`]), `pass` when none does or it has no policy,
/// `unknown` when the policy could not be read or parsed. `what` names it: "SQS queue orders".
pub(crate) fn judge_resource_policy(
    what: &str,
    arn: &str,
    region: &str,
    policy: &Fact<Option<String>>,
) -> Verdict {
    let text = match policy {
        Err(e) => return unknown(arn, Some(region), e),
        Ok(None) => {
            return Verdict::pass(
                arn,
                Some(region),
                format!("{what} has no resource policy: only its own account's principals can be granted it."),
            )
        }
        Ok(Some(t)) => t,
    };
    let doc = match PolicyDocument::parse(text) {
        Ok(d) => d,
        Err(e) => {
            return Verdict::unknown(
                arn,
                Some(region),
                format!("Cannot judge {what}: its policy {e}."),
            )
        }
    };
    let public = crate::policy::public::public_statements(&doc);
    if public.is_empty() {
        Verdict::pass(
            arn,
            Some(region),
            format!("{what}'s policy lets no one outside named accounts, organizations or sources use it."),
        )
    } else {
        Verdict::fail(
            arn,
            Some(region),
            format!(
                "{what} is public: {}.",
                crate::policy::public::describe(&public)
            ),
        )
    }
}

/// Judges the policy-bearing resources of a regional list with [`judge_resource_policy`]; an
/// account without any is not applicable.
pub(crate) fn per_policy_resource(
    snap: &AccountSnapshot,
    kind: &str,
    fact: impl Fn(&RegionFacts) -> &Fact<Vec<crate::snapshot::PolicyResource>>,
) -> Vec<Verdict> {
    let mut verdicts = per_region(snap, &format!("{kind}s"), fact, |region, r| {
        vec![judge_resource_policy(
            &format!("{kind} {}", r.name),
            &r.arn,
            region,
            &r.policy,
        )]
    });
    if verdicts.is_empty() {
        verdicts.push(Verdict::not_applicable(
            snap.account_resource(),
            None,
            format!("The account has no {kind} in the audited regions."),
        ));
    }
    verdicts
}

#[cfg(test)]
pub(crate) mod fixtures {
    /// A snapshot whose IAM holds `roles` and the AWS-managed AdministratorAccess policy
    /// (`Allow * on *`), for the checks that judge roles' effective grants.
    pub fn with_roles(roles: Vec<crate::snapshot::IamRole>) -> AccountSnapshot {
        let mut s = snapshot();
        s.iam.authorization = Ok(crate::snapshot::AuthorizationDetails {
            roles,
            policies: vec![crate::snapshot::ManagedPolicy {
                name: "AdministratorAccess".into(),
                arn: "arn:aws:iam::aws:policy/AdministratorAccess".into(),
                default_document: Some(
                    r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#.into(),
                ),
                ..Default::default()
            }],
            ..Default::default()
        });
        s
    }

    /// The cases every resource-policy check passes: a `*` statement fails and is named, a pinned
    /// one and no policy pass, a malformed policy and a failed listing are unknown, none is not
    /// applicable. `set` puts the resources into the snapshot's region; `kind` names them.
    pub fn resource_policy_cases(
        evaluate: fn(
            &crate::snapshot::AccountSnapshot,
            &crate::settings::Settings,
        ) -> Vec<crate::model::Verdict>,
        kind: &str,
        set: fn(
            &mut crate::snapshot::RegionFacts,
            crate::facts::Fact<Vec<crate::snapshot::PolicyResource>>,
        ),
    ) {
        use crate::model::Status;
        use crate::snapshot::PolicyResource;
        let resource = |policy: Option<&str>| PolicyResource {
            name: "orders".into(),
            arn: format!("arn:aws:service:{REGION}:{ACCOUNT}:orders"),
            policy: Ok(policy.map(str::to_owned)),
        };
        let run = |items| {
            let mut s = snapshot();
            set(s.regional.get_mut(REGION).unwrap(), items);
            evaluate(&s, &crate::settings::Settings::default())
        };
        let open = r#"{"Statement":[{"Sid":"Anyone","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;
        let pinned = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}"#;
        let v = run(Ok(vec![
            resource(Some(open)),
            resource(Some(pinned)),
            resource(None),
        ]));
        let st: Vec<Status> = v.iter().map(|v| v.status).collect();
        assert_eq!(st, [Status::Fail, Status::Pass, Status::Pass]);
        assert_eq!(
            v[0].reason,
            format!("{kind} orders is public: statement \"Anyone\" lets anyone call *.")
        );
        assert_eq!(
            run(Ok(vec![resource(Some("{not json"))]))[0].status,
            Status::Unknown
        );
        assert_eq!(run(Ok(vec![]))[0].status, Status::NotApplicable);
        assert_eq!(
            run(Err(denied("x", "List", Some(REGION))))[0].status,
            Status::Unknown
        );
    }

    use crate::facts::{ErrorKind, FactError};
    use crate::snapshot::AccountSnapshot;

    pub const ACCOUNT: &str = "111122223333";
    pub const REGION: &str = "eu-west-1";

    /// A snapshot of one account in one region with nothing collected, taken at [`now`].
    pub fn snapshot() -> AccountSnapshot {
        let mut s = AccountSnapshot::new(ACCOUNT, &[REGION.to_owned()]);
        s.collected_at = now();
        s
    }

    /// The fixed collection time of [`snapshot`]: 2025-06-01T00:00:00Z.
    pub fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339("2025-06-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc)
    }

    /// `days` days before [`now`].
    pub fn days_ago(days: i64) -> chrono::DateTime<chrono::Utc> {
        now() - chrono::Duration::days(days)
    }

    /// Tags as (key, value) pairs.
    pub type Tags<'a> = &'a [(&'a str, &'a str)];

    /// An organization `o-demo` managed from `MANAGEMENT` whose accounts are `(id, name, tags)`,
    /// with `delegated` administrators (service principal → account ids).
    pub fn organization(
        accounts: &[(&str, &str, Tags)],
        delegated: &[(&str, &[&str])],
    ) -> crate::snapshot::Organization {
        use crate::snapshot::{OrgMember, Organization};
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Organization {
            in_use: true,
            id: "o-demo".into(),
            management_account_id: MANAGEMENT.into(),
            accounts: Ok(accounts
                .iter()
                .map(|(id, name, tags)| {
                    let member = OrgMember {
                        id: id.to_string(),
                        name: name.to_string(),
                        status: "ACTIVE".into(),
                        tags: Ok(tags
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect()),
                    };
                    (id.to_string(), member)
                })
                .collect()),
            root_credentials_management: Ok(false),
            analyzers: Ok(Default::default()),
            detective: Ok(Default::default()),
            delegated_administrators: Ok(delegated
                .iter()
                .map(|(service, ids)| (service.to_string(), owned(ids)))
                .collect()),
        }
    }

    /// `org` with the tags of account `id` unreadable (access denied).
    pub fn tags_denied(
        mut org: crate::snapshot::Organization,
        id: &str,
    ) -> crate::snapshot::Organization {
        if let Some(m) = org.accounts.as_mut().ok().and_then(|a| a.get_mut(id)) {
            m.tags = Err(denied("organizations", "ListTagsForResource", None));
        }
        org
    }

    /// The management account of [`organization`].
    pub const MANAGEMENT: &str = "999988887777";

    /// An access-denied error of the given call, as the collectors record it.
    pub fn denied(service: &str, operation: &str, region: Option<&str>) -> FactError {
        FactError::new(
            service,
            operation,
            region,
            ErrorKind::AccessDenied,
            "AccessDenied: not authorized",
        )
    }
}
