//! One account end to end: credentials → collection → evaluation → exceptions → scoring →
//! [`AccountReport`]; a run of every account, with the organization-level facts read once and shared.

use crate::catalog::{self, Check};
use crate::collect::{organizations, session, Collector};
use crate::facts::{CallRecorder, ErrorKind, Fact, FactError};
use crate::model::overall_status;
use crate::report::{AccountReport, AccountStatus, CheckResult, DsommRef, OrganizationRead};
use crate::scoring::{self, Scored};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need, Organization};
use aws_config::SdkConfig;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An account to audit (kept as JSON in the agent's shared schedule).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Target {
    pub account_id: String,
    pub account_name: String,
    /// The role to assume in the account; `None` audits with the agent's own credentials.
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
}

/// How to audit, the same for every account of a run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Regions to audit; empty audits every region enabled in each account (EC2 `DescribeRegions`).
    pub regions: Vec<String>,
    pub settings: Settings,
    /// The checks to run (the catalog minus the disabled ones).
    pub checks: Vec<&'static Check>,
    pub s3_path_style: bool,
    /// Time limit of the whole account; past it the account is reported as failed.
    pub account_timeout: Duration,
    /// Client-side limit of requests per second per service and account (`None`: no limit).
    pub max_requests_per_second: Option<f64>,
    /// The role (with its external id) through which AWS Organizations is read for the
    /// organization-level facts; `None` reads them with the agent's own credentials.
    pub organization_role: Option<(String, Option<String>)>,
    /// Accepted findings, applied to each account's results before scoring.
    pub exceptions: Vec<crate::exceptions::Exception>,
    /// Where IAM's service last-accessed reports are kept between runs (the agent's state store);
    /// `None` keeps nothing, and `last_accessed_jobs_per_run` alone bounds the jobs.
    pub access_cache: Option<Arc<dyn crate::last_accessed::AccessCache>>,
    /// How to reach an account that organization-level facts are read from when it is not among
    /// a run's targets (the holders of organization analyzers).
    pub reach: Reach,
}

/// How a run reaches an account it was not given as a target: the configured accounts (with
/// their roles), and the role every discovered member holds.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub accounts: Vec<Target>,
    /// The role name and external id of the discovered members (`[organization] role_name`),
    /// with the partition of their ARNs.
    pub member_role: Option<MemberRole>,
}

#[derive(Debug, Clone)]
pub struct MemberRole {
    pub name: String,
    pub external_id: Option<String>,
    pub partition: String,
}

impl Reach {
    /// `account` as one of `targets` or a configured account.
    pub fn known(&self, account: &str, targets: &[Target]) -> Option<Target> {
        let known = targets.iter().chain(&self.accounts);
        known.into_iter().find(|t| t.account_id == account).cloned()
    }

    /// `account` through the discovered members' role (which the management account often lacks:
    /// StackSets do not deploy to it).
    pub fn member(&self, account: &str) -> Option<Target> {
        self.member_role.as_ref().map(|r| Target {
            account_id: account.to_owned(),
            account_name: String::new(),
            role_arn: Some(format!(
                "arn:{}:iam::{account}:role/{}",
                r.partition, r.name
            )),
            external_id: r.external_id.clone(),
        })
    }
}

/// Evaluates the checks over a snapshot: pure, no I/O.
pub fn evaluate(
    snap: &AccountSnapshot,
    checks: &[&Check],
    settings: &Settings,
) -> Vec<CheckResult> {
    checks
        .iter()
        .map(|c| {
            let verdicts = (c.evaluate)(snap, settings);
            CheckResult {
                id: c.meta.id.to_owned(),
                title: c.meta.title.to_owned(),
                practice: c.meta.practice,
                level: c.level(),
                severity: c.meta.severity,
                dsomm_activity: DsommRef {
                    uuid: c.meta.activity.uuid.to_owned(),
                    name: c.meta.activity.name.to_owned(),
                    level: c.meta.activity.level,
                },
                status: overall_status(&verdicts),
                remediation: c.meta.remediation.to_owned(),
                verdicts,
                carried_over: None,
                rechecked: None,
            }
        })
        .collect()
}

