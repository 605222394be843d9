//! EC2: security groups, VPCs with their flow logs, instances and the creation dates of the AMIs
//! they run, the EBS encryption default and the account's own EBS snapshots of one region.

use super::{call, call_or_absent, pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{EbsSnapshot, FlowLog, Instance, Need, Permission, SecurityGroup, Vpc};
use aws_sdk_ec2::types::IpPermission;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<SecurityGroup>>> {
    if !wants(needs, &[Need::Ec2SecurityGroups]) {
        return None;
    }
    let ec2 = aws_sdk_ec2::Client::new(&c.in_region(region));
    let stream = ec2.describe_security_groups().into_paginator().send();
    let result = pages(
        c.recorder,
        "ec2",
        "DescribeSecurityGroups",
        Some(region),
        stream,
    )
    .await
    .map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.security_groups())
            .map(|g| {
                let id = g.group_id().unwrap_or_default().to_owned();
                SecurityGroup {
                    arn: g
                        .security_group_arn()
                        .map(str::to_owned)
                        .unwrap_or_else(|| {
                            format!("arn:aws:ec2:{region}:{}:security-group/{id}", c.account_id)
                        }),
                    id,
                    name: g.group_name().unwrap_or_default().to_owned(),
                    vpc_id: g.vpc_id().map(str::to_owned),
                    ingress: g.ip_permissions().iter().map(permission).collect(),
                    egress: g.ip_permissions_egress().iter().map(permission).collect(),
                }
            })
            .collect()
    });
    Some(result)
}

fn permission(p: &IpPermission) -> Permission {
    Permission {
        protocol: p.ip_protocol().unwrap_or("-1").to_owned(),
        from_port: p.from_port(),
        to_port: p.to_port(),
        ipv4_ranges: p
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip().map(str::to_owned))
            .collect(),
        ipv6_ranges: p
            .ipv6_ranges()
            .iter()
            .filter_map(|r| r.cidr_ipv6().map(str::to_owned))
            .collect(),
    }
}

/// The VPCs of one region, each with the flow logs whose resource is the VPC.
pub(super) async fn vpcs(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<Vpc>>> {
    if !wants(needs, &[Need::Ec2VpcFlowLogs]) {
        return None;
    }
    let ec2 = aws_sdk_ec2::Client::new(&c.in_region(region));
    let (vpcs, logs) = tokio::join!(
        pages(
            c.recorder,
            "ec2",
            "DescribeVpcs",
            Some(region),
            ec2.describe_vpcs().into_paginator().send(),
        ),
        pages(
            c.recorder,
            "ec2",
            "DescribeFlowLogs",
            Some(region),
            ec2.describe_flow_logs().into_paginator().send(),
        )
    );
    let (vpcs, logs) = match (vpcs, logs) {
        (Ok(v), Ok(l)) => (v, l),
        (Err(e), _) | (_, Err(e)) => return Some(Err(e)),
    };
    let logs: Vec<_> = logs.iter().flat_map(|p| p.flow_logs()).collect();
    Some(Ok(vpcs
        .iter()
        .flat_map(|p| p.vpcs())
        .map(|v| {
            let id = v.vpc_id().unwrap_or_default().to_owned();
            Vpc {
                arn: format!("arn:aws:ec2:{region}:{}:vpc/{id}", c.account_id),
                is_default: v.is_default().unwrap_or(false),
                flow_logs: logs
                    .iter()
                    .filter(|l| l.resource_id() == Some(id.as_str()))
                    .map(|l| FlowLog {
                        id: l.flow_log_id().unwrap_or_default().to_owned(),
                        status: l.flow_log_status().unwrap_or_default().to_owned(),
                        traffic_type: l
                            .traffic_type()
                            .map(|t| t.as_str().to_owned())
                            .unwrap_or_default(),
                        deliver_status: l.deliver_logs_status().map(str::to_owned),
                        deliver_error: l.deliver_logs_error_message().map(str::to_owned),
                    })
                    .collect(),
                id,
            }
        })
        .collect()))
}

/// The instances of one region with their metadata options.
pub(super) async fn instances(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<Instance>>> {
    if !wants(needs, &[Need::Ec2Instances]) {
        return None;
    }
    let ec2 = aws_sdk_ec2::Client::new(&c.in_region(region));
    let listing = pages(
        c.recorder,
        "ec2",
        "DescribeInstances",
        Some(region),
        ec2.describe_instances().into_paginator().send(),
    )
    .await;
    Some(listing.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.reservations())
            .flat_map(|r| r.instances())
            .map(|i| {
                let id = i.instance_id().unwrap_or_default().to_owned();
                let meta = i.metadata_options();
                Instance {
                    arn: format!("arn:aws:ec2:{region}:{}:instance/{id}", c.account_id),
                    id,
                    state: i
                        .state()
                        .and_then(|s| s.name())
                        .map(|n| n.as_str().to_owned())
                        .unwrap_or_default(),
                    http_tokens: meta
                        .and_then(|m| m.http_tokens())
                        .map(|t| t.as_str().to_owned()),
                    http_endpoint: meta
                        .and_then(|m| m.http_endpoint())
                        .map(|t| t.as_str().to_owned()),
                    image_id: i.image_id().map(str::to_owned),
                    launch_time: i.launch_time().and_then(utc),
                }
            })
            .collect()
    }))
}

/// At most this many AMI ids per `DescribeImages` call (kept well under AWS's request size).
const IMAGE_BATCH: usize = 100;

