//! The typed facts of one account, as the collectors read them and the checks judge them.
//!
//! Every field is a [`Fact`]: either what AWS answered or the error that stands in for it. Facts that
//! no enabled check needs stay `Err(NotCollected)`; [`Need`] says which facts a check reads, so the
//! collectors read exactly those.

use crate::facts::{Fact, FactError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// A group of facts a check can ask for. Each need names the API operations that read it and the
/// IAM actions those operations require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Need {
    /// IAM `GetAccountSummary`: root MFA and root access keys.
    IamAccountSummary,
    /// IAM `GenerateCredentialReport` + `GetCredentialReport`: per-user password, MFA, keys.
    IamCredentialReport,
    /// IAM `GetAccountAuthorizationDetails`: users, groups, roles and policies with their documents.
    IamAuthorizationDetails,
    /// S3 `ListBuckets` (+ `GetBucketLocation` where the listing lacks the region).
    S3Buckets,
    /// S3 `GetBucketEncryption` per bucket.
    S3BucketEncryption,
    /// S3 `GetPublicAccessBlock` per bucket.
    S3BucketPublicAccessBlock,
    /// CloudTrail `DescribeTrails` + `GetTrailStatus` per region.
    CloudTrailTrails,
    /// EC2 `DescribeSecurityGroups` per region.
    Ec2SecurityGroups,
    /// ELBv2 `DescribeLoadBalancers` + `DescribeListeners` (+ `DescribeRules` on HTTP listeners).
    Elbv2Listeners,
    /// RDS `DescribeDBInstances` per region.
    RdsInstances,
}

/// One AWS operation a need makes, with the IAM action it requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Operation {
    pub service: &'static str,
    pub operation: &'static str,
    pub iam_action: &'static str,
}

/// An [`Operation`] literal (a struct literal, so that slices of them are promoted to `'static`).
macro_rules! op {
    ($service:expr, $operation:expr, $action:expr) => {
        Operation {
            service: $service,
            operation: $operation,
            iam_action: $action,
        }
    };
}

impl Need {
    /// The operations this need calls. The collectors call nothing else (tested per collector).
    pub fn operations(self) -> &'static [Operation] {
        match self {
            Need::IamAccountSummary => &[op!("iam", "GetAccountSummary", "iam:GetAccountSummary")],
            Need::IamCredentialReport => &[
                op!(
                    "iam",
                    "GenerateCredentialReport",
                    "iam:GenerateCredentialReport"
                ),
                op!("iam", "GetCredentialReport", "iam:GetCredentialReport"),
            ],
            Need::IamAuthorizationDetails => &[op!(
                "iam",
                "GetAccountAuthorizationDetails",
                "iam:GetAccountAuthorizationDetails"
            )],
            Need::S3Buckets => &[
                op!("s3", "ListBuckets", "s3:ListAllMyBuckets"),
                op!("s3", "GetBucketLocation", "s3:GetBucketLocation"),
            ],
            Need::S3BucketEncryption => &[op!(
                "s3",
                "GetBucketEncryption",
                "s3:GetEncryptionConfiguration"
            )],
            Need::S3BucketPublicAccessBlock => &[op!(
                "s3",
                "GetPublicAccessBlock",
                "s3:GetBucketPublicAccessBlock"
            )],
            Need::CloudTrailTrails => &[
                op!("cloudtrail", "DescribeTrails", "cloudtrail:DescribeTrails"),
                op!("cloudtrail", "GetTrailStatus", "cloudtrail:GetTrailStatus"),
            ],
            Need::Ec2SecurityGroups => &[op!(
                "ec2",
                "DescribeSecurityGroups",
                "ec2:DescribeSecurityGroups"
            )],
            Need::Elbv2Listeners => &[
                op!(
                    "elasticloadbalancing",
                    "DescribeLoadBalancers",
                    "elasticloadbalancing:DescribeLoadBalancers"
                ),
                op!(
                    "elasticloadbalancing",
                    "DescribeListeners",
                    "elasticloadbalancing:DescribeListeners"
                ),
                op!(
                    "elasticloadbalancing",
                    "DescribeRules",
                    "elasticloadbalancing:DescribeRules"
                ),
            ],
            Need::RdsInstances => &[op!("rds", "DescribeDBInstances", "rds:DescribeDBInstances")],
        }
    }

    /// Needs that this need cannot be read without (per-bucket facts need the bucket list).
    pub fn requires(self) -> &'static [Need] {
        match self {
            Need::S3BucketEncryption | Need::S3BucketPublicAccessBlock => &[Need::S3Buckets],
            _ => &[],
        }
    }
}