/// (Re)computes an audited account's practice scores and levels from its checks' scored statuses
/// (see [`CheckResult::scored_status`]).
pub fn rescore(report: &mut AccountReport) {
    let scored: Vec<Scored> = report
        .checks
        .iter()
        .map(|c| Scored {
            practice: c.practice,
            level: c.level,
            status: c.scored_status(),
        })
        .collect();
    report.practices = scoring::score_practices(&scored);
    let activities: Vec<(&str, crate::model::Status)> = report
        .checks
        .iter()
        .map(|c| (c.dsomm_activity.uuid.as_str(), c.scored_status()))
        .collect();
    report.dimensions = scoring::score_dimensions(&activities);
    let levels = scoring::account_level(&report.practices);
    report.level = levels.map(|l| l.0);
    report.confirmed_level = levels.map(|l| l.1);
    report.unconfirmed = levels.is_some_and(|(l, c)| l != c);
}

/// Why an account whose role could be assumed is still not audited: no check that reads the
/// account's own resources got a known status (every one is `unknown`), as behind a firewall that
/// lets only STS through or under an SCP that denies the audit role. Such an account is `failed`
/// for the run, like one whose role cannot be assumed, so that a permission outage is an outage
/// (`maturity_account_up 0`, last audited levels kept) and never a level scored from nothing.
/// Checks that read only organization-level facts (read with the agent's own credentials) do not
/// count: they say nothing of the account's reads. `None` when at least one such check is known,
/// or when no enabled check reads the account.
pub fn unreadable(
    results: &[CheckResult],
    checks: &[&Check],
    errors: &[FactError],
) -> Option<String> {
    let own: Vec<&CheckResult> = results
        .iter()
        .filter(|r| {
            checks
                .iter()
                .find(|c| c.meta.id == r.id)
                .is_some_and(|c| c.meta.needs.iter().any(|n| !n.is_organization()))
        })
        .collect();
    if own.is_empty()
        || own
            .iter()
            .any(|r| r.status != crate::model::Status::Unknown)
    {
        return None;
    }
    let first = errors
        .first()
        .map(|e| format!("; first error: {e}"))
        .unwrap_or_default();
    Some(format!(
        "no check could read the account: all {} checks of its resources are unknown{first}",
        own.len()
    ))
}

/// Audits one account. Never fails: an account that cannot be audited is a report with status
/// `failed` and the reason.
///
/// `organization` is the run's read of AWS Organizations, shared by every account (see
/// [`audit_all`]); it becomes the snapshot's organization facts.
pub async fn audit_account(
    base: &SdkConfig,
    target: &Target,
    opts: &Options,
    organization: &Fact<Arc<Organization>>,
) -> AccountReport {
    let started = Instant::now();
    let recorder = CallRecorder::with_rate_limit(opts.max_requests_per_second);
    let work = async {
        let config = session::account_config(
            base,
            &target.account_id,
            target.role_arn.as_deref(),
            target.external_id.as_deref(),
            &recorder,
        )
        .await?;
        // An empty list means every region enabled in this account.
        let regions = if opts.regions.is_empty() {
            crate::collect::enabled_regions(&config, &recorder)
                .await
                .map_err(session::SessionError::Regions)?
        } else {
            opts.regions.clone()
        };
        let budget = crate::last_accessed::Budget::of(&opts.settings, opts.access_cache.clone());
        let collector = Collector {
            config: &config,
            account_id: &target.account_id,
            regions: &regions,
            s3_path_style: opts.s3_path_style,
            recorder: &recorder,
            last_accessed: &budget,
        };
        let mut snapshot = collector.collect(&catalog::needs_of(&opts.checks)).await;
        snapshot.organization = organization.clone();
        Ok::<_, session::SessionError>((snapshot, regions))
    };
    let outcome = tokio::time::timeout(opts.account_timeout, work).await;
    let mut report = AccountReport {
        account_id: target.account_id.clone(),
        account_name: target.account_name.clone(),
        status: AccountStatus::Failed,
        error: None,
        regions: opts.regions.clone(),
        level: None,
        confirmed_level: None,
        unconfirmed: false,
        practices: vec![],
        dimensions: vec![],
        checks: vec![],
        errors: vec![],
        api_calls: vec![],
        duration_seconds: 0.0,
    };
    match outcome {
        Err(_) => {
            report.error = Some(format!(
                "the audit did not finish within {} s",
                opts.account_timeout.as_secs()
            ))
        }
        Ok(Err(e)) => report.error = Some(e.to_string()),
        Ok(Ok((snapshot, regions))) => {
            report.regions = regions;
            report.checks = evaluate(&snapshot, &opts.checks, &opts.settings);
            crate::exceptions::apply(
                &target.account_id,
                &mut report.checks,
                &opts.exceptions,
                snapshot.collected_at,
            );
            report.status = AccountStatus::Audited;
            rescore(&mut report);
            if let Some(why) = unreadable(&report.checks, &opts.checks, &recorder.errors()) {
                report.status = AccountStatus::Failed;
                report.error = Some(why);
                report.checks.clear();
                report.practices.clear();
                report.level = None;
                report.confirmed_level = None;
                report.unconfirmed = false;
            }
        }
    }
    if let Some(e) = &report.error {
        tracing::warn!(account_id = %target.account_id, error = %e, "account could not be audited");
    }
    report.errors = recorder.errors();
    report.api_calls = recorder.counts();
    report.duration_seconds = started.elapsed().as_secs_f64();
    report
}