/// When each AMI that a running instance of the region runs was created (`DescribeImages` with
/// the AMI ids, deprecated and disabled ones included), by AMI id; `Ok(None)` for an AMI that
/// EC2 no longer returns. A batch that EC2 refuses as a whole because one of its AMIs is gone
/// (`InvalidAMIID.NotFound`) is asked again one AMI at a time.
pub(super) async fn instance_images(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
    instances: Option<&Fact<Vec<Instance>>>,
) -> Option<Fact<BTreeMap<String, Fact<Option<DateTime<Utc>>>>>> {
    if !wants(needs, &[Need::Ec2InstanceImages]) {
        return None;
    }
    let instances = match instances? {
        Err(e) => return Some(Err(e.clone())),
        Ok(i) => i,
    };
    let ids: BTreeSet<String> = instances
        .iter()
        .filter(|i| i.state == "running")
        .filter_map(|i| i.image_id.clone())
        .collect();
    let ids: Vec<String> = ids.into_iter().collect();
    let ec2 = aws_sdk_ec2::Client::new(&c.in_region(region));
    let describe = |batch: Vec<String>| {
        let ec2 = &ec2;
        async move {
            call_or_absent(
                c.recorder,
                "ec2",
                "DescribeImages",
                Some(region),
                &["InvalidAMIID.NotFound"],
                ec2.describe_images()
                    .set_image_ids(Some(batch))
                    .include_deprecated(true)
                    .include_disabled(true)
                    .send(),
            )
            .await
            .map(|o| {
                o.map(|o| {
                    o.images()
                        .iter()
                        .filter_map(|i| Some((i.image_id()?.to_owned(), i.creation_date())))
                        .map(|(id, d)| (id, d.and_then(ami_date)))
                        .collect::<BTreeMap<_, _>>()
                })
            })
        }
    };
    let mut dates = BTreeMap::new();
    for batch in ids.chunks(IMAGE_BATCH) {
        match describe(batch.to_vec()).await {
            Err(e) => dates.extend(batch.iter().map(|id| (id.clone(), Err(e.clone())))),
            Ok(Some(found)) => {
                for id in batch {
                    let date = found.get(id).copied().flatten();
                    dates.insert(id.clone(), Ok(date));
                }
            }
            // One AMI of the batch is gone: ask for each on its own.
            Ok(None) => {
                for id in batch {
                    let one = describe(vec![id.clone()]).await;
                    let date = one.map(|o| o.and_then(|f| f.get(id).copied().flatten()));
                    dates.insert(id.clone(), date);
                }
            }
        }
    }
    Some(Ok(dates))
}

/// An AMI's `CreationDate` (ISO 8601, e.g. `2024-05-01T12:34:56.000Z`).
fn ami_date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn utc(t: &aws_sdk_ec2::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// Whether new EBS volumes of one region are encrypted by default.
pub(super) async fn ebs_encryption_by_default(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<bool>> {
    if !wants(needs, &[Need::Ec2EbsDefaultEncryption]) {
        return None;
    }
    let ec2 = aws_sdk_ec2::Client::new(&c.in_region(region));
    let out = call(
        c.recorder,
        "ec2",
        "GetEbsEncryptionByDefault",
        Some(region),
        ec2.get_ebs_encryption_by_default().send(),
    )
    .await;
    Some(out.map(|o| o.ebs_encryption_by_default().unwrap_or(false)))
}

/// The EBS snapshots the account owns in one region, and which of them everyone may restore: two
/// listings (`OwnerIds` `self`, then also `RestorableByUserIds` `all`), no per-snapshot call.
pub(super) async fn ebs_snapshots(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<EbsSnapshot>>> {
    if !wants(needs, &[Need::Ec2EbsSnapshots]) {
        return None;
    }
    let ec2 = aws_sdk_ec2::Client::new(&c.in_region(region));
    let (own, public) = tokio::join!(
        pages(
            c.recorder,
            "ec2",
            "DescribeSnapshots",
            Some(region),
            ec2.describe_snapshots()
                .owner_ids("self")
                .into_paginator()
                .send(),
        ),
        pages(
            c.recorder,
            "ec2",
            "DescribeSnapshots",
            Some(region),
            ec2.describe_snapshots()
                .owner_ids("self")
                .restorable_by_user_ids("all")
                .into_paginator()
                .send(),
        )
    );
    // Only the account's own snapshots are judged (the owner filter asks for them; any other
    // owner's snapshot in an answer is not the account's to fix).
    let ids = |pages: &[aws_sdk_ec2::operation::describe_snapshots::DescribeSnapshotsOutput]| {
        pages
            .iter()
            .flat_map(|p| p.snapshots())
            .filter(|s| s.owner_id() == Some(c.account_id))
            .filter_map(|s| s.snapshot_id().map(str::to_owned))
            .collect::<Vec<String>>()
    };
    let own = match own {
        Ok(p) => ids(&p),
        Err(e) => return Some(Err(e)),
    };
    let public: BTreeSet<String> = match public {
        Ok(p) => ids(&p).into_iter().collect(),
        Err(e) => return Some(Err(e)),
    };
    let partition = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    Some(Ok(own
        .into_iter()
        .map(|id| EbsSnapshot {
            arn: format!("arn:{partition}:ec2:{region}::snapshot/{id}"),
            public: public.contains(&id),
            id,
        })
        .collect()))
}
