//! All AWS I/O of an audit. One collector per service reads the facts the enabled checks need
//! ([`Need`]) into an [`AccountSnapshot`]:
//! - every call goes through [`call`] or [`pages`], which count it in the [`CallRecorder`] and turn a
//!   failure into a typed [`FactError`] (access denied, throttled, timeout, not supported, other);
//! - each operation is made once per account and region (per resource for per-resource operations),
//!   paginated to the end;
//! - services and regions are read concurrently; per-resource calls are bounded by [`PER_RESOURCE_CONCURRENCY`].

pub(crate) mod accessanalyzer;
mod backup;
mod budgets;
mod ce;
mod cloudformation;
mod cloudfront;
mod cloudtrail;
mod cloudwatch;
mod codedeploy;
mod config;
pub(crate) mod detective;
mod dynamodb;
mod ec2;
mod ecr;
mod ecs;
mod elb;
mod elbv2;
mod fis;
mod guardduty;
mod iam;
mod imagebuilder;
mod inspector2;
mod kms;
mod lambda;
mod last_accessed;
mod logs;
mod oam;
pub mod organizations;
mod rds;
mod route53;
mod s3;
mod s3control;
mod secretsmanager;
mod securityhub;
pub mod session;
mod sns;
mod sqs;
mod ssm;
mod synthetics;
mod wafv2;

use crate::facts::{CallRecorder, ErrorKind, Fact, FactError, Outcome};
use crate::snapshot::{AccountSnapshot, Need, RegionFacts};
use aws_config::SdkConfig;
use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::BTreeSet;
use std::future::Future;

/// How many per-resource calls (one per bucket, load balancer, …) run at once within one account.
pub const PER_RESOURCE_CONCURRENCY: usize = 16;

/// What to collect and how to reach AWS for one account.
pub struct Collector<'a> {
    /// SDK configuration holding the account's credentials (see [`session`]).
    pub config: &'a SdkConfig,
    pub account_id: &'a str,
    pub regions: &'a [String],
    /// Path-style S3 addressing, needed by emulators on an IP endpoint.
    pub s3_path_style: bool,
    pub recorder: &'a CallRecorder,
    /// The budget and cache of IAM's service last-accessed jobs ([`crate::last_accessed`]).
    pub last_accessed: &'a crate::last_accessed::Budget,
}