/// Audits every target, at most `concurrency` accounts at once, and returns the reports in the
/// targets' order. One account failing never stops the others.
pub async fn audit_all(
    base: &SdkConfig,
    targets: &[Target],
    opts: &Options,
    concurrency: usize,
) -> crate::report::Report {
    use futures::stream::{self, StreamExt};
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    let (organization, organization_read) = organization_for(base, targets, opts, None).await;
    let organization = &organization;
    let audits: Vec<_> = targets
        .iter()
        .map(|t| audit_account(base, t, opts, organization))
        .collect();
    let accounts = stream::iter(audits)
        .buffered(concurrency.max(1))
        .collect()
        .await;
    crate::report::Report {
        schema_version: crate::report::SCHEMA_VERSION,
        agent_version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at,
        duration_seconds: started.elapsed().as_secs_f64(),
        accounts,
        organization: organization_read,
    }
}

/// The organization-level facts of a run over `targets`, read once for all of its accounts when
/// an enabled check needs them, with the calls that read made. `kept` is what an earlier part of
/// the same run read (a replica audits a cycle in batches): it is used as is, or with the tags of
/// the batch's accounts it lacks added, instead of reading the organization again.
pub async fn organization_for(
    base: &SdkConfig,
    targets: &[Target],
    opts: &Options,
    kept: Option<&Arc<Organization>>,
) -> (Fact<Arc<Organization>>, Option<OrganizationRead>) {
    let needs = catalog::needs_of(&opts.checks);
    if !needs.iter().any(|n| n.is_organization()) {
        let nc = FactError::not_collected("organizations", "DescribeOrganization");
        return (Err(nc), None);
    }
    let audited: Vec<String> = targets.iter().map(|t| t.account_id.clone()).collect();
    let wants_tags = needs.contains(&Need::OrganizationAccounts);
    if let Some(kept) = kept {
        if !wants_tags || organizations::has_tags(kept, &audited) {
            return (Ok(kept.clone()), None);
        }
    }
    let rec = CallRecorder::with_rate_limit(opts.max_requests_per_second);
    let fact = match kept {
        Some(kept) => {
            let mut org = Organization::clone(kept);
            within_time(opts, async {
                let config = organization_session(base, opts, &rec).await?;
                organizations::tag_members(&config, &rec, &mut org, &audited).await;
                Ok(org)
            })
            .await
        }
        None => read_organization(base, opts, &rec, &needs, &audited, targets).await,
    }
    .map(Arc::new);
    if let Err(e) = &fact {
        tracing::warn!(error = %e, "AWS Organizations could not be read: the environments checks are unknown");
    }
    let read = OrganizationRead {
        errors: rec.errors(),
        api_calls: rec.counts(),
    };
    (fact, Some(read))
}

/// Audits `targets`, at most `concurrency` at a time, each account's report yielded as soon as it
/// is done (in the order they finish): a caller saves each before the others end, and holds only
/// the accounts in flight.
pub fn audit_stream<'a>(
    base: &'a SdkConfig,
    targets: &'a [Target],
    opts: &'a Options,
    organization: &'a Fact<Arc<Organization>>,
    concurrency: usize,
) -> impl futures::Stream<Item = AccountReport> + 'a {
    use futures::stream::{self, StreamExt};
    stream::iter(targets)
        .map(move |t| audit_account(base, t, opts, organization))
        .buffer_unordered(concurrency.max(1))
}

