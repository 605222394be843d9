//! The demo organization, built through the real AWS SDK against an emulator (moto behind the
//! [`crate::shim`]): a management account that creates an organization (and administers
//! Amazon Detective, with production alone in its behavior graphs), three audited member
//! accounts of distinct maturity, each seeded through STS AssumeRole into
//! `OrganizationAccountAccessRole` as a platform team would, and a security account (not audited)
//! that administers GuardDuty and Security Hub for the organization.
//!
//! | account    | what it has                                                                     |
//! |------------|---------------------------------------------------------------------------------|
//! | production | `Environment=production`; a CIS password policy, console users with MFA, scoped  |
//! |            | policies, an external-access analyzer, an organization trail (multi-region,      |
//! |            | logging, KMS-encrypted with a rotated key), encrypted, blocked, versioned buckets|
//! |            | whose policies deny plain HTTP, the account-level public access block, EBS       |
//! |            | encryption by default, AWS Config recording everything, flow logs on every VPC,  |
//! |            | a cost budget with a notification, a root-usage metric filter and an alarm that  |
//! |            | notifies SNS, a CloudWatch dashboard, a Route 53 health check, a CloudFormation  |
//! |            | stack checked for drift, an AWS FIS experiment run, a cost anomaly monitor that  |
//! |            | emails its alerts, a nightly Image Builder pipeline, GuardDuty (malware          |
//! |            | protection and runtime monitoring) and Security Hub with its default standards, |
//! |            | a backup                                                                         |
//! |            | plan selecting tagged resources, a DynamoDB table with point-in-time recovery,   |
//! |            | an instance requiring IMDSv2, a task running an image pushed now, a rotated      |
//! |            | secret, an ALB that redirects HTTP to                                            |
//! |            | HTTPS and serves TLS 1.2+ with security headers to an HTTPS target group behind a|
//! |            | WAFv2 web ACL enforcing managed rule groups and a rate limit, RDS                |
//! |            | encrypted with 14 days of backups, security groups open only on 443 with         |
//! |            | HTTPS-only egress, closed default security groups — in both regions where        |
//! |            | regional                                                                         |
//! | legacy     | `Environment=production,staging` (wrong: two environments); no password policy, |
//! |            | a console user without MFA, a `*`-on-`*` policy attached to a user, a role       |
//! |            | anyone may assume, no analyzer, no trail, an unencrypted open bucket with        |
//! |            | versioning suspended, an ALB serving plain HTTP to an HTTP target group and      |
//! |            | TLS 1.0 on HTTPS, without a web ACL, a CloudFront distribution allowing HTTP,    |
//! |            | unencrypted RDS with 1 day of backups, a table without point-in-time recovery,   |
//! |            | an instance accepting IMDSv1, an unrotated secret and KMS key, SSH open, a cost  |
//! |            | budget, AWS Config in the first region only, a disabled health check and a       |
//! |            | canary never started, a CloudFormation stack never checked for drift, an FIS      |
//! |            | experiment template never run, a cost anomaly monitor nobody is alerted by, a    |
//! |            | weekly Image Builder pipeline                                                    |
//! | sandbox    | `Environment=sandbox`; no password policy, an admin user without MFA also holding|
//! |            | all of S3 and one with MFA, an analyzer in the first region only, a logging multi-region trail    |
//! |            | without log file validation or KMS, encrypted, blocked, versioned buckets without|
//! |            | TLS-only policies, Security Hub without standards, a root-usage alarm notifying  |
//! |            | nobody, a backup plan selecting nothing, no load balancer, no database, closed   |
//! |            | groups but open default groups                                                   |
//!
//! The expected levels of each account are in [`DemoAccount::expected_levels`].

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_s3control::config::endpoint::{Endpoint, EndpointFuture, Params, ResolveEndpoint};
use std::error::Error;

/// S3 Control against the emulator: the configured endpoint as is, without the account-id host
/// prefix that cannot resolve on an IP endpoint (as the agent's collector does).
#[derive(Debug)]
struct EndpointAsConfigured(String);

impl ResolveEndpoint for EndpointAsConfigured {
    fn resolve_endpoint<'a>(&'a self, _: &'a Params) -> EndpointFuture<'a> {
        EndpointFuture::ready(Ok(Endpoint::builder().url(self.0.clone()).build()))
    }
}

pub type SeedResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// The role the agent assumes in every member account, and its external id.
pub const AUDIT_ROLE: &str = "maturity-agent-audit";
pub const EXTERNAL_ID: &str = "maturity-demo";
/// The demo's regions: the first holds most resources, the second proves regional collection.
pub const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// The maturity profile an account is seeded with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Production,
    Legacy,
    Sandbox,
}

impl Profile {
    pub const ALL: [Profile; 3] = [Profile::Production, Profile::Legacy, Profile::Sandbox];
    pub fn name(self) -> &'static str {
        match self {
            Profile::Production => "production",
            Profile::Legacy => "legacy",
            Profile::Sandbox => "sandbox",
        }
    }
    /// The account's `Environment` tag in Organizations. The legacy account's is deliberately wrong:
    /// it serves production and staging at once.
    pub fn environment(self) -> &'static str {
        match self {
            Profile::Production => "production",
            Profile::Legacy => "production,staging",
            Profile::Sandbox => "sandbox",
        }
    }
}

#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub profile: Profile,
    pub id: String,
    pub name: String,
    pub role_arn: String,
}

impl DemoAccount {
    /// The practice levels the profile is built to reach with the demo config (root MFA disabled),
    /// and the account level. Every level is confirmed: against moto behind the shim no check of
    /// the demo is unknown.
    pub fn expected_levels(&self) -> (Vec<(&'static str, u8)>, u8) {
        match self.profile {
            // Backups stops at level 2, the highest of its checks; logging reaches 3 (every change
            // recorded: the trail and AWS Config in both regions).
            Profile::Production => (
                vec![
                    ("identity", 5),
                    // No escalation path, no foreign trust, no unused role: level 5.
                    ("least_privilege", 5),
                    ("edge_encryption", 3),
                    ("backups", 2),
                    ("logging", 3),
                    // A dashboard; scanned images and instances, patched, malware protection,
                    // runtime monitoring and its events in the organization's Detective graphs:
                    // level 5.
                    ("monitoring", 5),
                    // The web ACL goes beyond the baseline (WAF medium): level 4.
                    ("network", 4),
                    ("data_protection", 3),
                    // Pinned images, secrets from the store, CodeDeploy's watched canary
                    // blue/green deployment: level 5.
                    ("environments", 5),
                ],
                2,
            ),
            // Only the cost budget is in place; its cluster runs without Container Insights, so
            // monitoring stays below level 1.
            Profile::Legacy => (
                vec![
                    ("identity", 0),
                    ("least_privilege", 0),
                    ("edge_encryption", 0),
                    ("backups", 0),
                    ("logging", 0),
                    ("monitoring", 0),
                    ("network", 0),
                    ("data_protection", 0),
                    ("environments", 0),
                ],
                0,
            ),
            // Trust policies are sound (least_privilege 1, the analyzer misses a region) and the
            // environment is separated and administered from the security account.
            Profile::Sandbox => (
                vec![
                    ("identity", 0),
                    ("least_privilege", 1),
                    ("edge_encryption", 0),
                    ("backups", 0),
                    ("logging", 0),
                    ("monitoring", 0),
                    ("network", 0),
                    ("data_protection", 0),
                    // Separated and administered from the security account (level 2); it runs
                    // no containers, so the build and deployment checks above have nothing to
                    // judge, and a level without evidence is not reached.
                    ("environments", 2),
                ],
                0,
            ),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DemoOrg {
    pub endpoint: String,
    pub management_account_id: String,
    /// The delegated administrator of GuardDuty (tagged `Environment=security`; not audited).
    pub security_account_id: String,
    pub accounts: Vec<DemoAccount>,
}

impl DemoOrg {
    pub fn account(&self, p: Profile) -> &DemoAccount {
        self.accounts
            .iter()
            .find(|a| a.profile == p)
            .expect("every profile is seeded")
    }

    /// The agent config that audits the demo organization through the emulator.
    pub fn config_toml(&self) -> String {
        let mut s = format!(
            "# Generated by seed-demo for the emulated demo organization.\n\
             [aws]\nregions = [\"{}\", \"{}\"]\nendpoint_url = \"{}\"\ncall_timeout_seconds = 20\nmax_attempts = 3\n\n\
             [audit]\nmax_concurrent_accounts = 3\naccount_timeout_seconds = 300\n\n",
            REGIONS[0], REGIONS[1], self.endpoint
        );
        for a in &self.accounts {
            s += &format!(
                "[[accounts]]\nid = \"{}\"\nname = \"{}\"\nrole_arn = \"{}\"\nexternal_id = \"{EXTERNAL_ID}\"\n\n",
                a.id, a.name, a.role_arn
            );
        }
        s += "[checks]\n\
              # moto always reports AccountMFAEnabled = 0 for the root user and the demo organization\n\
              # leaves centralized root access off, so this check fails everywhere here; demo_audit\n\
              # proves it both ways (it enables centralized root access).\n\
              disabled = [\"iam_root_mfa_enabled\"]\n";
        s
    }
}

/// SDK config for the emulator with the management account's static credentials.
pub async fn management_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGIONS[0]))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "seed"))
        .load()
        .await
}

/// SDK config for a member account, through `OrganizationAccountAccessRole`.
pub async fn member_config(mgmt: &SdkConfig, account_id: &str) -> SeedResult<SdkConfig> {
    let out = aws_sdk_sts::Client::new(mgmt)
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole"
        ))
        .role_session_name("seed-demo")
        .send()
        .await?;
    let c = out
        .credentials()
        .ok_or("AssumeRole returned no credentials")?;
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "seed",
    );
    Ok(mgmt
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build())
}

pub fn in_region(cfg: &SdkConfig, region: &str) -> SdkConfig {
    cfg.to_builder()
        .region(Region::new(region.to_owned()))
        .build()
}

/// Creates an organization of the management account `mgmt` with one member account `name`
/// (tagged `Environment=environment` when given); returns the member's id.
pub async fn organization_with_member(
    mgmt: &SdkConfig,
    name: &str,
    environment: Option<&str>,
) -> SeedResult<String> {
    use aws_sdk_organizations::types::{OrganizationFeatureSet, Tag};
    let org = aws_sdk_organizations::Client::new(mgmt);
    org.create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await?;
    let mut req = org
        .create_account()
        .email(format!("aws+{name}@example.com"))
        .account_name(name);
    if let Some(env) = environment {
        req = req.tags(Tag::builder().key("Environment").value(env).build()?);
    }
    let out = req.send().await?;
    Ok(out
        .create_account_status()
        .and_then(|s| s.account_id())
        .ok_or("account creation gave no id")?
        .to_owned())
}