/// Everything read about one account in one run.
#[derive(Debug, Clone, Serialize)]
pub struct AccountSnapshot {
    pub account_id: String,
    /// The regions audited, in config order.
    pub regions: Vec<String>,
    pub iam: IamFacts,
    pub s3: S3Facts,
    /// CloudTrail trails seen from every audited region, deduplicated by ARN.
    pub cloudtrail: Fact<CloudTrailFacts>,
    /// Regional facts, keyed by region; every audited region has an entry.
    pub regional: BTreeMap<String, RegionFacts>,
}

impl AccountSnapshot {
    /// An empty snapshot in which every fact is `NotCollected`.
    pub fn new(account_id: &str, regions: &[String]) -> Self {
        AccountSnapshot {
            account_id: account_id.to_owned(),
            regions: regions.to_vec(),
            iam: IamFacts::default(),
            s3: S3Facts::default(),
            cloudtrail: Err(FactError::not_collected("cloudtrail", "DescribeTrails")),
            regional: regions
                .iter()
                .map(|r| (r.clone(), RegionFacts::default()))
                .collect(),
        }
    }

    /// The account as a resource name, for account-level verdicts.
    pub fn account_resource(&self) -> String {
        format!("account {}", self.account_id)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct IamFacts {
    pub account_summary: Fact<AccountSummary>,
    pub credential_report: Fact<Vec<CredentialReportRow>>,
    pub authorization: Fact<AuthorizationDetails>,
}

impl Default for IamFacts {
    fn default() -> Self {
        IamFacts {
            account_summary: Err(FactError::not_collected("iam", "GetAccountSummary")),
            credential_report: Err(FactError::not_collected("iam", "GetCredentialReport")),
            authorization: Err(FactError::not_collected(
                "iam",
                "GetAccountAuthorizationDetails",
            )),
        }
    }
}

/// The root-related counters of IAM `GetAccountSummary`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountSummary {
    pub account_mfa_enabled: bool,
    pub account_access_keys_present: bool,
}

/// One row of the IAM credential report. The `<root_account>` row has `is_root` set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CredentialReportRow {
    pub user: String,
    pub arn: String,
    pub is_root: bool,
    pub password_enabled: bool,
    pub mfa_active: bool,
    pub password_last_used: Option<DateTime<Utc>>,
    pub access_key_1_active: bool,
    pub access_key_1_last_rotated: Option<DateTime<Utc>>,
    pub access_key_2_active: bool,
    pub access_key_2_last_rotated: Option<DateTime<Utc>>,
}