/// Reads the organization-level facts once for the run, through the organization role when one is
/// configured, within the per-account time limit. `audited` are the accounts whose tags are read;
/// `targets` (with [`Options::reach`]) are how accounts holding organization-level facts are
/// reached. Public for the event-driven re-checks of the organization-level checks.
pub async fn read_organization(
    base: &SdkConfig,
    opts: &Options,
    rec: &CallRecorder,
    needs: &BTreeSet<Need>,
    audited: &[String],
    targets: &[Target],
) -> Fact<Organization> {
    within_time(opts, async {
        let config = organization_session(base, opts, rec).await?;
        let mut org = organizations::read_organization(&config, rec, needs, audited).await?;
        if org.in_use && needs.contains(&Need::OrganizationAnalyzers) {
            let what = ("access-analyzer", "ListAnalyzers", "organization analyzers");
            let principal = crate::collect::accessanalyzer::SERVICE_PRINCIPAL;
            let read = |c: SdkConfig, region: String| async move {
                crate::collect::accessanalyzer::organization_analyzers(&c, rec, &region).await
            };
            let held = in_holders(
                base, &config, opts, rec, &org, targets, principal, what, read,
            );
            org.analyzers = held
                .await
                .map(|holders| crate::snapshot::OrganizationAnalyzers { holders });
        }
        if org.in_use && needs.contains(&Need::OrganizationDetectiveGraphs) {
            let what = ("detective", "ListGraphs", "Detective behavior graphs");
            let principal = crate::collect::detective::SERVICE_PRINCIPAL;
            let read = |c: SdkConfig, region: String| async move {
                crate::collect::detective::organization_graphs(&c, rec, &region).await
            };
            let held = in_holders(
                base, &config, opts, rec, &org, targets, principal, what, read,
            );
            org.detective = held
                .await
                .map(|holders| crate::snapshot::OrganizationGraphs { holders });
        }
        Ok(org)
    })
    .await
}

/// `read(config, region)` in every account that can hold an organization-wide resource of the
/// service whose principal is `service` ([`holders`]), by holder: see [`per_holder_region`].
#[allow(clippy::too_many_arguments)]
async fn in_holders<T, F, Fut>(
    base: &SdkConfig,
    org_config: &SdkConfig,
    opts: &Options,
    rec: &CallRecorder,
    org: &Organization,
    targets: &[Target],
    service: &str,
    what: (&str, &str, &str),
    read: F,
) -> Fact<BTreeMap<String, Fact<BTreeMap<String, T>>>>
where
    F: Fn(SdkConfig, String) -> Fut,
    Fut: Future<Output = Fact<T>>,
{
    let mut out = BTreeMap::new();
    for holder in holders(org, service)? {
        let held =
            per_holder_region(base, org_config, opts, rec, &holder, targets, what, &read).await;
        out.insert(holder, held);
    }
    Ok(out)
}

/// The accounts that can hold an organization-wide resource of the service whose principal is
/// `service`: its delegated administrators and the management account.
fn holders(org: &Organization, service: &str) -> Fact<Vec<String>> {
    let admins = org
        .delegated_administrators
        .as_ref()
        .map_err(Clone::clone)?;
    let mut holders: BTreeSet<String> =
        admins.get(service).into_iter().flatten().cloned().collect();
    holders.insert(org.management_account_id.clone());
    Ok(holders.into_iter().collect())
}