impl Collector<'_> {
    /// The account's SDK config pointed at one region; build any service client from it.
    pub(crate) fn in_region(&self, region: &str) -> SdkConfig {
        self.config
            .to_builder()
            .region(aws_config::Region::new(region.to_owned()))
            .build()
    }

    /// Reads every fact in `needs`, services and regions concurrently.
    pub async fn collect(&self, needs: &BTreeSet<Need>) -> AccountSnapshot {
        let mut snap = AccountSnapshot::new(self.account_id, self.regions);
        let (
            iam,
            s3,
            account_pab,
            trails,
            (distributions, policies),
            (budgets, anomalies),
            health_checks,
            regional,
        ) = tokio::join!(
            Box::pin(iam::collect(self, needs)),
            Box::pin(s3::collect(self, needs)),
            Box::pin(s3control::collect(self, needs)),
            Box::pin(cloudtrail::collect(self, needs)),
            Box::pin(async {
                let distributions = cloudfront::collect(self, needs).await;
                let policies =
                    cloudfront::response_headers_policies(self, needs, distributions.as_ref())
                        .await;
                (distributions, policies)
            }),
            Box::pin(async {
                tokio::join!(budgets::collect(self, needs), ce::collect(self, needs))
            }),
            Box::pin(route53::collect(self, needs)),
            futures::future::join_all(self.regions.iter().map(|region| async move {
                (region.clone(), Box::pin(self.region(region, needs)).await)
            })),
        );
        snap.iam = iam;
        if let Some(b) = s3 {
            snap.s3.buckets = b;
        }
        if let Some(p) = account_pab {
            snap.s3.account_public_access_block = p;
        }
        if let Some(t) = trails {
            snap.cloudtrail = t;
        }
        if let Some(d) = distributions {
            snap.cloudfront = d;
        }
        if let Some(p) = policies {
            snap.response_headers_policies = p;
        }
        if let Some(b) = budgets {
            snap.budgets = b;
        }
        if let Some(a) = anomalies {
            snap.cost_anomaly = a;
        }
        if let Some(h) = health_checks {
            snap.health_checks = h;
        }
        for (region, facts) in regional {
            snap.regional.insert(region, facts);
        }
        if wants(needs, &[Need::Wafv2WebAclRules]) {
            snap.web_acls = self.web_acls(&snap).await;
        }
        snap
    }

    /// The rules of the web ACLs that protect the snapshot's public endpoints: the load
    /// balancers' associations of every region and the distributions' `WebACLId`s that are WAFv2
    /// ARNs. Unknown when neither could be read at all.
    async fn web_acls(
        &self,
        snap: &AccountSnapshot,
    ) -> Fact<std::collections::BTreeMap<String, Fact<crate::snapshot::WebAcl>>> {
        let mut arns = BTreeSet::new();
        for facts in snap.regional.values() {
            if let Ok(acls) = &facts.load_balancer_web_acls {
                arns.extend(acls.values().filter_map(|a| a.as_ref().ok()?.clone()));
            }
        }
        if let Ok(distributions) = &snap.cloudfront {
            arns.extend(
                distributions
                    .iter()
                    .filter_map(|d| d.web_acl_id.clone())
                    .filter(|a| a.starts_with("arn:") && a.contains(":wafv2:")),
            );
        }
        Ok(wafv2::web_acls(self, arns).await)
    }

    /// Reads the regional facts of one region, every service concurrently (WAF associations after
    /// the load balancers they are about).
    async fn region(&self, region: &str, needs: &BTreeSet<Need>) -> RegionFacts {
        let mut f = RegionFacts::default();
        let (
            (sgs, vpcs, (instances, instance_images, agent_metrics), ebs),
            (lbs, (acls, listener_headers), tgs),
            classic,
            dbs,
            (analyzers, graphs),
            plans,
            tables,
            (recorders, stacks, experiments, pipelines),
            keys,
            secrets,
            (filters, alarms, dashboards, canaries, (log_shipping, links)),
            detectors,
            hub,
            (db_snapshots, ebs_snapshots, queues, topics, functions),
            ((repositories, scanning), ecs, groups, inspector, managed),
        ) = // Each service's future is boxed: held inline, the ~20 of them make one future whose
            // moves overflowed a worker thread's 2 MiB stack in debug builds once nested under
            // the event consumer's re-check.
            tokio::join!(
            Box::pin(async {
                tokio::join!(
                    ec2::collect(self, region, needs),
                    ec2::vpcs(self, region, needs),
                    async {
                        let instances = ec2::instances(self, region, needs).await;
                        let (images, agent_metrics) = tokio::join!(
                            ec2::instance_images(self, region, needs, instances.as_ref()),
                            cloudwatch::agent_metrics(self, region, needs, instances.as_ref()),
                        );
                        (instances, images, agent_metrics)
                    },
                    ec2::ebs_encryption_by_default(self, region, needs),
                )
            }),
            Box::pin(async {
                let (lbs, tgs) = tokio::join!(
                    elbv2::collect(self, region, needs),
                    elbv2::target_groups(self, region, needs)
                );
                let (acls, headers) = match &lbs {
                    Some(Ok(lbs)) => tokio::join!(
                        wafv2::load_balancer_acls(self, region, needs, lbs),
                        elbv2::listener_headers(self, region, needs, lbs),
                    ),
                    Some(Err(e)) => (
                        needs
                            .contains(&Need::Wafv2LoadBalancerAcls)
                            .then(|| Err(e.clone())),
                        needs
                            .contains(&Need::Elbv2ListenerAttributes)
                            .then(|| Err(e.clone())),
                    ),
                    None => (None, None),
                };
                (lbs, (acls, headers), tgs)
            }),
            Box::pin(elb::collect(self, region, needs)),
            Box::pin(rds::collect(self, region, needs)),
            Box::pin(async {
                tokio::join!(
                    accessanalyzer::collect(self, region, needs),
                    detective::collect(self, region, needs),
                )
            }),
            Box::pin(backup::collect(self, region, needs)),
            Box::pin(dynamodb::collect(self, region, needs)),
            Box::pin(async {
                tokio::join!(
                    config::collect(self, region, needs),
                    cloudformation::collect(self, region, needs),
                    fis::collect(self, region, needs),
                    imagebuilder::collect(self, region, needs),
                )
            }),
            Box::pin(kms::collect(self, region, needs)),
            Box::pin(secretsmanager::collect(self, region, needs)),
            Box::pin(async {
                tokio::join!(
                    logs::collect(self, region, needs),
                    cloudwatch::collect(self, region, needs),
                    cloudwatch::dashboards(self, region, needs),
                    synthetics::collect(self, region, needs),
                    async {
                        tokio::join!(
                            logs::shipping(self, region, needs),
                            oam::collect(self, region, needs),
                        )
                    },
                )
            }),
            Box::pin(guardduty::collect(self, region, needs)),
            Box::pin(securityhub::collect(self, region, needs)),
            Box::pin(async {
                tokio::join!(
                    rds::snapshots(self, region, needs),
                    ec2::ebs_snapshots(self, region, needs),
                    sqs::collect(self, region, needs),
                    sns::collect(self, region, needs),
                    lambda::collect(self, region, needs),
                )
            }),
            Box::pin(async {
                tokio::join!(
                    ecr::collect(self, region, needs),
                    ecs::collect(self, region, needs),
                    codedeploy::collect(self, region, needs),
                    inspector2::collect(self, region, needs),
                    ssm::collect(self, region, needs),
                )
            }),
        );
        fn set<T>(slot: &mut Fact<T>, value: Option<Fact<T>>) {
            if let Some(v) = value {
                *slot = v;
            }
        }
        set(&mut f.security_groups, sgs);
        set(&mut f.vpcs, vpcs);
        set(&mut f.instances, instances);
        set(&mut f.instance_images, instance_images);
        set(&mut f.ebs_encryption_by_default, ebs);
        set(&mut f.load_balancers, lbs);
        set(&mut f.classic_load_balancers, classic);
        set(&mut f.load_balancer_web_acls, acls);
        set(&mut f.listener_headers, listener_headers);
        set(&mut f.target_groups, tgs);
        if let Some((instances, clusters)) = dbs {
            f.db_instances = instances;
            f.db_clusters = clusters;
        }
        set(&mut f.analyzers, analyzers);
        set(&mut f.detective_graphs, graphs);
        set(&mut f.backup_plans, plans);
        set(&mut f.dynamodb_tables, tables);
        set(&mut f.config_recorders, recorders);
        set(&mut f.cloudformation_stacks, stacks);
        set(&mut f.fis_experiments, experiments);
        set(&mut f.image_pipelines, pipelines);
        set(&mut f.kms_keys, keys);
        set(&mut f.secrets, secrets);
        set(&mut f.metric_filters, filters);
        set(&mut f.alarms, alarms);
        set(&mut f.dashboards, dashboards);
        set(&mut f.canaries, canaries);
        set(&mut f.guardduty_detectors, detectors);
        set(&mut f.security_hub, hub);
        set(&mut f.db_snapshots, db_snapshots);
        set(&mut f.ebs_snapshots, ebs_snapshots);
        set(&mut f.sqs_queues, queues);
        set(&mut f.sns_topics, topics);
        set(&mut f.lambda_functions, functions);
        set(&mut f.ecr_repositories, repositories);
        set(&mut f.ecr_registry_scanning, scanning);
        set(&mut f.ecs_services, ecs.services);
        set(&mut f.ecs_task_definitions, ecs.definitions);
        set(&mut f.ecs_tasks, ecs.tasks);
        set(&mut f.ecs_clusters, ecs.clusters);
        set(&mut f.agent_metric_instances, agent_metrics);
        set(&mut f.log_shipping, log_shipping);
        set(&mut f.oam_links, links);
        set(&mut f.codedeploy_groups, groups);
        set(&mut f.inspector2, inspector);
        set(&mut f.ssm_instances, managed);
        f
    }
}

