//! A targeted re-check: after a CloudTrail event, re-read from AWS only the facts it can have
//! changed, for one account (and one region when those facts are regional), re-evaluate only the
//! checks that read them, and merge the new verdicts into the account's last report.
//!
//! The event decides *what* is re-read, never a verdict: every verdict comes from AWS's answer.
//! A check is re-checked in the event's region alone when it is *region-local* (every need it
//! reads is [`Scope::Region`] and its verdicts of a region depend on that region's facts only, see
//! [`is_region_local`]); its verdicts of the other regions are kept. Any other affected check
//! (global services, trails merged across regions, "an alarm in any region") is re-read in every
//! audited region of the account and all its verdicts replaced.

use crate::audit::{self, Options, Target};
use crate::catalog::{self, Check};
use crate::collect::{session, Collector};
use crate::facts::{CallRecorder, FactError};
use crate::model::overall_status;
use crate::report::{AccountReport, AccountStatus, CheckResult, Rechecked};
use crate::snapshot::{AccountSnapshot, Need, Organization};
use crate::triggers::Scope;
use aws_config::SdkConfig;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

/// What to re-check in one account.
#[derive(Debug, Clone)]
pub struct Request {
    /// The region of the regional facts; `None` when every affected fact is account-wide.
    pub region: Option<String>,
    /// The facts the events can have changed.
    pub needs: BTreeSet<Need>,
    /// The events, as `eventSource eventName` (recorded with the verdicts they led to).
    pub events: Vec<String>,
}

/// Why a re-check could not be made; the previous verdicts stand and the events are retried.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RecheckError {
    #[error("account {0} has no audited report to re-check against yet")]
    NoBaseline(String),
    #[error("account {account}: {message}")]
    Session { account: String, message: String },
    #[error("account {account}: the re-check did not finish within {seconds} s")]
    Timeout { account: String, seconds: u64 },
}