/// IAM principals and customer-managed policies with their documents (as JSON text).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuthorizationDetails {
    pub users: Vec<IamUser>,
    pub groups: Vec<IamGroup>,
    pub roles: Vec<IamRole>,
    /// Managed policies (customer-managed always; AWS-managed ones only when attached).
    pub policies: Vec<ManagedPolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IamUser {
    pub name: String,
    pub arn: String,
    pub groups: Vec<String>,
    pub attached_policy_arns: Vec<String>,
    pub inline_policies: Vec<InlinePolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IamGroup {
    pub name: String,
    pub arn: String,
    pub attached_policy_arns: Vec<String>,
    pub inline_policies: Vec<InlinePolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IamRole {
    pub name: String,
    pub arn: String,
    pub trust_policy: Option<String>,
    pub attached_policy_arns: Vec<String>,
    pub inline_policies: Vec<InlinePolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InlinePolicy {
    pub name: String,
    pub document: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ManagedPolicy {
    pub name: String,
    pub arn: String,
    /// True for policies the account created (ARN in the account, not `arn:aws:iam::aws:policy/…`).
    pub customer_managed: bool,
    pub attachment_count: i32,
    /// The default version's document; `None` if the listing did not include it.
    pub default_document: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct S3Facts {
    pub buckets: Fact<Vec<Bucket>>,
}

impl Default for S3Facts {
    fn default() -> Self {
        S3Facts {
            buckets: Err(FactError::not_collected("s3", "ListBuckets")),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    pub name: String,
    /// The bucket's region (from the listing or `GetBucketLocation`).
    pub region: Fact<String>,
    /// Default encryption; `Ok(None)` when the bucket has no configuration.
    pub encryption: Fact<Option<BucketEncryption>>,
    /// Bucket-level public access block; `Ok(None)` when none is set.
    pub public_access_block: Fact<Option<PublicAccessBlock>>,
}

impl Bucket {
    pub fn new(name: &str) -> Self {
        Bucket {
            name: name.to_owned(),
            region: Err(FactError::not_collected("s3", "GetBucketLocation")),
            encryption: Err(FactError::not_collected("s3", "GetBucketEncryption")),
            public_access_block: Err(FactError::not_collected("s3", "GetPublicAccessBlock")),
        }
    }
    pub fn arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.name)
    }
    /// The region if it is known, for a verdict.
    pub fn region_name(&self) -> Option<&str> {
        self.region.as_ref().ok().map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BucketEncryption {
    /// `AES256`, `aws:kms` or `aws:kms:dsse` of the first rule.
    pub algorithm: String,
    pub kms_key_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    pub fn all_blocked(&self) -> bool {
        self.block_public_acls
            && self.ignore_public_acls
            && self.block_public_policy
            && self.restrict_public_buckets
    }
    /// The names of the settings that are off, for a reason.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut m = Vec::new();
        if !self.block_public_acls {
            m.push("BlockPublicAcls");
        }
        if !self.ignore_public_acls {
            m.push("IgnorePublicAcls");
        }
        if !self.block_public_policy {
            m.push("BlockPublicPolicy");
        }
        if !self.restrict_public_buckets {
            m.push("RestrictPublicBuckets");
        }
        m
    }
}

/// Facts of one region.
#[derive(Debug, Clone, Serialize)]
pub struct RegionFacts {
    pub security_groups: Fact<Vec<SecurityGroup>>,
    pub load_balancers: Fact<Vec<LoadBalancer>>,
    pub db_instances: Fact<Vec<DbInstance>>,
}

impl Default for RegionFacts {
    fn default() -> Self {
        RegionFacts {
            security_groups: Err(FactError::not_collected("ec2", "DescribeSecurityGroups")),
            load_balancers: Err(FactError::not_collected(
                "elasticloadbalancing",
                "DescribeLoadBalancers",
            )),
            db_instances: Err(FactError::not_collected("rds", "DescribeDBInstances")),
        }
    }
}

/// The trails an account can see (its own, and organization trails that log it), each once.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CloudTrailFacts {
    pub trails: Vec<Trail>,
    /// Regions whose `DescribeTrails` failed: a trail may hide there.
    pub listing_errors: Vec<FactError>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    pub home_region: String,
    pub multi_region: bool,
    pub organization_trail: bool,
    pub s3_bucket: Option<String>,
    pub kms_key_id: Option<String>,
    pub log_file_validation: bool,
    /// `GetTrailStatus` IsLogging.
    pub is_logging: Fact<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub vpc_id: Option<String>,
    pub arn: String,
    pub ingress: Vec<Permission>,
    pub egress: Vec<Permission>,
}

/// One IP permission of a security group, with its CIDR sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Permission {
    /// `tcp`, `udp`, `icmp`, `-1` (all) or a protocol number.
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub ipv4_ranges: Vec<String>,
    pub ipv6_ranges: Vec<String>,
}

impl Permission {
    /// Whether this permission opens `port` over TCP (a port range, or all protocols).
    pub fn opens_tcp_port(&self, port: u16) -> bool {
        let port = i32::from(port);
        match self.protocol.as_str() {
            "-1" | "all" => true,
            "tcp" | "6" => match (self.from_port, self.to_port) {
                (Some(from), Some(to)) => (from == -1 && to == -1) || (from <= port && port <= to),
                _ => true,
            },
            _ => false,
        }
    }

    /// The world-open sources (`0.0.0.0/0`, `::/0`) of this permission.
    pub fn world_sources(&self) -> Vec<&str> {
        self.ipv4_ranges
            .iter()
            .chain(self.ipv6_ranges.iter())
            .map(String::as_str)
            .filter(|c| *c == "0.0.0.0/0" || *c == "::/0")
            .collect()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadBalancer {
    pub arn: String,
    pub name: String,
    /// `application`, `network` or `gateway`.
    pub kind: String,
    /// `internet-facing` or `internal`.
    pub scheme: String,
    pub listeners: Fact<Vec<Listener>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Listener {
    pub arn: String,
    pub port: Option<i32>,
    /// `HTTP`, `HTTPS`, `TCP`, `TLS`, `UDP`, `TCP_UDP`, `GENEVE`.
    pub protocol: String,
    pub ssl_policy: Option<String>,
    pub default_actions: Vec<ListenerAction>,
    /// The listener's rules (read for HTTP listeners only; `NotCollected` for the others).
    pub rules: Fact<Vec<ListenerRule>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListenerAction {
    /// `forward`, `redirect`, `fixed-response`, `authenticate-oidc`, …
    pub kind: String,
    /// For redirects: the target protocol (`HTTPS`, `HTTP` or `#{protocol}`).
    pub redirect_protocol: Option<String>,
}

impl ListenerAction {
    pub fn redirects_to_https(&self) -> bool {
        self.kind == "redirect" && self.redirect_protocol.as_deref() == Some("HTTPS")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListenerRule {
    pub arn: String,
    pub is_default: bool,
    pub actions: Vec<ListenerAction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DbInstance {
    pub id: String,
    pub arn: String,
    pub engine: String,
    pub backup_retention_days: i32,
    pub storage_encrypted: bool,
}