/// The regions enabled in the account of `config` (EC2 `DescribeRegions`, opted-in regions only),
/// for `regions = ["all"]`.
pub async fn enabled_regions(config: &SdkConfig, rec: &CallRecorder) -> Fact<Vec<String>> {
    let ec2 = aws_sdk_ec2::Client::new(config);
    let out = call(
        rec,
        "ec2",
        "DescribeRegions",
        None,
        ec2.describe_regions().all_regions(false).send(),
    )
    .await?;
    let mut regions: Vec<String> = out
        .regions()
        .iter()
        .filter_map(|r| r.region_name().map(str::to_owned))
        .collect();
    regions.sort();
    Ok(regions)
}

/// Classifies an SDK error into the bounded [`ErrorKind`] set, with a message for people.
///
/// An operation an emulator lacks answers HTTP 404/405/500/501 with an HTML body: without an AWS
/// error code such an answer is "not supported by the endpoint", never a finding.
pub(crate) fn classify<E>(err: &SdkError<E, HttpResponse>) -> (ErrorKind, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::TimeoutError(_) => (ErrorKind::Timeout, cause(err)),
        SdkError::DispatchFailure(d) => {
            let kind = if d.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Other
            };
            (kind, cause(err))
        }
        _ => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            match err.code() {
                Some(code) => {
                    let message = match err.message() {
                        Some(m) if !m.is_empty() => format!("{code}: {m}"),
                        _ => code.to_owned(),
                    };
                    (kind_of_code(code, status), short(message))
                }
                None => match status {
                    Some(s @ (404 | 405 | 500 | 501)) => (
                        ErrorKind::NotSupported,
                        format!("HTTP {s} without an AWS error code"),
                    ),
                    Some(429) => (ErrorKind::Throttled, "HTTP 429".to_owned()),
                    Some(403) => (
                        ErrorKind::AccessDenied,
                        "HTTP 403 without an AWS error code".to_owned(),
                    ),
                    _ => (ErrorKind::Other, cause(err)),
                },
            }
        }
    }
}