/// The enabled checks that read one of `needs`.
pub fn affected_checks(checks: &[&'static Check], needs: &BTreeSet<Need>) -> Vec<&'static Check> {
    checks
        .iter()
        .copied()
        .filter(|c| catalog::needs_of(&[*c]).iter().any(|n| needs.contains(n)))
        .collect()
}

/// Whether a check's verdicts for a region depend on that region's facts only, so that it can be
/// re-checked in one region: all its needs are regional (or organization-level, which the caller
/// reads whole), and over two regions whose facts are all missing it gives exactly one verdict per
/// region, tagged with that region (an aggregating check such as "a root-usage alarm in any
/// region" gives one account-level verdict instead).
pub fn is_region_local(check: &Check) -> bool {
    // Organization-level facts are read whole by the caller for any re-check that needs them.
    if catalog::needs_of(&[check])
        .iter()
        .any(|n| !n.is_organization() && n.scope() != Scope::Region)
    {
        return false;
    }
    let regions = ["probe-region-a".to_owned(), "probe-region-b".to_owned()];
    let snap = AccountSnapshot::new("000000000000", &regions);
    let verdicts = (check.evaluate)(&snap, &Default::default());
    // Region-local: every verdict belongs to one audited region, and each region has its own.
    !verdicts.is_empty()
        && verdicts.iter().all(|v| {
            v.region
                .as_deref()
                .is_some_and(|r| regions.iter().any(|x| x == r))
        })
        && regions
            .iter()
            .all(|r| verdicts.iter().any(|v| v.region.as_deref() == Some(r)))
}

/// Re-checks `request` in the account of `previous` (its last audited report) and returns the
/// merged report: the affected checks re-evaluated from a fresh read, every other check as it was.
/// `organization` stands in for the organization-level facts (read by the caller when an affected
/// check needs them). Calls and errors of the report are the re-check's own.
pub async fn recheck_account(
    base: &SdkConfig,
    target: &Target,
    opts: &Options,
    organization: &crate::facts::Fact<Arc<Organization>>,
    previous: &AccountReport,
    request: &Request,
) -> Result<AccountReport, RecheckError> {
    if previous.status != AccountStatus::Audited {
        return Err(RecheckError::NoBaseline(target.account_id.clone()));
    }
    let started = Instant::now();
    let at = Utc::now();
    let recorder = CallRecorder::with_rate_limit(opts.max_requests_per_second);
    let affected = affected_checks(&opts.checks, &request.needs);
    let (local, wide): (Vec<&Check>, Vec<&Check>) = affected
        .iter()
        .copied()
        .partition(|c| request.region.is_some() && is_region_local(c));
    let account_regions = previous.regions.clone();
    let one_region: Vec<String> = request.region.iter().cloned().collect();
    let work = async {
        let config = session::account_config(
            base,
            &target.account_id,
            target.role_arn.as_deref(),
            target.external_id.as_deref(),
            &recorder,
        )
        .await
        .map_err(|e| RecheckError::Session {
            account: target.account_id.clone(),
            message: e.to_string(),
        })?;
        let reader = Reader {
            config: &config,
            target,
            opts,
            organization,
            recorder: &recorder,
        };
        let (local_snap, wide_snap) = tokio::join!(
            reader.read(&one_region, &local),
            reader.read(&account_regions, &wide)
        );
        Ok::<_, RecheckError>((local_snap, wide_snap))
    };
    let (local_snap, wide_snap) = tokio::time::timeout(opts.account_timeout, work)
        .await
        .map_err(|_| RecheckError::Timeout {
            account: target.account_id.clone(),
            seconds: opts.account_timeout.as_secs(),
        })??;

    let fresh = Fresh {
        region: request.region.as_deref(),
        local: local_snap
            .as_ref()
            .map(|snap| evaluate(snap, &local, opts, &target.account_id))
            .unwrap_or_default(),
        wide: wide_snap
            .as_ref()
            .map(|snap| evaluate(snap, &wide, opts, &target.account_id))
            .unwrap_or_default(),
        reread_local: catalog::needs_of(&local),
        reread_wide: catalog::needs_of(&wide),
        stamp: Rechecked {
            at,
            region: None,
            events: request.events.clone(),
        },
    };
    let mut report = merge(previous, fresh, recorder.errors());
    report.api_calls = recorder.counts();
    report.duration_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// A re-check's new results, before they are merged into the previous report.
pub struct Fresh<'a> {
    /// The region the region-local checks were re-read in.
    pub region: Option<&'a str>,
    /// Region-local checks re-evaluated over that region alone.
    pub local: Vec<CheckResult>,
    /// Checks re-evaluated over every audited region.
    pub wide: Vec<CheckResult>,
    /// The needs re-read in `region` (their earlier errors of that region are replaced by the
    /// re-check's) and in every region (all their earlier errors are).
    pub reread_local: BTreeSet<Need>,
    pub reread_wide: BTreeSet<Need>,
    /// Stamped on every re-evaluated check (`region` is set per check).
    pub stamp: Rechecked,
}

/// Merges a re-check into `previous`: a region-local check keeps its verdicts of the other
/// regions and takes the new ones of the re-read region; another affected check takes its new
/// result whole; every other check is unchanged. The fact errors of the re-read needs are the
/// re-check's `errors`; the others stay. The account is rescored (carry-over is the caller's).
pub fn merge(previous: &AccountReport, fresh: Fresh<'_>, errors: Vec<FactError>) -> AccountReport {
    let mut report = previous.clone();
    let region = fresh.region;
    for mut new in fresh.local {
        let stamp = Rechecked {
            region: region.map(str::to_owned),
            ..fresh.stamp.clone()
        };
        match report.checks.iter_mut().find(|c| c.id == new.id) {
            Some(old) => {
                let mut verdicts: Vec<_> = old
                    .verdicts
                    .drain(..)
                    .filter(|v| v.region.as_deref() != region)
                    .collect();
                verdicts.append(&mut new.verdicts);
                old.status = overall_status(&verdicts);
                old.verdicts = verdicts;
                old.carried_over = None;
                old.rechecked = Some(stamp);
            }
            None => {
                // Enabled after the last audit: only this region is known.
                new.rechecked = Some(stamp);
                report.checks.push(new);
            }
        }
    }
    for mut new in fresh.wide {
        new.rechecked = Some(fresh.stamp.clone());
        match report.checks.iter_mut().find(|c| c.id == new.id) {
            Some(old) => *old = new,
            None => report.checks.push(new),
        }
    }
    let ops = |needs: &BTreeSet<Need>| -> BTreeSet<(&'static str, &'static str)> {
        needs
            .iter()
            .flat_map(|n| n.operations())
            .map(|o| (o.service, o.operation))
            .collect()
    };
    let (local_ops, wide_ops) = (ops(&fresh.reread_local), ops(&fresh.reread_wide));
    report.errors.retain(|e| {
        let op = (e.service.as_str(), e.operation.as_str());
        let replaced_here = local_ops.contains(&op) && e.region.as_deref() == region;
        !(wide_ops.contains(&op) || replaced_here)
    });
    report.errors.extend(errors);
    audit::rescore(&mut report);
    report
}

/// What a re-check reads through.
struct Reader<'a> {
    config: &'a SdkConfig,
    target: &'a Target,
    opts: &'a Options,
    organization: &'a crate::facts::Fact<Arc<Organization>>,
    recorder: &'a CallRecorder,
}

impl Reader<'_> {
    /// Reads the (account-level) needs of `checks` in `regions`; `None` when there is no check.
    async fn read(&self, regions: &[String], checks: &[&Check]) -> Option<AccountSnapshot> {
        if checks.is_empty() {
            return None;
        }
        let needs: BTreeSet<Need> = catalog::needs_of(checks)
            .into_iter()
            .filter(|n| !n.is_organization())
            .collect();
        let budget =
            crate::last_accessed::Budget::of(&self.opts.settings, self.opts.access_cache.clone());
        let collector = Collector {
            config: self.config,
            account_id: &self.target.account_id,
            regions,
            s3_path_style: self.opts.s3_path_style,
            recorder: self.recorder,
            last_accessed: &budget,
        };
        let mut snap = collector.collect(&needs).await;
        snap.organization = self.organization.clone();
        Some(snap)
    }
}