/// `read(config, region)` in `holder` for each audited region (or every region enabled there),
/// reached in this order: its role when it is audited or configured; the organization's session
/// when that is the holder's; the agent's own credentials when they belong to it; the discovered
/// members' role. `what` is `(service, operation, what is read)` for the error of a holder that
/// cannot be reached.
#[allow(clippy::too_many_arguments)]
async fn per_holder_region<T, F, Fut>(
    base: &SdkConfig,
    org_config: &SdkConfig,
    opts: &Options,
    rec: &CallRecorder,
    holder: &str,
    targets: &[Target],
    what: (&str, &str, &str),
    read: F,
) -> Fact<BTreeMap<String, T>>
where
    F: Fn(SdkConfig, String) -> Fut,
    Fut: Future<Output = Fact<T>>,
{
    let (service, operation, things) = what;
    let unreachable = |why: String| {
        FactError::new(
            service,
            operation,
            None,
            ErrorKind::Other,
            format!("the {things} of account {holder} cannot be read: {why}"),
        )
    };
    let org_account = opts
        .organization_role
        .as_ref()
        .and_then(|(role, _)| session::account_of_arn(role));
    let assume = |t: Target| async move {
        session::account_config(
            base,
            holder,
            t.role_arn.as_deref(),
            t.external_id.as_deref(),
            rec,
        )
        .await
        .map_err(|e| unreachable(e.to_string()))
    };
    // An audited or configured account through its own role; the management account mostly
    // through the organization's session or the agent's own credentials; else the members' role.
    let config = if let Some(t) = opts.reach.known(holder, targets) {
        assume(t).await?
    } else if org_account == Some(holder) {
        org_config.clone()
    } else {
        let own = match org_account {
            None => session::account_config(base, holder, None, None, rec)
                .await
                .ok(),
            Some(_) => None,
        };
        match (own, opts.reach.member(holder)) {
            (Some(c), _) => c,
            (None, Some(t)) => assume(t).await?,
            (None, None) => Err(unreachable(
                "it is not audited, neither the organization's session nor the agent's own credentials belong to it, and no members' role is configured".into(),
            ))?,
        }
    };
    let regions = if opts.regions.is_empty() {
        crate::collect::enabled_regions(&config, rec).await?
    } else {
        opts.regions.clone()
    };
    let mut by_region = BTreeMap::new();
    for region in regions {
        let value = read(config.clone(), region.clone()).await?;
        by_region.insert(region, value);
    }
    Ok(by_region)
}

/// The session that reads the organization: the agent's own, or the organization role's.
async fn organization_session(
    base: &SdkConfig,
    opts: &Options,
    rec: &CallRecorder,
) -> Fact<SdkConfig> {
    match &opts.organization_role {
        None => Ok(base.clone()),
        Some((role, external_id)) => {
            let account = session::account_of_arn(role).unwrap_or_default();
            session::account_config(base, account, Some(role), external_id.as_deref(), rec)
                .await
                .map_err(|e| match e {
                    session::SessionError::AssumeRole { source, .. } => source,
                    other => FactError::new(
                        "sts",
                        "AssumeRole",
                        None,
                        ErrorKind::Other,
                        other.to_string(),
                    ),
                })
        }
    }
}

/// `work` (a read of the organization) within the per-account time limit.
async fn within_time<T>(opts: &Options, work: impl Future<Output = Fact<T>>) -> Fact<T> {
    tokio::time::timeout(opts.account_timeout, work)
        .await
        .unwrap_or_else(|_| {
            Err(FactError::new(
                "organizations",
                "DescribeOrganization",
                None,
                ErrorKind::Timeout,
                format!(
                    "the organization was not read within {} s",
                    opts.account_timeout.as_secs()
                ),
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CATALOG;
    use crate::facts::FactError;
    use crate::snapshot::AccountSnapshot;

    /// With every account-level fact denied, the account is not audited (whatever the
    /// organization-level checks say); one known check of the account's own resources makes it
    /// audited again.
    #[test]
    fn an_account_of_which_nothing_could_be_read_is_not_audited() {
        let snap = AccountSnapshot::new("111111111111", &["us-east-1".to_owned()]);
        let checks: Vec<&Check> = CATALOG.to_vec();
        let mut results = evaluate(&snap, &checks, &Settings::default());
        let denied = FactError::new(
            "iam",
            "GetAccountSummary",
            None,
            ErrorKind::AccessDenied,
            "denied",
        );
        let own = |r: &CheckResult| {
            CATALOG
                .iter()
                .find(|c| c.meta.id == r.id)
                .is_some_and(|c| c.meta.needs.iter().any(|n| !n.is_organization()))
        };
        for r in results.iter_mut() {
            r.status = if own(r) {
                crate::model::Status::Unknown
            } else {
                crate::model::Status::Pass
            };
        }
        let why = unreadable(&results, &checks, std::slice::from_ref(&denied)).expect("failed");
        assert!(
            why.starts_with("no check could read the account: all ")
                && why.ends_with("first error: iam:GetAccountSummary access denied (denied)"),
            "{why}"
        );
        let first_own = results.iter().position(own).unwrap();
        results[first_own].status = crate::model::Status::NotApplicable;
        assert_eq!(unreadable(&results, &checks, &[denied]), None);
    }
}