fn kind_of_code(code: &str, status: Option<u16>) -> ErrorKind {
    match code {
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "AuthorizationError"
        | "AuthorizationErrorException"
        | "UnauthorizedAccess"
        | "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "AllAccessDisabled" => ErrorKind::AccessDenied,
        "Throttling"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "TooManyRequestsException"
        | "SlowDown"
        | "RequestThrottled"
        | "RequestThrottledException"
        | "ProvisionedThroughputExceededException"
        | "PriorRequestNotComplete"
        | "BandwidthLimitExceeded" => ErrorKind::Throttled,
        "NotImplemented"
        | "InvalidAction"
        | "UnknownOperationException"
        | "UnsupportedOperation"
        | "OptInRequired"
        | "SubscriptionRequiredException" => ErrorKind::NotSupported,
        "RequestTimeout" | "RequestTimeoutException" => ErrorKind::Timeout,
        _ if code.contains("AccessDenied") => ErrorKind::AccessDenied,
        _ if status == Some(429) => ErrorKind::Throttled,
        _ => ErrorKind::Other,
    }
}

/// A one-line cause for people: what went wrong with the call, the HTTP status when there was
/// one, and the innermost error of the chain, without the SDK's debug dump of its error types.
fn cause<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: std::error::Error + 'static,
{
    let what = match err {
        SdkError::TimeoutError(_) => "the call timed out",
        SdkError::DispatchFailure(d) if d.is_timeout() => "the connection timed out",
        SdkError::DispatchFailure(d) if d.is_io() => "the endpoint could not be reached",
        SdkError::DispatchFailure(_) => "the request could not be sent",
        SdkError::ResponseError(_) => "the response could not be read",
        SdkError::ConstructionFailure(_) => "the request could not be built",
        _ => "the call failed",
    };
    let status = err
        .raw_response()
        .map(|r| format!(" (HTTP {})", r.status().as_u16()))
        .unwrap_or_default();
    let mut inner: &dyn std::error::Error = err;
    while let Some(next) = inner.source() {
        inner = next;
    }
    let detail = inner.to_string();
    let detail = detail
        .lines()
        .next()
        .unwrap_or_default()
        .split(" This is likely a bug in the SDK")
        .next()
        .unwrap_or_default()
        .trim()
        .trim_end_matches('.');
    if detail.is_empty() || detail.contains("ServiceError(") {
        return format!("{what}{status}");
    }
    short(format!("{what}{status}: {detail}"))
}