/// Evaluates `checks` over `snap` and applies the exceptions, as a full audit does.
fn evaluate(
    snap: &AccountSnapshot,
    checks: &[&Check],
    opts: &Options,
    account_id: &str,
) -> Vec<CheckResult> {
    let mut results = audit::evaluate(snap, checks, &opts.settings);
    crate::exceptions::apply(
        account_id,
        &mut results,
        &opts.exceptions,
        snap.collected_at,
    );
    results
}

/// The organization fact of a re-check: read when an affected check needs it, else missing.
pub fn needs_organization(checks: &[&'static Check], needs: &BTreeSet<Need>) -> bool {
    catalog::needs_of(&affected_checks(checks, needs))
        .iter()
        .any(|n| n.is_organization())
}

/// When a report's verdict of `check` was last observed: the re-check's time, or the run's.
pub fn observed_at(check: &CheckResult, run_started: DateTime<Utc>) -> DateTime<Utc> {
    check.rechecked.as_ref().map_or(run_started, |r| r.at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CATALOG;
    use crate::model::Verdict;

    /// The checks that judge each region on its own facts are region-local; the ones that
    /// aggregate over regions or read global facts are not.
    #[test]
    fn region_locality_follows_the_checks() {
        let local: BTreeSet<&str> = CATALOG
            .iter()
            .filter(|c| is_region_local(c))
            .map(|c| c.id())
            .collect();
        for id in [
            "ec2_security_group_no_world_admin_ports",
            "ec2_default_security_group_closed",
            "ec2_instance_imdsv2_required",
            "ebs_default_encryption_enabled",
            "guardduty_enabled",
            "accessanalyzer_enabled",
            "rds_instance_storage_encrypted",
            "kms_key_rotation_enabled",
            "inspector2_scanning_enabled",
            "guardduty_malware_protection_enabled",
            "guardduty_runtime_monitoring_enabled",
            "ecr_repository_not_public",
            "ecr_registry_continuous_scanning",
            "ecs_task_definition_non_root",
            "ecs_service_canary_deployment",
            "ecs_ec2_running_image_max_age",
            "cloudformation_stack_in_sync",
            "ssm_instance_patch_compliant",
        ] {
            assert!(local.contains(id), "{id} should be region-local");
        }
        for id in [
            "cloudwatch_root_usage_alarm",
            "cloudwatch_dashboard_exists",
            "cloudwatch_availability_probe_exists",
            "backup_plan_covers_resources",
            "wafv2_public_endpoints_protected",
            "cloudfront_elbv2_security_headers_set",
            "wafv2_web_acl_in_depth_rules",
            "fis_experiment_recently_run",
            "ce_anomaly_detection_alerting",
            "imagebuilder_pipeline_nightly",
            "cloudtrail_multi_region_logging",
            "iam_admin_users_mfa_enabled",
            "s3_bucket_public_access_blocked",
        ] {
            assert!(!local.contains(id), "{id} is not region-local");
        }
    }

    fn check(id: &str, verdicts: Vec<Verdict>) -> CheckResult {
        let c = crate::catalog::find(id).unwrap();
        let mut r = crate::audit::evaluate(
            &AccountSnapshot::new("111111111111", &[]),
            &[c],
            &Default::default(),
        )
        .remove(0);
        r.status = overall_status(&verdicts);
        r.verdicts = verdicts;
        r
    }

    fn account(checks: Vec<CheckResult>) -> AccountReport {
        let mut a = AccountReport {
            account_id: "111111111111".into(),
            account_name: "prod".into(),
            status: AccountStatus::Audited,
            error: None,
            regions: vec!["eu-west-1".into(), "us-east-1".into()],
            level: None,
            confirmed_level: None,
            unconfirmed: false,
            practices: vec![],
            dimensions: vec![],
            checks,
            errors: vec![FactError::new(
                "ec2",
                "DescribeSecurityGroups",
                Some("us-east-1"),
                crate::facts::ErrorKind::Throttled,
                "slow down",
            )],
            api_calls: vec![],
            duration_seconds: 1.0,
        };
        audit::rescore(&mut a);
        a
    }

    /// Port 22 opened in eu-west-1: the security-group check takes the new failing verdict of
    /// eu-west-1, keeps its us-east-1 verdict (and that region's read error), says it was
    /// re-checked; an unaffected check is untouched; the account is rescored.
    #[test]
    fn merge_replaces_the_reread_region_only() {
        let sg = "ec2_security_group_no_world_admin_ports";
        let previous = account(vec![
            check(
                sg,
                vec![
                    Verdict::pass("sg-1", Some("eu-west-1"), "closed"),
                    Verdict::pass("sg-2", Some("us-east-1"), "closed"),
                ],
            ),
            check(
                "iam_root_mfa_enabled",
                vec![Verdict::pass("root", None, "mfa")],
            ),
        ]);
        let fresh = Fresh {
            region: Some("eu-west-1"),
            local: vec![check(
                sg,
                vec![Verdict::fail(
                    "sg-1",
                    Some("eu-west-1"),
                    "22 open to the world",
                )],
            )],
            wide: vec![],
            reread_local: [Need::Ec2SecurityGroups].into(),
            reread_wide: BTreeSet::new(),
            stamp: Rechecked {
                at: Utc::now(),
                region: None,
                events: vec!["ec2.amazonaws.com AuthorizeSecurityGroupIngress".into()],
            },
        };
        let merged = merge(&previous, fresh, vec![]);
        let c = merged.check(sg).unwrap();
        assert_eq!(c.status, crate::model::Status::Fail);
        let resources: Vec<_> = c
            .verdicts
            .iter()
            .map(|v| (v.resource.as_str(), v.status))
            .collect();
        assert_eq!(
            resources,
            [
                ("sg-2", crate::model::Status::Pass),
                ("sg-1", crate::model::Status::Fail)
            ]
        );
        assert_eq!(
            c.rechecked.as_ref().unwrap().region.as_deref(),
            Some("eu-west-1")
        );
        let root = merged.check("iam_root_mfa_enabled").unwrap();
        assert!(root.rechecked.is_none());
        assert_eq!(root.status, crate::model::Status::Pass);
        assert_eq!(merged.errors.len(), 1, "us-east-1's error stands");
        assert_ne!(merged.practices, previous.practices, "rescored");
    }

    /// A wide re-check replaces the check whole, and the re-read needs' old errors go.
    #[test]
    fn merge_replaces_wide_checks_whole() {
        let id = "ec2_security_group_no_world_admin_ports";
        let previous = account(vec![check(
            id,
            vec![Verdict::pass("sg-2", Some("us-east-1"), "closed")],
        )]);
        let fresh = Fresh {
            region: None,
            local: vec![],
            wide: vec![check(
                id,
                vec![Verdict::pass("sg-3", Some("eu-west-1"), "closed")],
            )],
            reread_local: BTreeSet::new(),
            reread_wide: [Need::Ec2SecurityGroups].into(),
            stamp: Rechecked {
                at: Utc::now(),
                region: None,
                events: vec![],
            },
        };
        let merged = merge(&previous, fresh, vec![]);
        assert_eq!(merged.check(id).unwrap().verdicts.len(), 1);
        assert_eq!(merged.check(id).unwrap().verdicts[0].resource, "sg-3");
        assert!(merged.errors.is_empty());
    }

    /// A security-group event re-runs the security-group checks only; an MFA event the IAM
    /// checks that read credentials.
    #[test]
    fn affected_checks_are_the_readers_of_the_needs() {
        let sg: Vec<_> = affected_checks(CATALOG, &[Need::Ec2SecurityGroups].into())
            .iter()
            .map(|c| c.id())
            .collect();
        assert_eq!(
            sg,
            [
                "ec2_security_group_no_world_admin_ports",
                "ec2_default_security_group_closed",
                "ec2_security_group_no_world_high_risk_ports",
                "rds_instance_not_publicly_accessible",
                "ec2_security_group_egress_restricted"
            ]
        );
        let mfa = crate::triggers::needs_for(
            &crate::triggers::all_needs(),
            "iam.amazonaws.com",
            "DeactivateMFADevice",
        );
        let ids: Vec<_> = affected_checks(CATALOG, &mfa)
            .iter()
            .map(|c| c.id())
            .collect();
        assert!(ids.contains(&"iam_admin_users_mfa_enabled"), "{ids:?}");
        assert!(ids.contains(&"iam_root_mfa_enabled"), "{ids:?}");
        assert!(!ids.contains(&"ec2_security_group_no_world_admin_ports"));
        // The root MFA check reads the organization's centralized root access.
        assert!(needs_organization(CATALOG, &mfa));
    }
}