/// Creates the organization and its member accounts, and seeds each account.
///
/// The seeding runs on a thread of its own with a large stack: in debug builds some SDK
/// deserializers (RDS `CreateDBInstance`'s `DBInstance`) take so much stack that, under the poll
/// chain of the seeding, they overflowed a test thread's 2 MiB.
pub async fn seed_demo(endpoint: &str) -> SeedResult<DemoOrg> {
    let endpoint = endpoint.to_owned();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("seed-demo".into())
        .stack_size(64 << 20)
        .spawn(move || {
            let seeded = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| -> Box<dyn Error + Send + Sync> { Box::new(e) })
                .and_then(|rt| rt.block_on(seed_demo_here(&endpoint)));
            let _ = tx.send(seeded);
        })?;
    rx.await
        .map_err(|_| "the seeding thread ended without an answer")?
}

async fn seed_demo_here(endpoint: &str) -> SeedResult<DemoOrg> {
    use aws_sdk_organizations::types::{OrganizationFeatureSet, Tag};
    let mgmt = management_config(endpoint).await;
    let who = aws_sdk_sts::Client::new(&mgmt)
        .get_caller_identity()
        .send()
        .await?;
    let management_account_id = who.account().ok_or("no caller account")?.to_owned();
    let org = aws_sdk_organizations::Client::new(&mgmt);
    org.create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await?;
    let mut accounts = Vec::new();
    let create = |name: &'static str, env: &'static str| {
        let org = &org;
        async move {
            let out = org
                .create_account()
                .email(format!("aws+{name}@example.com"))
                .account_name(name)
                .tags(Tag::builder().key("Environment").value(env).build()?)
                .send()
                .await?;
            let id = out
                .create_account_status()
                .and_then(|s| s.account_id())
                .ok_or("account creation gave no id")?;
            SeedResult::Ok(id.to_owned())
        }
    };
    for p in Profile::ALL {
        let id = create(p.name(), p.environment()).await?;
        accounts.push(DemoAccount {
            profile: p,
            role_arn: format!("arn:aws:iam::{id}:role/{AUDIT_ROLE}"),
            id,
            name: p.name().to_owned(),
        });
    }
    // The security account administers GuardDuty and Security Hub for the organization; it is not
    // audited. Security Hub's delegation is registered by its own EnableOrganizationAdminAccount,
    // which Organizations then lists (the shim adds what moto 5.2.5 does not register).
    let security_account_id = create("security", "security").await?;
    org.register_delegated_administrator()
        .account_id(&security_account_id)
        .service_principal("guardduty.amazonaws.com")
        .send()
        .await?;
    aws_sdk_securityhub::Client::new(&mgmt)
        .enable_organization_admin_account()
        .admin_account_id(&security_account_id)
        .send()
        .await?;
    // The security account is also the monitoring account of CloudWatch's cross-account
    // observability (a sink in each region) and receives the logs of accounts that ship them.
    let sinks = monitoring_sinks(&member_config(&mgmt, &security_account_id).await?).await?;
    // The management account administers Amazon Detective for the organization (it is read with
    // the agent's own credentials): production is enabled in its behavior graph of each region,
    // legacy and sandbox are left out.
    for region in REGIONS {
        let detective = aws_sdk_detective::Client::new(&in_region(&mgmt, region));
        let graph = detective.create_graph().send().await?;
        let graph = graph.graph_arn().ok_or("CreateGraph gave no ARN")?;
        for a in accounts.iter().filter(|a| a.profile == Profile::Production) {
            detective
                .create_members()
                .graph_arn(graph)
                .accounts(
                    aws_sdk_detective::types::Account::builder()
                        .account_id(&a.id)
                        .email_address(format!("aws+{}@example.com", a.name))
                        .build()?,
                )
                .send()
                .await?;
        }
    }
    for a in &accounts {
        let cfg = member_config(&mgmt, &a.id).await?;
        audit_role(&cfg, &management_account_id).await?;
        match a.profile {
            Profile::Production => production(&cfg, &a.id, &security_account_id, &sinks).await?,
            Profile::Legacy => legacy(&cfg, &a.id).await?,
            Profile::Sandbox => sandbox(&cfg, &a.id).await?,
        }
    }
    Ok(DemoOrg {
        endpoint: endpoint.to_owned(),
        management_account_id,
        security_account_id,
        accounts,
    })
}

/// The read-only role the agent assumes, trusting the management account with the external id.
pub async fn audit_role(cfg: &SdkConfig, trusted_account: &str) -> SeedResult<()> {
    // The read actions of every check's declared facts (moto ships no AWS-managed policies to attach).
    let mut actions: Vec<&str> =
        maturity_checks::catalog::needs_of(maturity_checks::catalog::CATALOG)
            .into_iter()
            .flat_map(|n| n.operations().iter().map(|o| o.iam_action))
            .collect();
    actions.sort_unstable();
    actions.dedup();
    let read = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]});
    role_with_policy(cfg, AUDIT_ROLE, trusted_account, &read).await?;
    Ok(())
}

/// Creates role `name` trusting `trusted_account` with the demo's external id, holding `policy` as
/// its one inline policy; returns its ARN.
pub async fn role_with_policy(
    cfg: &SdkConfig,
    name: &str,
    trusted_account: &str,
    policy: &serde_json::Value,
) -> SeedResult<String> {
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{trusted_account}:root"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"{EXTERNAL_ID}"}}}}}}]}}"#
    );
    let iam = aws_sdk_iam::Client::new(cfg);
    let role = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await?;
    iam.put_role_policy()
        .role_name(name)
        .policy_name("maturity-agent-read")
        .policy_document(policy.to_string())
        .send()
        .await?;
    Ok(role.role().map(|r| r.arn().to_owned()).ok_or("no role")?)
}