fn short(mut s: String) -> String {
    const MAX: usize = 400;
    if s.len() > MAX {
        let mut cut = MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// Makes one call, counts it, and turns its error into a [`FactError`].
pub(crate) async fn call<T, E>(
    rec: &CallRecorder,
    service: &'static str,
    operation: &'static str,
    region: Option<&str>,
    fut: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
) -> Fact<T>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    call_or_absent(rec, service, operation, region, &[], fut)
        .await
        .and_then(|v| {
            v.ok_or_else(|| {
                FactError::new(
                    service,
                    operation,
                    region,
                    ErrorKind::Other,
                    "unexpected absent answer",
                )
            })
        })
}

/// Makes one call where some error codes mean "nothing configured" (e.g. a bucket without an
/// encryption configuration): those give `Ok(None)` and count as `not_found`.
pub(crate) async fn call_or_absent<T, E>(
    rec: &CallRecorder,
    service: &'static str,
    operation: &'static str,
    region: Option<&str>,
    absent_codes: &[&str],
    fut: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
) -> Fact<Option<T>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    rec.admit(service).await;
    match fut.await {
        Ok(v) => {
            rec.record(service, operation, Outcome::Ok);
            Ok(Some(v))
        }
        Err(e) if e.code().is_some_and(|c| absent_codes.contains(&c)) => {
            rec.record(service, operation, Outcome::NotFound);
            Ok(None)
        }
        Err(e) => Err(failed(rec, service, operation, region, &e)),
    }
}

/// Counts a failed call and describes it as a [`FactError`].
fn failed<E>(
    rec: &CallRecorder,
    service: &'static str,
    operation: &'static str,
    region: Option<&str>,
    err: &SdkError<E, HttpResponse>,
) -> FactError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (kind, message) = classify(err);
    rec.record(service, operation, Outcome::Error(kind));
    tracing::debug!(service, operation, region, kind = kind.as_str(), %message, "AWS call failed");
    let e = FactError::new(service, operation, region, kind, message);
    rec.error(&e);
    e
}

/// Reads every page of a paginated operation, counting each page as a call. A failure on any page
/// fails the whole fact: a partial list would look like a complete one.
pub(crate) async fn pages<P, E>(
    rec: &CallRecorder,
    service: &'static str,
    operation: &'static str,
    region: Option<&str>,
    mut stream: PaginationStream<Result<P, SdkError<E, HttpResponse>>>,
) -> Fact<Vec<P>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut out = Vec::new();
    loop {
        rec.admit(service).await;
        let Some(page) = stream.next().await else {
            break;
        };
        match page {
            Ok(p) => {
                rec.record(service, operation, Outcome::Ok);
                out.push(p);
            }
            Err(e) => return Err(failed(rec, service, operation, region, &e)),
        }
    }
    Ok(out)
}

/// Whether any of the needs is wanted.
pub(crate) fn wants(needs: &BTreeSet<Need>, any: &[Need]) -> bool {
    any.iter().any(|n| needs.contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::result::SdkError;
    use aws_smithy_types::body::SdkBody;

    #[derive(Debug)]
    struct Parse;
    impl std::fmt::Display for Parse {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("encountered invalid XML root: expected VersioningConfiguration. This is likely a bug in the SDK.")
        }
    }
    impl std::error::Error for Parse {}

    /// A response the SDK cannot parse reads as one line naming the status and the cause, never
    /// the SDK's debug dump.
    #[test]
    fn causes_are_one_readable_line() {
        let response = HttpResponse::new(200.try_into().unwrap(), SdkBody::empty());
        let err: SdkError<Parse, HttpResponse> = SdkError::response_error(Parse, response);
        assert_eq!(
            cause(&err),
            "the response could not be read (HTTP 200): encountered invalid XML root: expected VersioningConfiguration"
        );
        let t: SdkError<Parse, HttpResponse> = SdkError::timeout_error("after 20s");
        assert_eq!(cause(&t), "the call timed out: after 20s");
    }
}