pub const ADMIN_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Everything","Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const DEPLOY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:UpdateService","ecs:DescribeServices"],"Resource":"*"}]}"#;
const READ_BUCKET_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::assets/*"}]}"#;

/// A CI role that may pass the app role to ECS tasks only, and run tasks.
const SCOPED_PASS_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::*:role/app","Condition":{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}},{"Effect":"Allow","Action":["ecs:RegisterTaskDefinition","ecs:RunTask"],"Resource":"*"}]}"#;
/// A CI role that may pass every role and create and invoke Lambda functions.
const PASS_ANY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:PassRole","lambda:CreateFunction","lambda:InvokeFunction"],"Resource":"*"}]}"#;
/// An AWS account outside the demo organization.
pub const FOREIGN_ACCOUNT: &str = "999988887777";

/// Creates role `name` that `service` may assume, with an inline `policy` and an attached
/// managed policy when given.
async fn service_role(
    iam: &aws_sdk_iam::Client,
    name: &str,
    service: &str,
    policy: Option<&str>,
    attached: Option<&str>,
) -> SeedResult<()> {
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
        ))
        .send()
        .await?;
    if let Some(doc) = policy {
        iam.put_role_policy()
            .role_name(name)
            .policy_name(name)
            .policy_document(doc)
            .send()
            .await?;
    }
    if let Some(arn) = attached {
        iam.attach_role_policy()
            .role_name(name)
            .policy_arn(arn)
            .send()
            .await?;
    }
    Ok(())
}

/// Creates a user with a console password, and with an MFA device when `mfa`.
pub async fn console_user(iam: &aws_sdk_iam::Client, name: &str, mfa: bool) -> SeedResult<()> {
    iam.create_user().user_name(name).send().await?;
    iam.create_login_profile()
        .user_name(name)
        .password("Correct-Horse-Battery-9")
        .send()
        .await?;
    if mfa {
        let dev = iam
            .create_virtual_mfa_device()
            .virtual_mfa_device_name(name)
            .send()
            .await?;
        let serial = dev
            .virtual_mfa_device()
            .map(|d| d.serial_number().to_owned())
            .ok_or("no MFA serial")?;
        iam.enable_mfa_device()
            .user_name(name)
            .serial_number(serial)
            .authentication_code1("123456")
            .authentication_code2("654321")
            .send()
            .await?;
    }
    Ok(())
}

async fn policy(iam: &aws_sdk_iam::Client, name: &str, doc: &str) -> SeedResult<String> {
    let out = iam
        .create_policy()
        .policy_name(name)
        .policy_document(doc)
        .send()
        .await?;
    Ok(out
        .policy()
        .and_then(|p| p.arn())
        .ok_or("no policy arn")?
        .to_owned())
}

/// Creates a bucket in `region` with optional default encryption and public access block.
pub async fn bucket(
    cfg: &SdkConfig,
    region: &str,
    name: &str,
    encrypted: bool,
    block: Option<[bool; 4]>,
) -> SeedResult<()> {
    use aws_sdk_s3::types::*;
    let conf = aws_sdk_s3::config::Builder::from(&in_region(cfg, region))
        .force_path_style(true)
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(conf);
    let mut req = s3.create_bucket().bucket(name);
    if region != "us-east-1" {
        req = req.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    req.send().await?;
    if encrypted {
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(
                ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(ServerSideEncryption::Aes256)
                    .build()?,
            )
            .build();
        s3.put_bucket_encryption()
            .bucket(name)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(rule)
                    .build()?,
            )
            .send()
            .await?;
    }
    if let Some([a, b, c, d]) = block {
        s3.put_public_access_block()
            .bucket(name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(a)
                    .ignore_public_acls(b)
                    .block_public_policy(c)
                    .restrict_public_buckets(d)
                    .build(),
            )
            .send()
            .await?;
    }
    Ok(())
}

async fn trail(
    cfg: &SdkConfig,
    name: &str,
    bucket_name: &str,
    multi_region: bool,
    validation: bool,
) -> SeedResult<()> {
    let ct = aws_sdk_cloudtrail::Client::new(cfg);
    ct.create_trail()
        .name(name)
        .s3_bucket_name(bucket_name)
        .is_multi_region_trail(multi_region)
        .enable_log_file_validation(validation)
        .send()
        .await?;
    ct.start_logging().name(name).send().await?;
    Ok(())
}

/// The default VPC of the config's region and two of its subnets.
async fn default_vpc(ec2: &aws_sdk_ec2::Client) -> SeedResult<(String, Vec<String>)> {
    let vpcs = ec2.describe_vpcs().send().await?;
    let vpc = vpcs
        .vpcs()
        .iter()
        .find(|v| v.is_default() == Some(true))
        .or(vpcs.vpcs().first())
        .ok_or("no VPC")?;
    let vpc_id = vpc.vpc_id().ok_or("no VPC id")?.to_owned();
    let subnets = ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&vpc_id)
                .build(),
        )
        .send()
        .await?;
    let ids = subnets
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_id().map(str::to_owned))
        .take(2)
        .collect();
    Ok((vpc_id, ids))
}

/// Creates a security group with TCP ingress rules of (port, cidr).
pub async fn security_group(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
    name: &str,
    rules: &[(i32, &str)],
) -> SeedResult<String> {
    use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range};
    let out = ec2
        .create_security_group()
        .group_name(name)
        .description(format!("{name} (demo)"))
        .vpc_id(vpc_id)
        .send()
        .await?;
    let id = out.group_id().ok_or("no group id")?.to_owned();
    for (port, cidr) in rules {
        let mut perm = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(*port)
            .to_port(*port);
        perm = if cidr.contains(':') {
            perm.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(*cidr).build())
        } else {
            perm.ip_ranges(IpRange::builder().cidr_ip(*cidr).build())
        };
        ec2.authorize_security_group_ingress()
            .group_id(&id)
            .ip_permissions(perm.build())
            .send()
            .await?;
    }
    Ok(id)
}

/// An internet-facing ALB with one HTTP listener that redirects to HTTPS or forwards in plain HTTP.
/// Returns the load balancer's ARN.
/// An internet-facing Classic Load Balancer: an HTTPS listener (with a server certificate) when
/// `tls`, a plaintext HTTP listener otherwise.
async fn classic_load_balancer(cfg: &SdkConfig, name: &str, tls: bool) -> SeedResult<()> {
    use aws_sdk_elasticloadbalancing::types::Listener;
    let listener = if tls {
        let cert = server_certificate(cfg, &format!("{name}.example.com")).await?;
        Listener::builder()
            .protocol("HTTPS")
            .load_balancer_port(443)
            .instance_protocol("HTTP")
            .instance_port(8080)
            .ssl_certificate_id(cert)
            .build()?
    } else {
        Listener::builder()
            .protocol("HTTP")
            .load_balancer_port(80)
            .instance_protocol("HTTP")
            .instance_port(8080)
            .build()?
    };
    aws_sdk_elasticloadbalancing::Client::new(cfg)
        .create_load_balancer()
        .load_balancer_name(name)
        .listeners(listener)
        .availability_zones(format!(
            "{}a",
            cfg.region().map(|r| r.as_ref()).unwrap_or("us-east-1")
        ))
        .send()
        .await?;
    Ok(())
}

async fn load_balancer(cfg: &SdkConfig, name: &str, redirect: bool) -> SeedResult<String> {
    use aws_sdk_elasticloadbalancingv2::types::*;
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let (vpc_id, subnets) = default_vpc(&ec2).await?;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(cfg);
    let lb = elb
        .create_load_balancer()
        .name(name)
        .set_subnets(Some(subnets))
        .scheme(LoadBalancerSchemeEnum::InternetFacing)
        .send()
        .await?;
    let lb_arn = lb
        .load_balancers()
        .first()
        .and_then(|l| l.load_balancer_arn())
        .ok_or("no LB arn")?
        .to_owned();
    let action = if redirect {
        Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(
                RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port("443")
                    .status_code(RedirectActionStatusCodeEnum::Http301)
                    .build(),
            )
            .build()
    } else {
        let tg_arn =
            target_group(&elb, &vpc_id, &format!("{name}-tg"), ProtocolEnum::Http, 80).await?;
        Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(tg_arn)
            .build()
    };
    elb.create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(ProtocolEnum::Http)
        .port(80)
        .default_actions(action)
        .send()
        .await?;
    Ok(lb_arn)
}

/// A target group of the VPC; returns its ARN.
async fn target_group(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    vpc_id: &str,
    name: &str,
    protocol: aws_sdk_elasticloadbalancingv2::types::ProtocolEnum,
    port: i32,
) -> SeedResult<String> {
    let tg = elb
        .create_target_group()
        .name(name)
        .protocol(protocol)
        .port(port)
        .vpc_id(vpc_id)
        .send()
        .await?;
    Ok(tg
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .ok_or("no TG arn")?
        .to_owned())
}

async fn database(
    cfg: &SdkConfig,
    id: &str,
    retention_days: i32,
    encrypted: bool,
) -> SeedResult<()> {
    aws_sdk_rds::Client::new(cfg)
        .create_db_instance()
        .db_instance_identifier(id)
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .master_username("dbadmin")
        .master_user_password("Correct-Horse-Battery-9")
        .allocated_storage(20)
        .backup_retention_period(retention_days)
        .storage_encrypted(encrypted)
        .send()
        .await?;
    Ok(())
}

const ALL_BLOCKED: Option<[bool; 4]> = Some([true; 4]);

fn s3_client(cfg: &SdkConfig, region: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&in_region(cfg, region))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// A bucket policy that denies every request made without TLS.
pub async fn tls_only_policy(cfg: &SdkConfig, region: &str, name: &str) -> SeedResult<()> {
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{name}"), format!("arn:aws:s3:::{name}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    s3_client(cfg, region)
        .put_bucket_policy()
        .bucket(name)
        .policy(policy.to_string())
        .send()
        .await?;
    Ok(())
}

/// Sets a bucket's versioning status (`Enabled` or `Suspended`).
pub async fn versioning(cfg: &SdkConfig, region: &str, name: &str, status: &str) -> SeedResult<()> {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    s3_client(cfg, region)
        .put_bucket_versioning()
        .bucket(name)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::from(status))
                .build(),
        )
        .send()
        .await?;
    Ok(())
}

/// The CIS password policy: 14 characters, the last 24 passwords not reusable.
async fn password_policy(iam: &aws_sdk_iam::Client) -> SeedResult<()> {
    iam.update_account_password_policy()
        .minimum_password_length(14)
        .password_reuse_prevention(24)
        .require_symbols(true)
        .require_numbers(true)
        .send()
        .await?;
    Ok(())
}

async fn production(
    cfg: &SdkConfig,
    id: &str,
    security_account: &str,
    sinks: &[String],
) -> SeedResult<()> {
    let iam = aws_sdk_iam::Client::new(cfg);
    password_policy(&iam).await?;
    console_user(&iam, "alice", true).await?;
    console_user(&iam, "bob", true).await?;
    iam.create_group().group_name("deployers").send().await?;
    let deploy = policy(&iam, "deploy-services", DEPLOY_POLICY).await?;
    iam.attach_group_policy()
        .group_name("deployers")
        .policy_arn(deploy)
        .send()
        .await?;
    iam.add_user_to_group()
        .group_name("deployers")
        .user_name("bob")
        .send()
        .await?;
    iam.create_role()
        .role_name("app")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await?;
    iam.put_role_policy()
        .role_name("app")
        .policy_name("read-assets")
        .policy_document(READ_BUCKET_POLICY)
        .send()
        .await?;
    // A CI role that may pass only the app role, to ECS: no path to more than it holds.
    service_role(
        &iam,
        "deployer-ci",
        "codebuild.amazonaws.com",
        Some(SCOPED_PASS_POLICY),
        None,
    )
    .await?;

    let trail_bucket = format!("prod-{id}-cloudtrail");
    bucket(cfg, "us-east-1", &trail_bucket, true, ALL_BLOCKED).await?;
    bucket(
        cfg,
        "us-east-1",
        &format!("prod-{id}-data"),
        true,
        ALL_BLOCKED,
    )
    .await?;
    bucket(
        cfg,
        "eu-west-1",
        &format!("prod-{id}-backups-eu"),
        true,
        ALL_BLOCKED,
    )
    .await?;
    for (region, name) in [
        ("us-east-1", trail_bucket.clone()),
        ("us-east-1", format!("prod-{id}-data")),
        ("eu-west-1", format!("prod-{id}-backups-eu")),
    ] {
        tls_only_policy(cfg, region, &name).await?;
        versioning(cfg, region, &name, "Enabled").await?;
    }
    trail(cfg, "organization-audit", &trail_bucket, true, true).await?;
    // Encrypted with a rotated customer key, and flagged as the organization trail that logs the
    // account (in AWS the management account would own it; moto lets the member create it).
    let trail_key = rotated_key(cfg, "cloudtrail logs").await?;
    aws_sdk_cloudtrail::Client::new(cfg)
        .update_trail()
        .name("organization-audit")
        .kms_key_id(trail_key)
        .is_organization_trail(true)
        .send()
        .await?;
    for region in REGIONS {
        config_recorder(cfg, region, &trail_bucket).await?;
        flow_logs(cfg, region, &trail_bucket).await?;
    }
    budget(cfg, id).await?;
    root_usage_metric_filter(cfg, "organization-audit").await?;
    root_usage_alarm(cfg, true).await?;
    dashboard(cfg).await?;
    health_check(cfg, "api.example.com", false).await?;
    stack(cfg, "platform-baseline", true).await?;
    chaos(cfg, id, true).await?;
    cost_anomaly_monitor(cfg, true).await?;
    image_pipeline(cfg, id, "cron(0 2 * * ? *)").await?;
    threat_detection(cfg).await?;
    let plan = backup_plan(cfg).await?;
    backup_selection(cfg, &plan).await?;
    for region in REGIONS {
        analyzer(cfg, region, "external-access").await?;
    }
    table(cfg, "orders", true).await?;
    let app = instance(cfg, "prod-app", true).await?;
    patch_compliance(cfg, &app, true).await?;
    agent_metrics(cfg, &app).await?;
    containers(cfg, id, true).await?;
    // Application logs in both regions: shipped to the security account's destination from the
    // first, shared with its monitoring sink from the second.
    for region in REGIONS {
        log_group(cfg, region, "prod-app").await?;
    }
    let destination = format!(
        "arn:aws:logs:{}:{security_account}:destination:central-logs",
        REGIONS[0]
    );
    subscription_filter_policy(cfg, REGIONS[0], &destination).await?;
    oam_link(cfg, REGIONS[1], &sinks[1]).await?;
    secret(cfg, "prod/orders-db", true).await?;
    // The account-level public access block (S3 Control) and EBS encryption by default everywhere.
    aws_sdk_s3control::Client::from_conf(
        aws_sdk_s3control::config::Builder::from(cfg)
            .endpoint_resolver(EndpointAsConfigured(
                cfg.endpoint_url().ok_or("no endpoint")?.to_owned(),
            ))
            .build(),
    )
    .put_public_access_block()
    .account_id(id)
    .public_access_block_configuration(
        aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(true)
            .restrict_public_buckets(true)
            .build(),
    )
    .send()
    .await?;
    for region in REGIONS {
        aws_sdk_ec2::Client::new(&in_region(cfg, region))
            .enable_ebs_encryption_by_default()
            .send()
            .await?;
    }

    let lb = load_balancer(cfg, "prod-web", true).await?;
    https_listener(
        cfg,
        &lb,
        "prod-web",
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        true,
    )
    .await?;
    web_acl(cfg, &lb).await?;
    database(cfg, "orders", 14, true).await?;
    exposure(cfg, id, "orders", "prod/orders-db", false).await?;
    for region in REGIONS {
        let ec2 = aws_sdk_ec2::Client::new(&in_region(cfg, region));
        let (vpc, _) = default_vpc(&ec2).await?;
        let web = security_group(
            &ec2,
            &vpc,
            "web",
            &[(443, "0.0.0.0/0"), (443, "::/0"), (22, "10.0.0.0/8")],
        )
        .await?;
        https_egress_only(&ec2, &web).await?;
        close_default_groups(&ec2).await?;
    }
    Ok(())
}

async fn legacy(cfg: &SdkConfig, id: &str) -> SeedResult<()> {
    let iam = aws_sdk_iam::Client::new(cfg);
    console_user(&iam, "legacy-admin", false).await?;
    iam.create_user().user_name("deploy-bot").send().await?;
    iam.create_access_key()
        .user_name("deploy-bot")
        .send()
        .await?;
    let god = policy(&iam, "god-mode", ADMIN_POLICY).await?;
    iam.attach_user_policy()
        .user_name("deploy-bot")
        .policy_arn(god)
        .send()
        .await?;

    // Availability probes that measure nothing: a disabled health check, a canary never started.
    health_check(cfg, "legacy.example.com", true).await?;
    stack(cfg, "legacy-app", false).await?;
    chaos(cfg, id, false).await?;
    cost_anomaly_monitor(cfg, false).await?;
    image_pipeline(cfg, id, "cron(0 2 ? * SUN *)").await?;
    idle_canary(cfg, id).await?;

    let uploads = format!("legacy-{id}-uploads");
    bucket(cfg, "us-east-1", &uploads, false, None).await?;
    versioning(cfg, "us-east-1", &uploads, "Enabled").await?;
    versioning(cfg, "us-east-1", &uploads, "Suspended").await?;
    classic_load_balancer(cfg, "legacy-classic", false).await?;
    let lb = load_balancer(cfg, "legacy-web", false).await?;
    https_listener(cfg, &lb, "legacy-web", "ELBSecurityPolicy-2016-08", false).await?;
    table(cfg, "legacy-sessions", false).await?;
    let app = instance(cfg, "legacy-app", false).await?;
    patch_compliance(cfg, &app, false).await?;
    containers(cfg, id, false).await?;
    // Application logs shipped, but to a delivery stream of the account itself.
    log_group(cfg, REGIONS[0], "legacy-app").await?;
    let own_stream = format!(
        "arn:aws:firehose:{}:{id}:deliverystream/legacy-logs",
        REGIONS[0]
    );
    subscription_filter_policy(cfg, REGIONS[0], &own_stream).await?;
    secret(cfg, "legacy/db-password", false).await?;
    unrotated_key(cfg, "legacy uploads").await?;
    public_role(cfg, "legacy-cross-account").await?;
    // A CI role that may pass any role to Lambda, and a Lambda role with AdministratorAccess: an
    // escalation path; a role trusting an account outside the organization.
    service_role(
        &iam,
        "ci-deploy",
        "codebuild.amazonaws.com",
        Some(PASS_ANY_POLICY),
        None,
    )
    .await?;
    service_role(
        &iam,
        "lambda-admin",
        "lambda.amazonaws.com",
        Some(ADMIN_POLICY),
        None,
    )
    .await?;
    iam.create_role()
        .role_name("vendor-audit")
        .assume_role_policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{FOREIGN_ACCOUNT}:root"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"vendor"}}}}}}]}}"#
        ))
        .send()
        .await?;
    http_distribution(cfg, &format!("legacy-{id}-assets")).await?;
    database(cfg, "legacy-db", 1, false).await?;
    // A budget, and AWS Config in the first region only.
    budget(cfg, id).await?;
    config_recorder(cfg, REGIONS[0], &uploads).await?;
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let (vpc, _) = default_vpc(&ec2).await?;
    security_group(&ec2, &vpc, "ssh-anywhere", &[(22, "0.0.0.0/0")]).await?;
    let db_open = security_group(&ec2, &vpc, "db-anywhere", &[(5432, "0.0.0.0/0")]).await?;
    aws_sdk_rds::Client::new(cfg)
        .modify_db_instance()
        .db_instance_identifier("legacy-db")
        .publicly_accessible(true)
        .vpc_security_group_ids(db_open)
        .apply_immediately(true)
        .send()
        .await?;
    exposure(cfg, id, "legacy-db", "legacy/db-password", true).await?;
    Ok(())
}

/// A ZIP archive holding one file, stored without compression (what a deployment package needs).
fn stored_zip(name: &str, content: &[u8]) -> Vec<u8> {
    let crc = content.iter().fold(0xFFFF_FFFFu32, |mut crc, b| {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
        crc
    }) ^ 0xFFFF_FFFF;
    let (n, len) = (name.len() as u16, content.len() as u32);
    let mut z = Vec::new();
    let common = |z: &mut Vec<u8>| {
        z.extend_from_slice(&20u16.to_le_bytes()); // version needed
        z.extend_from_slice(&0u16.to_le_bytes()); // flags
        z.extend_from_slice(&0u16.to_le_bytes()); // stored
        z.extend_from_slice(&0u32.to_le_bytes()); // time, date
        z.extend_from_slice(&crc.to_le_bytes());
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&n.to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes()); // extra length
    };
    z.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    common(&mut z);
    z.extend_from_slice(name.as_bytes());
    z.extend_from_slice(content);
    let central = z.len() as u32;
    z.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    z.extend_from_slice(&20u16.to_le_bytes()); // version made by
    common(&mut z);
    z.extend_from_slice(&[0; 8]); // comment length, disk, internal attributes
    z.extend_from_slice(&0u32.to_le_bytes()); // external attributes
    z.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    z.extend_from_slice(name.as_bytes());
    let size = z.len() as u32 - central;
    z.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    z.extend_from_slice(&[0; 4]); // disk numbers
    z.extend_from_slice(&1u16.to_le_bytes());
    z.extend_from_slice(&1u16.to_le_bytes());
    z.extend_from_slice(&size.to_le_bytes());
    z.extend_from_slice(&central.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z
}

/// A policy statement that lets anyone call `action`, or only the account itself.
fn resource_policy(action: &str, account: &str, public: bool) -> String {
    let condition = if public {
        String::new()
    } else {
        format!(r#","Condition":{{"StringEquals":{{"aws:SourceAccount":"{account}"}}}}"#)
    };
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{}","Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"{action}","Resource":"*"{condition}}}]}}"#,
        if public { "Anyone" } else { "OwnAccount" }
    )
}

/// Resources that can be exposed, shared with everyone when `public` and kept to the account
/// otherwise: a manual snapshot of DB instance `db`, an EBS snapshot, a KMS key, the policy of
/// secret `secret`, an SQS queue, an SNS topic and a Lambda function.
async fn exposure(
    cfg: &SdkConfig,
    account: &str,
    db: &str,
    secret: &str,
    public: bool,
) -> SeedResult<()> {
    let rds = aws_sdk_rds::Client::new(cfg);
    let snapshot = format!("{db}-manual");
    rds.create_db_snapshot()
        .db_instance_identifier(db)
        .db_snapshot_identifier(&snapshot)
        .send()
        .await?;
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let volume = ec2
        .create_volume()
        .availability_zone(format!("{}a", REGIONS[0]))
        .size(8)
        .send()
        .await?;
    let snap = ec2
        .create_snapshot()
        .volume_id(volume.volume_id().ok_or("no volume id")?)
        .description("demo volume backup")
        .send()
        .await?;
    if public {
        rds.modify_db_snapshot_attribute()
            .db_snapshot_identifier(&snapshot)
            .attribute_name("restore")
            .values_to_add("all")
            .send()
            .await?;
        ec2.modify_snapshot_attribute()
            .snapshot_id(snap.snapshot_id().ok_or("no snapshot id")?)
            .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
            .operation_type(aws_sdk_ec2::types::OperationType::Add)
            .group_names("all")
            .send()
            .await?;
        aws_sdk_secretsmanager::Client::new(cfg)
            .put_resource_policy()
            .secret_id(secret)
            .resource_policy(resource_policy(
                "secretsmanager:GetSecretValue",
                account,
                true,
            ))
            .send()
            .await?;
    }
    let kms = aws_sdk_kms::Client::new(cfg);
    let key = kms
        .create_key()
        .description("shared data key")
        .policy(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Root","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"kms:*","Resource":"*"}},{}]}}"#,
            resource_policy("kms:Decrypt", account, public)
                .split_once("\"Statement\":[")
                .and_then(|(_, rest)| rest.strip_suffix("]}"))
                .unwrap_or_default()
        ))
        .send()
        .await?;
    if !public {
        kms.enable_key_rotation()
            .key_id(key.key_metadata().map(|m| m.key_id()).unwrap_or_default())
            .send()
            .await?;
    }
    let queue = aws_sdk_sqs::Client::new(cfg)
        .create_queue()
        .queue_name("orders-events")
        .send()
        .await?;
    aws_sdk_sqs::Client::new(cfg)
        .set_queue_attributes()
        .queue_url(queue.queue_url().ok_or("no queue url")?)
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::Policy,
            resource_policy("sqs:SendMessage", account, public),
        )
        .send()
        .await?;
    // A Lambda function invocable by anyone, or by S3 of the account only.
    let iam = aws_sdk_iam::Client::new(cfg);
    service_role(&iam, "orders-handler", "lambda.amazonaws.com", None, None).await?;
    let lambda = aws_sdk_lambda::Client::new(cfg);
    lambda
        .create_function()
        .function_name("orders-handler")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .handler("index.handler")
        .role(format!("arn:aws:iam::{account}:role/orders-handler"))
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(stored_zip(
                    "index.py",
                    b"def handler(event, context):\n    return 'ok'\n",
                )))
                .build(),
        )
        .send()
        .await?;
    let permission = lambda
        .add_permission()
        .function_name("orders-handler")
        .statement_id("invoke")
        .action("lambda:InvokeFunction");
    if public {
        permission.principal("*").send().await?;
    } else {
        permission
            .principal("s3.amazonaws.com")
            .source_account(account)
            .send()
            .await?;
    }
    let sns = aws_sdk_sns::Client::new(cfg);
    let topic = sns.create_topic().name("order-alerts").send().await?;
    sns.set_topic_attributes()
        .topic_arn(topic.topic_arn().ok_or("no topic arn")?)
        .attribute_name("Policy")
        .attribute_value(resource_policy("sns:Publish", account, public))
        .send()
        .await?;
    Ok(())
}

async fn sandbox(cfg: &SdkConfig, id: &str) -> SeedResult<()> {
    let iam = aws_sdk_iam::Client::new(cfg);
    console_user(&iam, "experimenter", false).await?;
    console_user(&iam, "sandbox-owner", true).await?;
    let admin = policy(&iam, "sandbox-admin", ADMIN_POLICY).await?;
    for user in ["experimenter", "sandbox-owner"] {
        iam.attach_user_policy()
            .user_name(user)
            .policy_arn(&admin)
            .send()
            .await?;
    }

    let trail_bucket = format!("sandbox-{id}-cloudtrail");
    bucket(cfg, "us-east-1", &trail_bucket, true, ALL_BLOCKED).await?;
    let scratch = format!("sandbox-{id}-scratch");
    bucket(cfg, "eu-west-1", &scratch, true, ALL_BLOCKED).await?;
    versioning(cfg, "us-east-1", &trail_bucket, "Enabled").await?;
    versioning(cfg, "eu-west-1", &scratch, "Enabled").await?;
    trail(cfg, "sandbox-trail", &trail_bucket, true, false).await?;
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let (vpc, _) = default_vpc(&ec2).await?;
    security_group(&ec2, &vpc, "internal-only", &[(22, "10.0.0.0/8")]).await?;
    // Started, not finished: an analyzer in the first region only, Security Hub there without any
    // standard, a root-usage alarm that notifies nobody, a backup plan that selects nothing, and a
    // policy granting all of S3.
    analyzer(cfg, REGIONS[0], "external-access").await?;
    let hub = aws_sdk_securityhub::Client::new(cfg);
    hub.enable_security_hub()
        .enable_default_standards(false)
        .send()
        .await?;
    // Inspector's integration, which AWS turns on with the hub, turned off again.
    hub.disable_import_findings_for_product()
        .product_subscription_arn(format!(
            "arn:aws:securityhub:{}:{id}:product-subscription/aws/inspector",
            REGIONS[0]
        ))
        .send()
        .await?;
    root_usage_metric_filter(cfg, "sandbox-trail").await?;
    root_usage_alarm(cfg, false).await?;
    backup_plan(cfg).await?;
    inspector(cfg, id, false).await?;
    let s3_all = policy(&iam, "sandbox-s3", S3_EVERYTHING_POLICY).await?;
    iam.attach_user_policy()
        .user_name("experimenter")
        .policy_arn(s3_all)
        .send()
        .await?;
    Ok(())
}

const S3_EVERYTHING_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllOfS3","Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

/// AWS Config recording every supported resource type (global ones too), delivering to `bucket`.
async fn config_recorder(cfg: &SdkConfig, region: &str, bucket_name: &str) -> SeedResult<()> {
    use aws_sdk_config::types::{ConfigurationRecorder, DeliveryChannel, RecordingGroup};
    let config = aws_sdk_config::Client::new(&in_region(cfg, region));
    config
        .put_configuration_recorder()
        .configuration_recorder(
            ConfigurationRecorder::builder()
                .name("default")
                .role_arn(format!(
                    "arn:aws:iam::{}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
                    account_of(cfg).await?
                ))
                .recording_group(
                    RecordingGroup::builder()
                        .all_supported(true)
                        .include_global_resource_types(region == REGIONS[0])
                        .build(),
                )
                .build(),
        )
        .send()
        .await?;
    config
        .put_delivery_channel()
        .delivery_channel(
            DeliveryChannel::builder()
                .name("default")
                .s3_bucket_name(bucket_name)
                .build(),
        )
        .send()
        .await?;
    config
        .start_configuration_recorder()
        .configuration_recorder_name("default")
        .send()
        .await?;
    Ok(())
}

async fn account_of(cfg: &SdkConfig) -> SeedResult<String> {
    let who = aws_sdk_sts::Client::new(cfg)
        .get_caller_identity()
        .send()
        .await?;
    Ok(who.account().ok_or("no caller account")?.to_owned())
}

/// A monthly cost budget that e-mails the team at 80 % of actual spend.
async fn budget(cfg: &SdkConfig, account_id: &str) -> SeedResult<()> {
    use aws_sdk_budgets::types::*;
    aws_sdk_budgets::Client::new(cfg)
        .create_budget()
        .account_id(account_id)
        .budget(
            Budget::builder()
                .budget_name("monthly")
                .budget_type(BudgetType::Cost)
                .time_unit(TimeUnit::Monthly)
                .budget_limit(Spend::builder().amount("1000").unit("USD").build()?)
                .build()?,
        )
        .notifications_with_subscribers(
            NotificationWithSubscribers::builder()
                .notification(
                    Notification::builder()
                        .notification_type(NotificationType::Actual)
                        .comparison_operator(ComparisonOperator::GreaterThan)
                        .threshold(80.0)
                        .threshold_type(ThresholdType::Percentage)
                        .build()?,
                )
                .subscribers(
                    Subscriber::builder()
                        .subscription_type(SubscriptionType::Email)
                        .address("finops@example.com")
                        .build()?,
                )
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

/// A flow log on every VPC of the region, delivered to `bucket`.
async fn flow_logs(cfg: &SdkConfig, region: &str, bucket_name: &str) -> SeedResult<()> {
    use aws_sdk_ec2::types::{FlowLogsResourceType, LogDestinationType, TrafficType};
    let ec2 = aws_sdk_ec2::Client::new(&in_region(cfg, region));
    let vpcs: Vec<String> = (ec2.describe_vpcs().send().await?.vpcs().iter())
        .filter_map(|v| v.vpc_id().map(str::to_owned))
        .collect();
    ec2.create_flow_logs()
        .resource_type(FlowLogsResourceType::Vpc)
        .set_resource_ids(Some(vpcs))
        .traffic_type(TrafficType::All)
        .log_destination_type(LogDestinationType::S3)
        .log_destination(format!("arn:aws:s3:::{bucket_name}"))
        .send()
        .await?;
    Ok(())
}

/// The CIS root-usage metric filter on the log group that `trail` delivers its events to.
async fn root_usage_metric_filter(cfg: &SdkConfig, trail: &str) -> SeedResult<()> {
    use aws_sdk_cloudwatchlogs::types::MetricTransformation;
    let logs = aws_sdk_cloudwatchlogs::Client::new(cfg);
    logs.create_log_group()
        .log_group_name("cloudtrail")
        .send()
        .await?;
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("cloudtrail")
        .send()
        .await?;
    let group_arn = groups
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some("cloudtrail"))
        .and_then(|g| g.arn())
        .ok_or("log group cloudtrail has no ARN")?
        .to_owned();
    let account = group_arn.split(':').nth(4).unwrap_or_default().to_owned();
    aws_sdk_cloudtrail::Client::new(cfg)
        .update_trail()
        .name(trail)
        .cloud_watch_logs_log_group_arn(&group_arn)
        .cloud_watch_logs_role_arn(format!("arn:aws:iam::{account}:role/cloudtrail-to-logs"))
        .send()
        .await?;
    logs.put_metric_filter()
        .log_group_name("cloudtrail")
        .filter_name("root-usage")
        .filter_pattern(r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#)
        .metric_transformations(
            MetricTransformation::builder()
                .metric_namespace("CISBenchmark")
                .metric_name("RootAccountUsage")
                .metric_value("1")
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

/// A sink of CloudWatch's cross-account observability in each of [`REGIONS`] of the monitoring
/// account `cfg`; their ARNs in that order.
async fn monitoring_sinks(cfg: &SdkConfig) -> SeedResult<Vec<String>> {
    let mut sinks = Vec::new();
    for region in REGIONS {
        let out = aws_sdk_oam::Client::new(&in_region(cfg, region))
            .create_sink()
            .name("organization-monitoring")
            .send()
            .await?;
        sinks.push(out.arn().ok_or("CreateSink returned no ARN")?.to_owned());
    }
    Ok(sinks)
}

/// The CloudWatch agent's memory and disk metrics of `instance` (namespace `CWAgent`), as the
/// agent publishes them.
async fn agent_metrics(cfg: &SdkConfig, instance: &str) -> SeedResult<()> {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    let datum = |name: &str| {
        MetricDatum::builder()
            .metric_name(name)
            .dimensions(
                Dimension::builder()
                    .name("InstanceId")
                    .value(instance)
                    .build(),
            )
            .value(42.0)
            .unit(StandardUnit::Percent)
            .build()
    };
    aws_sdk_cloudwatch::Client::new(cfg)
        .put_metric_data()
        .namespace("CWAgent")
        .metric_data(datum("mem_used_percent"))
        .metric_data(datum("disk_used_percent"))
        .send()
        .await?;
    Ok(())
}

async fn log_group(cfg: &SdkConfig, region: &str, name: &str) -> SeedResult<()> {
    aws_sdk_cloudwatchlogs::Client::new(&in_region(cfg, region))
        .create_log_group()
        .log_group_name(name)
        .send()
        .await?;
    Ok(())
}

/// An account-level subscription filter policy of `region` that sends every log event of every
/// log group to `destination`.
async fn subscription_filter_policy(
    cfg: &SdkConfig,
    region: &str,
    destination: &str,
) -> SeedResult<()> {
    use aws_sdk_cloudwatchlogs::types::{PolicyType, Scope};
    let document = serde_json::json!({ "DestinationArn": destination, "FilterPattern": "" });
    aws_sdk_cloudwatchlogs::Client::new(&in_region(cfg, region))
        .put_account_policy()
        .policy_name("ship-all-logs")
        .policy_type(PolicyType::SubscriptionFilterPolicy)
        .scope(Scope::All)
        .policy_document(document.to_string())
        .send()
        .await?;
    Ok(())
}

/// A cross-account observability link of `region` to the monitoring account's `sink`, sharing
/// log groups and metrics.
async fn oam_link(cfg: &SdkConfig, region: &str, sink: &str) -> SeedResult<()> {
    use aws_sdk_oam::types::ResourceType;
    aws_sdk_oam::Client::new(&in_region(cfg, region))
        .create_link()
        .label_template("$AccountName")
        .resource_types(ResourceType::AwsLogsLoggroup)
        .resource_types(ResourceType::AwsCloudwatchMetric)
        .sink_identifier(sink)
        .send()
        .await?;
    Ok(())
}

/// Removes every rule of the region's default security groups.
async fn close_default_groups(ec2: &aws_sdk_ec2::Client) -> SeedResult<()> {
    let groups = ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values("default")
                .build(),
        )
        .send()
        .await?;
    for g in groups.security_groups() {
        let id = g.group_id().ok_or("no group id")?;
        if !g.ip_permissions().is_empty() {
            ec2.revoke_security_group_ingress()
                .group_id(id)
                .set_ip_permissions(Some(g.ip_permissions().to_vec()))
                .send()
                .await?;
        }
        if !g.ip_permissions_egress().is_empty() {
            ec2.revoke_security_group_egress()
                .group_id(id)
                .set_ip_permissions(Some(g.ip_permissions_egress().to_vec()))
                .send()
                .await?;
        }
    }
    Ok(())
}

/// Replaces a group's default allow-all egress with HTTPS only.
async fn https_egress_only(ec2: &aws_sdk_ec2::Client, group_id: &str) -> SeedResult<()> {
    use aws_sdk_ec2::types::{IpPermission, IpRange};
    let all = IpPermission::builder()
        .ip_protocol("-1")
        .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
        .build();
    ec2.revoke_security_group_egress()
        .group_id(group_id)
        .ip_permissions(all)
        .send()
        .await?;
    let https = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(443)
        .to_port(443)
        .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
        .build();
    ec2.authorize_security_group_egress()
        .group_id(group_id)
        .ip_permissions(https)
        .send()
        .await?;
    Ok(())
}

/// A regional WAFv2 web ACL associated with the load balancer, enforcing the baseline managed
/// rule groups, the SQL injection group and a per-IP rate limit.
async fn web_acl(cfg: &SdkConfig, lb_arn: &str) -> SeedResult<()> {
    use aws_sdk_wafv2::types::{
        AllowAction, BlockAction, DefaultAction, ManagedRuleGroupStatement, NoneAction,
        OverrideAction, RateBasedStatement, RateBasedStatementAggregateKeyType, Rule, RuleAction,
        Scope, Statement, VisibilityConfig,
    };
    let visibility = |name: &str| {
        VisibilityConfig::builder()
            .sampled_requests_enabled(true)
            .cloud_watch_metrics_enabled(true)
            .metric_name(name)
            .build()
    };
    let mut rules = Vec::new();
    for (priority, group) in [
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
    ]
    .into_iter()
    .enumerate()
    {
        rules.push(
            Rule::builder()
                .name(group)
                .priority(priority as i32)
                .statement(
                    Statement::builder()
                        .managed_rule_group_statement(
                            ManagedRuleGroupStatement::builder()
                                .vendor_name("AWS")
                                .name(group)
                                .build()?,
                        )
                        .build(),
                )
                .override_action(
                    OverrideAction::builder()
                        .none(NoneAction::builder().build())
                        .build(),
                )
                .visibility_config(visibility(group)?)
                .build()?,
        );
    }
    rules.push(
        Rule::builder()
            .name("per-ip")
            .priority(10)
            .statement(
                Statement::builder()
                    .rate_based_statement(
                        RateBasedStatement::builder()
                            .limit(1000)
                            .aggregate_key_type(RateBasedStatementAggregateKeyType::Ip)
                            .build()?,
                    )
                    .build(),
            )
            .action(
                RuleAction::builder()
                    .block(BlockAction::builder().build())
                    .build(),
            )
            .visibility_config(visibility("per-ip")?)
            .build()?,
    );
    let waf = aws_sdk_wafv2::Client::new(cfg);
    let acl = waf
        .create_web_acl()
        .name("baseline")
        .scope(Scope::Regional)
        .set_rules(Some(rules))
        .default_action(
            DefaultAction::builder()
                .allow(AllowAction::builder().build())
                .build(),
        )
        .visibility_config(
            VisibilityConfig::builder()
                .sampled_requests_enabled(true)
                .cloud_watch_metrics_enabled(true)
                .metric_name("baseline")
                .build()?,
        )
        .send()
        .await?;
    let arn = acl
        .summary()
        .and_then(|s| s.arn())
        .ok_or("no web ACL arn")?;
    waf.associate_web_acl()
        .web_acl_arn(arn)
        .resource_arn(lb_arn)
        .send()
        .await?;
    Ok(())
}

/// A daily AWS Backup plan with one rule; returns its id.
pub async fn backup_plan(cfg: &SdkConfig) -> SeedResult<String> {
    use aws_sdk_backup::types::{BackupPlanInput, BackupRuleInput, Lifecycle};
    let backup = aws_sdk_backup::Client::new(cfg);
    backup
        .create_backup_vault()
        .backup_vault_name("central")
        .send()
        .await?;
    let plan = backup
        .create_backup_plan()
        .backup_plan(
            BackupPlanInput::builder()
                .backup_plan_name("daily")
                .rules(
                    BackupRuleInput::builder()
                        .rule_name("daily-35-days")
                        .target_backup_vault_name("central")
                        .schedule_expression("cron(0 3 * * ? *)")
                        .lifecycle(Lifecycle::builder().delete_after_days(35).build())
                        .build()?,
                )
                .build()?,
        )
        .send()
        .await?;
    Ok(plan.backup_plan_id().ok_or("no backup plan id")?.to_owned())
}

/// A customer-managed KMS key with automatic rotation; returns its ARN.
async fn rotated_key(cfg: &SdkConfig, description: &str) -> SeedResult<String> {
    let kms = aws_sdk_kms::Client::new(cfg);
    let key = kms.create_key().description(description).send().await?;
    let meta = key.key_metadata().ok_or("no key metadata")?;
    kms.enable_key_rotation()
        .key_id(meta.key_id())
        .send()
        .await?;
    Ok(meta.arn().ok_or("no key arn")?.to_owned())
}

/// GuardDuty (with EBS malware protection and Runtime Monitoring) and Security Hub (with its
/// default standards) in every demo region.
async fn threat_detection(cfg: &SdkConfig) -> SeedResult<()> {
    use aws_sdk_guardduty::types::{DetectorFeature, DetectorFeatureConfiguration, FeatureStatus};
    for region in REGIONS {
        let cfg = in_region(cfg, region);
        aws_sdk_guardduty::Client::new(&cfg)
            .create_detector()
            .enable(true)
            .features(
                DetectorFeatureConfiguration::builder()
                    .name(DetectorFeature::EbsMalwareProtection)
                    .status(FeatureStatus::Enabled)
                    .build(),
            )
            .features(
                DetectorFeatureConfiguration::builder()
                    .name(DetectorFeature::RuntimeMonitoring)
                    .status(FeatureStatus::Enabled)
                    .build(),
            )
            .send()
            .await?;
        aws_sdk_securityhub::Client::new(&cfg)
            .enable_security_hub()
            .enable_default_standards(true)
            .send()
            .await?;
    }
    Ok(())
}

/// An IAM Access Analyzer of the account's external access in `region` (served by the shim: moto
/// 5.2.5 lacks Access Analyzer).
async fn analyzer(cfg: &SdkConfig, region: &str, name: &str) -> SeedResult<()> {
    aws_sdk_accessanalyzer::Client::new(&in_region(cfg, region))
        .create_analyzer()
        .analyzer_name(name)
        .r#type(aws_sdk_accessanalyzer::types::Type::Account)
        .send()
        .await?;
    Ok(())
}

/// Assigns every resource tagged `backup=daily` to the backup plan (served by the shim: moto 5.2.5
/// lacks `CreateBackupSelection`).
async fn backup_selection(cfg: &SdkConfig, plan_id: &str) -> SeedResult<()> {
    use aws_sdk_backup::types::{BackupSelection, ConditionType};
    let account = account_of(cfg).await?;
    aws_sdk_backup::Client::new(cfg)
        .create_backup_selection()
        .backup_plan_id(plan_id)
        .backup_selection(
            BackupSelection::builder()
                .selection_name("tagged-daily")
                .iam_role_arn(format!(
                    "arn:aws:iam::{account}:role/service-role/AWSBackupDefaultServiceRole"
                ))
                .list_of_tags(
                    aws_sdk_backup::types::Condition::builder()
                        .condition_type(ConditionType::Stringequals)
                        .condition_key("backup")
                        .condition_value("daily")
                        .build()?,
                )
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

/// An alarm on the root-usage metric (`CISBenchmark/RootAccountUsage` >= 1), notifying the
/// security team's SNS topic when `notify` (served by the shim: moto 5.2.5 answers CloudWatch's
/// rpc-v2-cbor protocol with 404).
async fn root_usage_alarm(cfg: &SdkConfig, notify: bool) -> SeedResult<()> {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
    let account = account_of(cfg).await?;
    let mut req = aws_sdk_cloudwatch::Client::new(cfg)
        .put_metric_alarm()
        .alarm_name("root-usage")
        .namespace("CISBenchmark")
        .metric_name("RootAccountUsage")
        .statistic(Statistic::Sum)
        .period(300)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold);
    if notify {
        req = req.alarm_actions(format!(
            "arn:aws:sns:{}:{account}:security-alerts",
            REGIONS[0]
        ));
    }
    req.send().await?;
    Ok(())
}

/// A CloudWatch dashboard of the root-usage metric, in the first demo region only (one dashboard
/// shows every region's metrics).
async fn dashboard(cfg: &SdkConfig) -> SeedResult<()> {
    let body = serde_json::json!({"widgets": [{
        "type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
        "properties": {"metrics": [["CISBenchmark", "RootAccountUsage"]], "period": 300,
            "stat": "Sum", "region": REGIONS[0], "title": "Root usage"},
    }]});
    aws_sdk_cloudwatch::Client::new(cfg)
        .put_dashboard()
        .dashboard_name("operations")
        .dashboard_body(body.to_string())
        .send()
        .await?;
    Ok(())
}

/// An EC2 Image Builder pipeline of the base image, on `schedule`.
async fn image_pipeline(cfg: &SdkConfig, id: &str, schedule: &str) -> SeedResult<()> {
    use aws_sdk_imagebuilder::types::{PipelineExecutionStartCondition, Schedule};
    let region = cfg.region().map(|r| r.to_string()).unwrap_or_default();
    aws_sdk_imagebuilder::Client::new(cfg)
        .create_image_pipeline()
        .name("base-image")
        .image_recipe_arn(format!(
            "arn:aws:imagebuilder:{region}:{id}:image-recipe/base/1.0.0"
        ))
        .infrastructure_configuration_arn(format!(
            "arn:aws:imagebuilder:{region}:{id}:infrastructure-configuration/build"
        ))
        .schedule(
            Schedule::builder()
                .schedule_expression(schedule)
                .pipeline_execution_start_condition(
                    PipelineExecutionStartCondition::ExpressionMatchAndDependencyUpdatesAvailable,
                )
                .build(),
        )
        .send()
        .await?;
    Ok(())
}

/// A Cost Anomaly Detection monitor of the account's services, with an alert subscription that
/// emails its anomalies when `alerted`.
async fn cost_anomaly_monitor(cfg: &SdkConfig, alerted: bool) -> SeedResult<()> {
    use aws_sdk_costexplorer::types::{
        AnomalyMonitor, AnomalySubscription, AnomalySubscriptionFrequency, MonitorDimension,
        MonitorType, Subscriber, SubscriberType,
    };
    let ce = aws_sdk_costexplorer::Client::new(cfg);
    let monitor = ce
        .create_anomaly_monitor()
        .anomaly_monitor(
            AnomalyMonitor::builder()
                .monitor_name("services")
                .monitor_type(MonitorType::Dimensional)
                .monitor_dimension(MonitorDimension::Service)
                .build()?,
        )
        .send()
        .await?;
    if alerted {
        ce.create_anomaly_subscription()
            .anomaly_subscription(
                AnomalySubscription::builder()
                    .subscription_name("finops")
                    .monitor_arn_list(monitor.monitor_arn())
                    .subscribers(
                        Subscriber::builder()
                            .address("finops@example.com")
                            .r#type(SubscriberType::Email)
                            .build(),
                    )
                    .frequency(AnomalySubscriptionFrequency::Daily)
                    .build()?,
            )
            .send()
            .await?;
    }
    Ok(())
}

/// An AWS FIS experiment template that stops the instances tagged `chaos=ready`, started once
/// and waited for until it completed when `run`.
async fn chaos(cfg: &SdkConfig, id: &str, run: bool) -> SeedResult<()> {
    use aws_sdk_fis::types::{
        CreateExperimentTemplateActionInput, CreateExperimentTemplateStopConditionInput,
        CreateExperimentTemplateTargetInput,
    };
    let fis = aws_sdk_fis::Client::new(cfg);
    let template = fis
        .create_experiment_template()
        .description("stop tagged instances")
        .role_arn(format!("arn:aws:iam::{id}:role/fis"))
        .stop_conditions(
            CreateExperimentTemplateStopConditionInput::builder()
                .source("none")
                .build()?,
        )
        .targets(
            "instances",
            CreateExperimentTemplateTargetInput::builder()
                .resource_type("aws:ec2:instance")
                .resource_tags("chaos", "ready")
                .selection_mode("COUNT(1)")
                .build()?,
        )
        .actions(
            "stop",
            CreateExperimentTemplateActionInput::builder()
                .action_id("aws:ec2:stop-instances")
                .targets("Instances", "instances")
                .build()?,
        )
        .send()
        .await?;
    if run {
        let template_id = template
            .experiment_template()
            .and_then(|t| t.id())
            .ok_or("CreateExperimentTemplate returned no id")?;
        let started = fis
            .start_experiment()
            .experiment_template_id(template_id)
            .send()
            .await?;
        let experiment = started
            .experiment()
            .and_then(|e| e.id())
            .ok_or("StartExperiment returned no id")?;
        // Wait for it to run to its end, as an operator would.
        for _ in 0..10 {
            let state = fis.get_experiment().id(experiment).send().await?;
            let status = state
                .experiment()
                .and_then(|e| e.state())
                .and_then(|s| s.status())
                .map(|s| s.as_str().to_owned());
            if status.as_deref() == Some("completed") {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        return Err("the FIS experiment did not complete".into());
    }
    Ok(())
}

/// A CloudFormation stack `name` holding one SSM parameter, checked for drift when `detect`.
async fn stack(cfg: &SdkConfig, name: &str, detect: bool) -> SeedResult<()> {
    let cfn = aws_sdk_cloudformation::Client::new(cfg);
    let template = format!(
        r#"{{"Resources":{{"Version":{{"Type":"AWS::SSM::Parameter","Properties":{{"Name":"/{name}/version","Type":"String","Value":"1"}}}}}}}}"#
    );
    cfn.create_stack()
        .stack_name(name)
        .template_body(template)
        .send()
        .await?;
    if detect {
        cfn.detect_stack_drift().stack_name(name).send().await?;
    }
    Ok(())
}

/// A Route 53 HTTPS health check of `fqdn`'s `/health`, disabled when `disabled`.
async fn health_check(cfg: &SdkConfig, fqdn: &str, disabled: bool) -> SeedResult<()> {
    use aws_sdk_route53::types::{HealthCheckConfig, HealthCheckType};
    aws_sdk_route53::Client::new(cfg)
        .create_health_check()
        .caller_reference(fqdn)
        .health_check_config(
            HealthCheckConfig::builder()
                .r#type(HealthCheckType::Https)
                .fully_qualified_domain_name(fqdn)
                .port(443)
                .resource_path("/health")
                .disabled(disabled)
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

/// A CloudWatch Synthetics canary, created and never started (state `READY`).
async fn idle_canary(cfg: &SdkConfig, id: &str) -> SeedResult<()> {
    use aws_sdk_synthetics::types::{CanaryCodeInput, CanaryScheduleInput};
    aws_sdk_synthetics::Client::new(cfg)
        .create_canary()
        .name("legacy-home")
        .code(
            CanaryCodeInput::builder()
                .handler("index.handler")
                .s3_bucket(format!("legacy-{id}-canaries"))
                .s3_key("home.zip")
                .build(),
        )
        .artifact_s3_location(format!("s3://legacy-{id}-canaries/artifacts"))
        .execution_role_arn(format!("arn:aws:iam::{id}:role/canary"))
        .schedule(
            CanaryScheduleInput::builder()
                .expression("rate(5 minutes)")
                .build()?,
        )
        .runtime_version("syn-nodejs-puppeteer-9.1")
        .send()
        .await?;
    Ok(())
}

/// A DynamoDB table, with point-in-time recovery when `pitr`.
async fn table(cfg: &SdkConfig, name: &str, pitr: bool) -> SeedResult<()> {
    use aws_sdk_dynamodb::types::*;
    let ddb = aws_sdk_dynamodb::Client::new(cfg);
    ddb.create_table()
        .table_name(name)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()?,
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await?;
    if pitr {
        ddb.update_continuous_backups()
            .table_name(name)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()?,
            )
            .send()
            .await?;
    }
    Ok(())
}

/// An EC2 instance in the default VPC, of an AMI registered for it, whose metadata service
/// requires IMDSv2 tokens when `imdsv2`, else accepts IMDSv1 too. Returns its id.
async fn instance(cfg: &SdkConfig, name: &str, imdsv2: bool) -> SeedResult<String> {
    use aws_sdk_ec2::types::*;
    let tokens = if imdsv2 {
        HttpTokensState::Required
    } else {
        HttpTokensState::Optional
    };
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    // The instance's own AMI, registered now (the emulator loads no stock AMIs).
    let ami = ec2
        .register_image()
        .name(format!("{name}-base"))
        .send()
        .await?
        .image_id()
        .ok_or("RegisterImage returned no id")?
        .to_owned();
    let out = ec2
        .run_instances()
        .image_id(ami)
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .metadata_options(
            InstanceMetadataOptionsRequest::builder()
                .http_tokens(tokens)
                .http_endpoint(InstanceMetadataEndpointState::Enabled)
                .build(),
        )
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(Tag::builder().key("Name").value(name).build())
                .build(),
        )
        .send()
        .await?;
    Ok(out
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .ok_or("no instance id")?
        .to_owned())
}

/// A Secrets Manager secret, rotated every 30 days when `rotated`.
async fn secret(cfg: &SdkConfig, name: &str, rotated: bool) -> SeedResult<()> {
    let sm = aws_sdk_secretsmanager::Client::new(cfg);
    sm.create_secret()
        .name(name)
        .secret_string("Correct-Horse-Battery-9")
        .send()
        .await?;
    if rotated {
        sm.rotate_secret()
            .secret_id(name)
            .rotation_rules(
                aws_sdk_secretsmanager::types::RotationRulesType::builder()
                    .automatically_after_days(30)
                    .build(),
            )
            .rotate_immediately(false)
            .send()
            .await?;
    }
    Ok(())
}

/// A customer-managed KMS key without automatic rotation.
async fn unrotated_key(cfg: &SdkConfig, description: &str) -> SeedResult<()> {
    aws_sdk_kms::Client::new(cfg)
        .create_key()
        .description(description)
        .send()
        .await?;
    Ok(())
}

/// A self-signed certificate for `common_name` uploaded as an IAM server certificate (made with
/// openssl, which the tests' Debian packages include); returns its ARN.
async fn server_certificate(cfg: &SdkConfig, common_name: &str) -> SeedResult<String> {
    let dir = tempfile::tempdir()?;
    let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
    let out = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args(["-subj", &format!("/CN={common_name}")])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .map_err(|e| format!("cannot run openssl (apt-get install openssl): {e}"))?;
    if !out.status.success() {
        return Err(format!("openssl failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let iam = aws_sdk_iam::Client::new(cfg);
    let up = iam
        .upload_server_certificate()
        .server_certificate_name(common_name)
        .certificate_body(std::fs::read_to_string(&cert)?)
        .private_key(std::fs::read_to_string(&key)?)
        .send()
        .await?;
    Ok(up
        .server_certificate_metadata()
        .map(|m| m.arn().to_owned())
        .ok_or("no certificate ARN")?)
}

/// An HTTPS:443 listener on the load balancer with the TLS security policy `ssl_policy`,
/// forwarding to a new HTTPS target group `{name}-tls-tg`; adding HSTS, `nosniff` and
/// `X-Frame-Options: DENY` to its responses when `headers`.
async fn https_listener(
    cfg: &SdkConfig,
    lb_arn: &str,
    name: &str,
    ssl_policy: &str,
    headers: bool,
) -> SeedResult<()> {
    use aws_sdk_elasticloadbalancingv2::types::*;
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let (vpc_id, _) = default_vpc(&ec2).await?;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(cfg);
    let tg_arn = target_group(
        &elb,
        &vpc_id,
        &format!("{name}-tls-tg"),
        ProtocolEnum::Https,
        443,
    )
    .await?;
    let cert = server_certificate(cfg, &format!("{name}.example.com")).await?;
    let listener = elb
        .create_listener()
        .load_balancer_arn(lb_arn)
        .protocol(ProtocolEnum::Https)
        .port(443)
        .ssl_policy(ssl_policy)
        .certificates(Certificate::builder().certificate_arn(cert).build())
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(tg_arn)
                .build(),
        )
        .send()
        .await?;
    if headers {
        let arn = listener
            .listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .ok_or("CreateListener returned no listener")?;
        let attribute = |key: &str, value: &str| {
            ListenerAttribute::builder()
                .key(format!("routing.http.response.{key}.header_value"))
                .value(value)
                .build()
        };
        elb.modify_listener_attributes()
            .listener_arn(arn)
            .attributes(attribute(
                "strict_transport_security",
                "max-age=31536000; includeSubDomains",
            ))
            .attributes(attribute("x_content_type_options", "nosniff"))
            .attributes(attribute("x_frame_options", "DENY"))
            .send()
            .await?;
    }
    Ok(())
}

/// A role that anyone may assume: its trust policy allows the `*` principal without a condition.
async fn public_role(cfg: &SdkConfig, name: &str) -> SeedResult<()> {
    aws_sdk_iam::Client::new(cfg)
        .create_role()
        .role_name(name)
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await?;
    Ok(())
}

/// A CloudFront distribution of an S3 origin whose default behavior serves plain HTTP.
async fn http_distribution(cfg: &SdkConfig, name: &str) -> SeedResult<()> {
    use aws_sdk_cloudfront::types::*;
    let origin = Origin::builder()
        .id("assets")
        .domain_name(format!("{name}.s3.amazonaws.com"))
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .build()?;
    aws_sdk_cloudfront::Client::new(cfg)
        .create_distribution()
        .distribution_config(
            DistributionConfig::builder()
                .caller_reference(name)
                .comment(name)
                .enabled(true)
                .origins(Origins::builder().quantity(1).items(origin).build()?)
                .default_cache_behavior(
                    DefaultCacheBehavior::builder()
                        .target_origin_id("assets")
                        .viewer_protocol_policy(ViewerProtocolPolicy::AllowAll)
                        .build()?,
                )
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

/// Amazon Inspector's EC2 and ECR scanning of account `id`, enabled or disabled in every demo
/// region (disabling records the account's status, which moto otherwise does not know).
async fn inspector(cfg: &SdkConfig, id: &str, enabled: bool) -> SeedResult<()> {
    use aws_sdk_inspector2::types::ResourceScanType;
    for region in REGIONS {
        let client = aws_sdk_inspector2::Client::new(&in_region(cfg, region));
        let types = [ResourceScanType::Ec2, ResourceScanType::Ecr];
        if enabled {
            client
                .enable()
                .account_ids(id)
                .set_resource_types(Some(types.to_vec()))
                .send()
                .await?;
        } else {
            client
                .disable()
                .account_ids(id)
                .set_resource_types(Some(types.to_vec()))
                .send()
                .await?;
        }
    }
    Ok(())
}

/// Patch Manager's compliance of instance `instance` (reported as Patch Manager does, with
/// `PutComplianceItems` of type `Patch`; served by the shim): compliant, or missing a critical
/// security update.
async fn patch_compliance(cfg: &SdkConfig, instance: &str, compliant: bool) -> SeedResult<()> {
    use aws_sdk_ssm::types::{
        ComplianceExecutionSummary, ComplianceItemEntry, ComplianceSeverity, ComplianceStatus,
    };
    let (status, severity) = if compliant {
        (ComplianceStatus::Compliant, ComplianceSeverity::Unspecified)
    } else {
        (ComplianceStatus::NonCompliant, ComplianceSeverity::Critical)
    };
    aws_sdk_ssm::Client::new(cfg)
        .put_compliance_items()
        .resource_id(instance)
        .resource_type("ManagedInstance")
        .compliance_type("Patch")
        .execution_summary(
            ComplianceExecutionSummary::builder()
                .execution_time(aws_sdk_ssm::primitives::DateTime::from_secs(
                    chrono::Utc::now().timestamp(),
                ))
                .build()?,
        )
        .items(
            ComplianceItemEntry::builder()
                .id("KB5034441")
                .title("Security update for the kernel")
                .severity(severity)
                .status(status)
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

/// A Docker image manifest (schema 2) whose digest ECR computes on `PutImage`.
const IMAGE_MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1470,"digest":"sha256:9c7a54a9a43cca047013b82af109fe963fde787f63f9e016fdc3384500c2823d"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":3370706,"digest":"sha256:8a49fdb3b6a5ff2bd8ec6a86c05b2922a0f7454579ecc07637e94dfd1d0639b6"}]}"#;

/// An ECR repository, an ECS service of a task definition and its deployment, in the first demo
/// region; `sound`: an immutable repository shared with the organization only and scanned
/// continuously by Inspector, holding an image pushed now, a digest-pinned non-root task with
/// limits and its secret from Secrets Manager, deployed by CodeDeploy as a watched canary, and
/// a one-off task of it running on Fargate; otherwise a mutable public
/// repository with basic scanning and a root, unlimited, tag-pinned task with its password in the
/// environment, rolled by ECS without a circuit breaker.
async fn containers(cfg: &SdkConfig, id: &str, sound: bool) -> SeedResult<()> {
    use aws_sdk_ecs::types::{
        ContainerDefinition, DeploymentController, DeploymentControllerType, KeyValuePair, Secret,
    };
    let region = REGIONS[0];
    let ecr = aws_sdk_ecr::Client::new(cfg);
    let (repo, mutability) = if sound {
        ("api", aws_sdk_ecr::types::ImageTagMutability::Immutable)
    } else {
        (
            "legacy-web",
            aws_sdk_ecr::types::ImageTagMutability::Mutable,
        )
    };
    ecr.create_repository()
        .repository_name(repo)
        .image_tag_mutability(mutability)
        .send()
        .await?;
    let policy = if sound {
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"OrgPull","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-demo"}}}]}"#
    } else {
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"AnyonePull","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#
    };
    ecr.set_repository_policy()
        .repository_name(repo)
        .policy_text(policy)
        .send()
        .await?;
    if sound {
        use aws_sdk_ecr::types::{
            RegistryScanningRule, ScanFrequency, ScanType, ScanningRepositoryFilter,
            ScanningRepositoryFilterType,
        };
        ecr.put_registry_scanning_configuration()
            .scan_type(ScanType::Enhanced)
            .rules(
                RegistryScanningRule::builder()
                    .scan_frequency(ScanFrequency::ContinuousScan)
                    .repository_filters(
                        ScanningRepositoryFilter::builder()
                            .filter("*")
                            .filter_type(ScanningRepositoryFilterType::Wildcard)
                            .build()?,
                    )
                    .build()?,
            )
            .send()
            .await?;
    }
    inspector(cfg, id, sound).await?;

    let ecs = aws_sdk_ecs::Client::new(cfg);
    let cluster = if sound { "prod" } else { "legacy" };
    // Container Insights in production only (AWS's default is off).
    let insights = if sound { "enabled" } else { "disabled" };
    ecs.create_cluster()
        .cluster_name(cluster)
        .settings(
            aws_sdk_ecs::types::ClusterSetting::builder()
                .name(aws_sdk_ecs::types::ClusterSettingName::ContainerInsights)
                .value(insights)
                .build(),
        )
        .send()
        .await?;
    let image_repo = format!("{id}.dkr.ecr.{region}.amazonaws.com/{repo}");
    let container = if sound {
        // The image pushed now: ECR names it by the digest of its manifest.
        let pushed = ecr
            .put_image()
            .repository_name(repo)
            .image_tag("1.0")
            .image_manifest(IMAGE_MANIFEST)
            .send()
            .await?;
        let digest = pushed
            .image()
            .and_then(|i| i.image_id())
            .and_then(|i| i.image_digest())
            .ok_or("PutImage returned no digest")?
            .to_owned();
        ContainerDefinition::builder()
            .name("app")
            .image(format!("{image_repo}@{digest}"))
            // moto's RunTask sums the containers' memory (and fails without it).
            .memory(512)
            .user("1000:1000")
            .environment(
                KeyValuePair::builder()
                    .name("LOG_LEVEL")
                    .value("info")
                    .build(),
            )
            .secrets(
                Secret::builder()
                    .name("DB_PASSWORD")
                    .value_from(format!(
                        "arn:aws:secretsmanager:{region}:{id}:secret:prod/orders-db"
                    ))
                    .build()?,
            )
            .build()
    } else {
        ContainerDefinition::builder()
            .name("web")
            .image(format!("{image_repo}:latest"))
            .privileged(true)
            // A soft limit only (ECS requires one of memory and memoryReservation on EC2).
            .memory_reservation(128)
            .environment(
                KeyValuePair::builder()
                    .name("DB_PASSWORD")
                    .value("Correct-Horse-Battery-9")
                    .build(),
            )
            .build()
    };
    let mut task = ecs
        .register_task_definition()
        .family(repo)
        .container_definitions(container);
    if sound {
        task = task.cpu("256").memory("512");
    }
    let task = task.send().await?;
    let task_arn = task
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .ok_or("no task definition ARN")?
        .to_owned();
    let controller = if sound {
        DeploymentControllerType::CodeDeploy
    } else {
        DeploymentControllerType::Ecs
    };
    ecs.create_service()
        .cluster(cluster)
        .service_name(repo)
        .task_definition(&task_arn)
        .desired_count(2)
        .deployment_controller(DeploymentController::builder().r#type(controller).build()?)
        .send()
        .await?;
    if !sound {
        return Ok(());
    }
    // A one-off task of the same image runs on Fargate (moto starts no task for a service).
    ecs.run_task()
        .cluster(cluster)
        .task_definition(&task_arn)
        .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
        .count(1)
        .send()
        .await?;
    use aws_sdk_codedeploy::types::{
        Alarm, AlarmConfiguration, ComputePlatform, DeploymentOption, DeploymentStyle,
        DeploymentType, EcsService,
    };
    let cd = aws_sdk_codedeploy::Client::new(cfg);
    cd.create_application()
        .application_name("shop")
        .compute_platform(ComputePlatform::Ecs)
        .send()
        .await?;
    cd.create_deployment_group()
        .application_name("shop")
        .deployment_group_name("api")
        .service_role_arn(format!("arn:aws:iam::{id}:role/codedeploy"))
        .deployment_config_name("CodeDeployDefault.ECSCanary10Percent5Minutes")
        .deployment_style(
            DeploymentStyle::builder()
                .deployment_type(DeploymentType::BlueGreen)
                .deployment_option(DeploymentOption::WithTrafficControl)
                .build(),
        )
        .alarm_configuration(
            AlarmConfiguration::builder()
                .enabled(true)
                .alarms(Alarm::builder().name("api-5xx").build())
                .build(),
        )
        .ecs_services(
            EcsService::builder()
                .cluster_name(cluster)
                .service_name(repo)
                .build(),
        )
        .send()
        .await?;
    Ok(())
}

/// An organization of `n` member accounts named `<prefix>-NN` with nothing in them but, in the
/// first, a console user `alice` with MFA; returns their ids in creation order.
pub async fn bare_organization(endpoint: &str, n: usize, prefix: &str) -> Vec<String> {
    let mgmt = management_config(endpoint).await;
    let org = aws_sdk_organizations::Client::new(&mgmt);
    org.create_organization().send().await.unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let out = org
            .create_account()
            .email(format!("r{i}@example.com"))
            .account_name(format!("{prefix}-{i:02}"))
            .send()
            .await
            .unwrap();
        ids.push(
            out.create_account_status()
                .and_then(|s| s.account_id())
                .unwrap()
                .to_owned(),
        );
    }
    let member = member_config(&mgmt, &ids[0]).await.unwrap();
    console_user(&aws_sdk_iam::Client::new(&member), "alice", true)
        .await
        .unwrap();
    ids
}

/// The serial number of `user`'s first MFA device.
pub async fn mfa_serial(iam: &aws_sdk_iam::Client, user: &str) -> String {
    iam.list_mfa_devices()
        .user_name(user)
        .send()
        .await
        .unwrap()
        .mfa_devices()[0]
        .serial_number()
        .to_owned()
}

/// Deactivates alice's MFA device in `account`: `iam_console_users_mfa_enabled` fails.
pub async fn break_mfa(endpoint: &str, account: &str) {
    let mgmt = management_config(endpoint).await;
    let member = member_config(&mgmt, account).await.expect("member config");
    let iam = aws_sdk_iam::Client::new(&member);
    let serial = mfa_serial(&iam, "alice").await;
    iam.deactivate_mfa_device()
        .user_name("alice")
        .serial_number(&serial)
        .send()
        .await
        .unwrap();
}
