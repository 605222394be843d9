//! The typed facts of one account, as the collectors read them and the checks judge them.
//!
//! Every field is a [`Fact`]: either what AWS answered or the error that stands in for it. Facts that
//! no enabled check needs stay `Err(NotCollected)`; [`Need`] says which facts a check reads, so the
//! collectors read exactly those.

use crate::facts::{Fact, FactError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A group of facts a check can ask for. Each need names the API operations that read it and the
/// IAM actions those operations require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Need {
    /// IAM `GetAccountSummary`: root MFA and root access keys.
    IamAccountSummary,
    /// IAM `GenerateCredentialReport` + `GetCredentialReport`: per-user password, MFA, keys.
    IamCredentialReport,
    /// IAM `ListUsers`, then `GetLoginProfile` per user and `ListMFADevices` per user with a
    /// console password or an active access key: who can sign in and with which MFA devices now,
    /// as the credential report may be up to four hours old.
    IamSignIn,
    /// IAM `GetAccountAuthorizationDetails`: users, groups, roles and policies with their documents;
    /// `GetPolicy` + `GetPolicyVersion` for each AWS-managed policy a principal holds.
    IamAuthorizationDetails,
    /// S3 `ListBuckets` (+ `GetBucketLocation` where the listing lacks the region).
    S3Buckets,
    /// S3 `GetBucketEncryption` per bucket.
    S3BucketEncryption,
    /// S3 `GetPublicAccessBlock` per bucket.
    S3BucketPublicAccessBlock,
    /// CloudTrail `DescribeTrails` per region, `GetTrailStatus` and `GetEventSelectors` per trail.
    CloudTrailTrails,
    /// EC2 `DescribeSecurityGroups` per region.
    Ec2SecurityGroups,
    /// ELBv2 `DescribeLoadBalancers` + `DescribeListeners` (+ `DescribeRules` on HTTP listeners).
    Elbv2Listeners,
    /// RDS `DescribeDBInstances` and `DescribeDBClusters` per region.
    RdsInstances,
    /// IAM `GetAccountPasswordPolicy`.
    IamPasswordPolicy,
    /// S3 `GetBucketPolicy` per bucket.
    S3BucketPolicy,
    /// S3 `GetBucketVersioning` per bucket.
    S3BucketVersioning,
    /// S3 Control `GetPublicAccessBlock` of the account.
    S3AccountPublicAccessBlock,
    /// IAM Access Analyzer `ListAnalyzers` per region.
    AccessAnalyzers,
    /// ELBv2 `DescribeTargetGroups` per region.
    Elbv2TargetGroups,
    /// Elastic Load Balancing (Classic) `DescribeLoadBalancers` per region, with their listeners.
    ElbClassicListeners,
    /// CloudFront `ListDistributions` (global).
    CloudFrontDistributions,
    /// WAFv2 `GetWebACLForResource` per internet-facing application load balancer.
    Wafv2LoadBalancerAcls,
    /// AWS Backup `ListBackupPlans` per region, with `GetBackupPlan` and `ListBackupSelections` per plan.
    BackupPlans,
    /// DynamoDB `ListTables` per region and `DescribeContinuousBackups` per table.
    DynamoDbTables,
    /// AWS Config `DescribeConfigurationRecorders` + `DescribeConfigurationRecorderStatus` per region.
    ConfigRecorders,
    /// EC2 `DescribeVpcs` + `DescribeFlowLogs` per region.
    Ec2VpcFlowLogs,
    /// EC2 `DescribeInstances` per region.
    Ec2Instances,
    /// EC2 `GetEbsEncryptionByDefault` per region.
    Ec2EbsDefaultEncryption,
    /// KMS `ListKeys` per region with `DescribeKey` and `GetKeyRotationStatus` per key.
    KmsKeys,
    /// Secrets Manager `ListSecrets` per region.
    SecretsManagerSecrets,
    /// KMS `GetKeyPolicy` per customer-managed key (with the key listing).
    KmsKeyPolicies,
    /// Secrets Manager `GetResourcePolicy` per secret (with the secret listing).
    SecretsManagerPolicies,
    /// RDS `DescribeDBSnapshots` and `DescribeDBClusterSnapshots` (manual snapshots) per region,
    /// with `DescribeDBSnapshotAttributes` / `DescribeDBClusterSnapshotAttributes` per snapshot.
    RdsSnapshots,
    /// EC2 `DescribeSnapshots` of the account's own EBS snapshots per region, once for all and once
    /// for those restorable by everyone.
    Ec2EbsSnapshots,
    /// SQS `ListQueues` per region and `GetQueueAttributes` (its policy) per queue.
    SqsQueues,
    /// SNS `ListTopics` per region and `GetTopicAttributes` (its policy) per topic.
    SnsTopics,
    /// Lambda `ListFunctions` per region and `GetPolicy` per function.
    LambdaFunctions,
    /// Budgets `DescribeBudgets` and `DescribeNotificationsForBudget` per budget (global).
    Budgets,
    /// CloudWatch Logs `DescribeMetricFilters` and CloudWatch `DescribeAlarms` per region.
    CloudWatchMetricAlarms,
    /// CloudWatch `ListDashboards` per region.
    CloudWatchDashboards,
    /// Route 53 `ListHealthChecks` (global).
    Route53HealthChecks,
    /// CloudWatch Synthetics `DescribeCanaries` per region.
    SyntheticsCanaries,
    /// GuardDuty `ListDetectors` + `GetDetector` per region.
    GuardDutyDetectors,
    /// Security Hub `DescribeHub` + `GetEnabledStandards` per region.
    SecurityHub,
    /// ECR `DescribeRepositories` per region.
    EcrRepositories,
    /// ECR `GetRepositoryPolicy` per repository (AWS has no call that lists the policies).
    EcrRepositoryPolicies,
    /// ECR `GetRegistryScanningConfiguration` per region.
    EcrRegistryScanning,
    /// ECS `ListClusters`, `ListServices` per cluster and `DescribeServices` (ten at a time) per
    /// region.
    EcsServices,
    /// ECS `DescribeTaskDefinition` per task definition that a service runs (AWS has no batch
    /// call for task definitions).
    EcsTaskDefinitions,
    /// ECS `ListClusters`, `ListTasks` (desired status `RUNNING`) per cluster and `DescribeTasks`
    /// (a hundred at a time) per region, with ECR `DescribeImages` for the images those tasks run
    /// (per repository, a hundred image ids at a time): when each running image was pushed.
    EcsRunningTasks,
    /// EC2 `DescribeImages` of the AMIs that the region's instances run (a hundred ids at a time):
    /// when each was created. Needs the instances.
    Ec2InstanceImages,
    /// CloudFormation `DescribeStacks` per region, with each stack's drift information.
    CloudFormationStacks,
    /// AWS Fault Injection Service `ListExperiments` per region.
    FisExperiments,
    /// EC2 Image Builder `ListImagePipelines` per region.
    ImageBuilderPipelines,
    /// Cost Explorer's anomaly detection: `GetAnomalyMonitors` and `GetAnomalySubscriptions`
    /// (global, read once in us-east-1).
    CostAnomalyDetection,
    /// ELBv2 `DescribeListenerAttributes` per HTTPS listener of an internet-facing application
    /// load balancer (AWS has no call that lists them). Needs the listeners.
    Elbv2ListenerAttributes,
    /// WAFv2 `GetWebACL` per web ACL that protects an internet-facing application load balancer
    /// or a CloudFront distribution (AWS has no call that lists rules). Needs both.
    Wafv2WebAclRules,
    /// CloudFront `GetResponseHeadersPolicy` per response headers policy that a distribution's
    /// cache behavior uses (global). Needs the distributions.
    CloudFrontResponseHeadersPolicies,
    /// CodeDeploy `ListApplications`, `ListDeploymentGroups` per application,
    /// `GetDeploymentGroup` per group and `GetDeploymentConfig` per custom deployment
    /// configuration (the predefined `CodeDeployDefault.*` ones are known by name), per region.
    CodeDeployDeploymentGroups,
    /// Inspector `BatchGetAccountStatus` of the account, per region.
    Inspector2AccountStatus,
    /// Systems Manager `DescribeInstanceInformation` and `ListResourceComplianceSummaries`
    /// (compliance type `Patch`) per region.
    SsmPatchCompliance,
    /// CloudWatch `ListMetrics` of the CloudWatch agent (namespace `CWAgent`, dimension
    /// `InstanceId`, recently active `PT3H`) per region where an instance runs. Needs the
    /// instances.
    CloudWatchAgentMetrics,
    /// ECS `ListClusters` and `DescribeClusters` (with their settings, a hundred at a time) per
    /// region.
    EcsClusters,
    /// CloudWatch Logs `DescribeLogGroups` (one page of one group: whether the region has any)
    /// and `DescribeAccountPolicies` (type `SUBSCRIPTION_FILTER_POLICY`) per region.
    LogsSubscriptionPolicies,
    /// CloudWatch Observability Access Manager `ListLinks` per region: the account's links to
    /// monitoring accounts' sinks.
    OamLinks,
    /// Security Hub `ListEnabledProductsForImport` per region where Security Hub is enabled.
    /// Needs the hub.
    SecurityHubProducts,
    /// AWS Organizations `DescribeOrganization`, `ListAccounts` and `ListTagsForResource` per
    /// audited account: read once per run for the whole organization ([`Need::is_organization`]).
    OrganizationAccounts,
    /// AWS Organizations `ListDelegatedAdministrators` and `ListDelegatedServicesForAccount` per
    /// delegated administrator (with `DescribeOrganization`): read once per run.
    OrganizationDelegatedAdministrators,
    /// IAM `ListOrganizationsFeatures` of the organization (centralized root access): read once
    /// per run with the organization's credentials.
    OrganizationRootCredentialsManagement,
    /// IAM Access Analyzer `ListAnalyzers` (type `ORGANIZATION`), per audited region, in each
    /// account that can hold an analyzer whose zone of trust is the organization: the delegated
    /// administrators of `access-analyzer.amazonaws.com` (through their audit role) and the
    /// management account. Read once per run; needs the delegated administrators and the accounts.
    OrganizationAnalyzers,
    /// Amazon Detective `ListGraphs` and `ListMembers` per graph, per audited region, in each
    /// account that can administer the organization's behavior graphs (the delegated
    /// administrators of `detective.amazonaws.com` and the management account). Read once per run;
    /// needs the delegated administrators and the accounts.
    OrganizationDetectiveGraphs,
    /// Amazon Detective `ListGraphs` per region: the behavior graphs the account administers.
    DetectiveGraphs,
    /// IAM `GenerateServiceLastAccessedDetails` and `GetServiceLastAccessedDetails` (polled) per
    /// user and role, within a budget of jobs per run and kept in the agent's state between runs
    /// ([`crate::last_accessed`]); needs the principals of [`Need::IamAuthorizationDetails`].
    IamServiceLastAccessed,
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
            Need::IamSignIn => &[
                op!("iam", "ListUsers", "iam:ListUsers"),
                op!("iam", "GetLoginProfile", "iam:GetLoginProfile"),
                op!("iam", "ListMFADevices", "iam:ListMFADevices"),
            ],
            Need::IamAuthorizationDetails => &[
                op!(
                    "iam",
                    "GetAccountAuthorizationDetails",
                    "iam:GetAccountAuthorizationDetails"
                ),
                op!("iam", "GetPolicy", "iam:GetPolicy"),
                op!("iam", "GetPolicyVersion", "iam:GetPolicyVersion"),
            ],
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
                op!(
                    "cloudtrail",
                    "GetEventSelectors",
                    "cloudtrail:GetEventSelectors"
                ),
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
            Need::RdsInstances => &[
                op!("rds", "DescribeDBInstances", "rds:DescribeDBInstances"),
                op!("rds", "DescribeDBClusters", "rds:DescribeDBClusters"),
            ],
            Need::IamPasswordPolicy => &[op!(
                "iam",
                "GetAccountPasswordPolicy",
                "iam:GetAccountPasswordPolicy"
            )],
            Need::S3BucketPolicy => &[op!("s3", "GetBucketPolicy", "s3:GetBucketPolicy")],
            Need::S3BucketVersioning => {
                &[op!("s3", "GetBucketVersioning", "s3:GetBucketVersioning")]
            }
            Need::S3AccountPublicAccessBlock => &[op!(
                "s3control",
                "GetPublicAccessBlock",
                "s3:GetAccountPublicAccessBlock"
            )],
            Need::AccessAnalyzers => &[op!(
                "access-analyzer",
                "ListAnalyzers",
                "access-analyzer:ListAnalyzers"
            )],
            Need::Elbv2TargetGroups => &[op!(
                "elasticloadbalancing",
                "DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetGroups"
            )],
            Need::ElbClassicListeners => &[op!(
                "elb",
                "DescribeLoadBalancers",
                "elasticloadbalancing:DescribeLoadBalancers"
            )],
            Need::CloudFrontDistributions => &[op!(
                "cloudfront",
                "ListDistributions",
                "cloudfront:ListDistributions"
            )],
            Need::Wafv2LoadBalancerAcls => &[op!(
                "wafv2",
                "GetWebACLForResource",
                "wafv2:GetWebACLForResource"
            )],
            Need::BackupPlans => &[
                op!("backup", "ListBackupPlans", "backup:ListBackupPlans"),
                op!("backup", "GetBackupPlan", "backup:GetBackupPlan"),
                op!(
                    "backup",
                    "ListBackupSelections",
                    "backup:ListBackupSelections"
                ),
            ],
            Need::DynamoDbTables => &[
                op!("dynamodb", "ListTables", "dynamodb:ListTables"),
                op!(
                    "dynamodb",
                    "DescribeContinuousBackups",
                    "dynamodb:DescribeContinuousBackups"
                ),
            ],
            Need::ConfigRecorders => &[
                op!(
                    "config",
                    "DescribeConfigurationRecorders",
                    "config:DescribeConfigurationRecorders"
                ),
                op!(
                    "config",
                    "DescribeConfigurationRecorderStatus",
                    "config:DescribeConfigurationRecorderStatus"
                ),
            ],
            Need::Ec2VpcFlowLogs => &[
                op!("ec2", "DescribeVpcs", "ec2:DescribeVpcs"),
                op!("ec2", "DescribeFlowLogs", "ec2:DescribeFlowLogs"),
            ],
            Need::Ec2Instances => &[op!("ec2", "DescribeInstances", "ec2:DescribeInstances")],
            Need::Ec2EbsDefaultEncryption => &[op!(
                "ec2",
                "GetEbsEncryptionByDefault",
                "ec2:GetEbsEncryptionByDefault"
            )],
            Need::KmsKeys => &[
                op!("kms", "ListKeys", "kms:ListKeys"),
                op!("kms", "DescribeKey", "kms:DescribeKey"),
                op!("kms", "GetKeyRotationStatus", "kms:GetKeyRotationStatus"),
            ],
            Need::SecretsManagerSecrets => &[op!(
                "secretsmanager",
                "ListSecrets",
                "secretsmanager:ListSecrets"
            )],
            Need::KmsKeyPolicies => &[op!("kms", "GetKeyPolicy", "kms:GetKeyPolicy")],
            Need::SecretsManagerPolicies => &[op!(
                "secretsmanager",
                "GetResourcePolicy",
                "secretsmanager:GetResourcePolicy"
            )],
            Need::RdsSnapshots => &[
                op!("rds", "DescribeDBSnapshots", "rds:DescribeDBSnapshots"),
                op!(
                    "rds",
                    "DescribeDBSnapshotAttributes",
                    "rds:DescribeDBSnapshotAttributes"
                ),
                op!(
                    "rds",
                    "DescribeDBClusterSnapshots",
                    "rds:DescribeDBClusterSnapshots"
                ),
                op!(
                    "rds",
                    "DescribeDBClusterSnapshotAttributes",
                    "rds:DescribeDBClusterSnapshotAttributes"
                ),
            ],
            Need::Ec2EbsSnapshots => &[op!("ec2", "DescribeSnapshots", "ec2:DescribeSnapshots")],
            Need::SqsQueues => &[
                op!("sqs", "ListQueues", "sqs:ListQueues"),
                op!("sqs", "GetQueueAttributes", "sqs:GetQueueAttributes"),
            ],
            Need::SnsTopics => &[
                op!("sns", "ListTopics", "sns:ListTopics"),
                op!("sns", "GetTopicAttributes", "sns:GetTopicAttributes"),
            ],
            Need::LambdaFunctions => &[
                op!("lambda", "ListFunctions", "lambda:ListFunctions"),
                op!("lambda", "GetPolicy", "lambda:GetPolicy"),
            ],
            Need::Budgets => &[
                op!("budgets", "DescribeBudgets", "budgets:ViewBudget"),
                op!(
                    "budgets",
                    "DescribeNotificationsForBudget",
                    "budgets:ViewBudget"
                ),
            ],
            Need::CloudWatchMetricAlarms => &[
                op!(
                    "logs",
                    "DescribeMetricFilters",
                    "logs:DescribeMetricFilters"
                ),
                op!("cloudwatch", "DescribeAlarms", "cloudwatch:DescribeAlarms"),
            ],
            Need::CloudWatchDashboards => &[op!(
                "cloudwatch",
                "ListDashboards",
                "cloudwatch:ListDashboards"
            )],
            Need::Route53HealthChecks => &[op!(
                "route53",
                "ListHealthChecks",
                "route53:ListHealthChecks"
            )],
            Need::SyntheticsCanaries => &[op!(
                "synthetics",
                "DescribeCanaries",
                "synthetics:DescribeCanaries"
            )],
            Need::GuardDutyDetectors => &[
                op!("guardduty", "ListDetectors", "guardduty:ListDetectors"),
                op!("guardduty", "GetDetector", "guardduty:GetDetector"),
            ],
            Need::SecurityHub => &[
                op!("securityhub", "DescribeHub", "securityhub:DescribeHub"),
                op!(
                    "securityhub",
                    "GetEnabledStandards",
                    "securityhub:GetEnabledStandards"
                ),
            ],
            Need::EcrRepositories => &[op!(
                "ecr",
                "DescribeRepositories",
                "ecr:DescribeRepositories"
            )],
            Need::EcrRepositoryPolicies => {
                &[op!("ecr", "GetRepositoryPolicy", "ecr:GetRepositoryPolicy")]
            }
            Need::EcrRegistryScanning => &[op!(
                "ecr",
                "GetRegistryScanningConfiguration",
                "ecr:GetRegistryScanningConfiguration"
            )],
            Need::EcsServices => &[
                op!("ecs", "ListClusters", "ecs:ListClusters"),
                op!("ecs", "ListServices", "ecs:ListServices"),
                op!("ecs", "DescribeServices", "ecs:DescribeServices"),
            ],
            Need::EcsTaskDefinitions => &[op!(
                "ecs",
                "DescribeTaskDefinition",
                "ecs:DescribeTaskDefinition"
            )],
            Need::EcsRunningTasks => &[
                op!("ecs", "ListClusters", "ecs:ListClusters"),
                op!("ecs", "ListTasks", "ecs:ListTasks"),
                op!("ecs", "DescribeTasks", "ecs:DescribeTasks"),
                op!("ecr", "DescribeImages", "ecr:DescribeImages"),
            ],
            Need::Ec2InstanceImages => &[op!("ec2", "DescribeImages", "ec2:DescribeImages")],
            Need::Wafv2WebAclRules => &[op!("wafv2", "GetWebACL", "wafv2:GetWebACL")],
            Need::Elbv2ListenerAttributes => &[op!(
                "elasticloadbalancing",
                "DescribeListenerAttributes",
                "elasticloadbalancing:DescribeListenerAttributes"
            )],
            Need::CloudFrontResponseHeadersPolicies => &[op!(
                "cloudfront",
                "GetResponseHeadersPolicy",
                "cloudfront:GetResponseHeadersPolicy"
            )],
            Need::FisExperiments => &[op!("fis", "ListExperiments", "fis:ListExperiments")],
            Need::ImageBuilderPipelines => &[op!(
                "imagebuilder",
                "ListImagePipelines",
                "imagebuilder:ListImagePipelines"
            )],
            Need::CostAnomalyDetection => &[
                op!("ce", "GetAnomalyMonitors", "ce:GetAnomalyMonitors"),
                op!(
                    "ce",
                    "GetAnomalySubscriptions",
                    "ce:GetAnomalySubscriptions"
                ),
            ],
            Need::CloudFormationStacks => &[op!(
                "cloudformation",
                "DescribeStacks",
                "cloudformation:DescribeStacks"
            )],
            Need::CodeDeployDeploymentGroups => &[
                op!(
                    "codedeploy",
                    "ListApplications",
                    "codedeploy:ListApplications"
                ),
                op!(
                    "codedeploy",
                    "ListDeploymentGroups",
                    "codedeploy:ListDeploymentGroups"
                ),
                op!(
                    "codedeploy",
                    "GetDeploymentGroup",
                    "codedeploy:GetDeploymentGroup"
                ),
                op!(
                    "codedeploy",
                    "GetDeploymentConfig",
                    "codedeploy:GetDeploymentConfig"
                ),
            ],
            Need::Inspector2AccountStatus => &[op!(
                "inspector2",
                "BatchGetAccountStatus",
                "inspector2:BatchGetAccountStatus"
            )],
            Need::SsmPatchCompliance => &[
                op!(
                    "ssm",
                    "DescribeInstanceInformation",
                    "ssm:DescribeInstanceInformation"
                ),
                op!(
                    "ssm",
                    "ListResourceComplianceSummaries",
                    "ssm:ListResourceComplianceSummaries"
                ),
            ],
            Need::CloudWatchAgentMetrics => {
                &[op!("cloudwatch", "ListMetrics", "cloudwatch:ListMetrics")]
            }
            Need::EcsClusters => &[
                op!("ecs", "ListClusters", "ecs:ListClusters"),
                op!("ecs", "DescribeClusters", "ecs:DescribeClusters"),
            ],
            Need::LogsSubscriptionPolicies => &[
                op!("logs", "DescribeLogGroups", "logs:DescribeLogGroups"),
                op!(
                    "logs",
                    "DescribeAccountPolicies",
                    "logs:DescribeAccountPolicies"
                ),
            ],
            Need::OamLinks => &[op!("oam", "ListLinks", "oam:ListLinks")],
            Need::SecurityHubProducts => &[op!(
                "securityhub",
                "ListEnabledProductsForImport",
                "securityhub:ListEnabledProductsForImport"
            )],
            Need::OrganizationAccounts => &[
                op!(
                    "organizations",
                    "DescribeOrganization",
                    "organizations:DescribeOrganization"
                ),
                op!(
                    "organizations",
                    "ListAccounts",
                    "organizations:ListAccounts"
                ),
                op!(
                    "organizations",
                    "ListTagsForResource",
                    "organizations:ListTagsForResource"
                ),
            ],
            Need::OrganizationRootCredentialsManagement => &[
                op!(
                    "organizations",
                    "DescribeOrganization",
                    "organizations:DescribeOrganization"
                ),
                op!(
                    "iam",
                    "ListOrganizationsFeatures",
                    "iam:ListOrganizationsFeatures"
                ),
            ],
            Need::IamServiceLastAccessed => &[
                op!(
                    "iam",
                    "GenerateServiceLastAccessedDetails",
                    "iam:GenerateServiceLastAccessedDetails"
                ),
                op!(
                    "iam",
                    "GetServiceLastAccessedDetails",
                    "iam:GetServiceLastAccessedDetails"
                ),
            ],
            Need::OrganizationDetectiveGraphs => &[
                op!("detective", "ListGraphs", "detective:ListGraphs"),
                op!("detective", "ListMembers", "detective:ListMembers"),
            ],
            Need::DetectiveGraphs => &[op!("detective", "ListGraphs", "detective:ListGraphs")],
            Need::OrganizationAnalyzers => &[op!(
                "access-analyzer",
                "ListAnalyzers",
                "access-analyzer:ListAnalyzers"
            )],
            Need::OrganizationDelegatedAdministrators => &[
                op!(
                    "organizations",
                    "DescribeOrganization",
                    "organizations:DescribeOrganization"
                ),
                op!(
                    "organizations",
                    "ListDelegatedAdministrators",
                    "organizations:ListDelegatedAdministrators"
                ),
                op!(
                    "organizations",
                    "ListDelegatedServicesForAccount",
                    "organizations:ListDelegatedServicesForAccount"
                ),
            ],
        }
    }

    /// Whether the need is read once per run for the whole organization (with the agent's own
    /// credentials or the organization role), rather than per account through its role.
    pub fn is_organization(self) -> bool {
        matches!(
            self,
            Need::OrganizationAccounts
                | Need::OrganizationDelegatedAdministrators
                | Need::OrganizationRootCredentialsManagement
                | Need::OrganizationAnalyzers
                | Need::OrganizationDetectiveGraphs
        )
    }

    /// Needs that this need cannot be read without (per-bucket facts need the bucket list).
    pub fn requires(self) -> &'static [Need] {
        match self {
            Need::S3BucketEncryption
            | Need::S3BucketPublicAccessBlock
            | Need::S3BucketPolicy
            | Need::S3BucketVersioning => &[Need::S3Buckets],
            Need::Wafv2LoadBalancerAcls => &[Need::Elbv2Listeners],
            Need::KmsKeyPolicies => &[Need::KmsKeys],
            Need::SecretsManagerPolicies => &[Need::SecretsManagerSecrets],
            Need::EcrRepositoryPolicies => &[Need::EcrRepositories],
            Need::EcsTaskDefinitions => &[Need::EcsServices],
            Need::Ec2InstanceImages | Need::CloudWatchAgentMetrics => &[Need::Ec2Instances],
            Need::SecurityHubProducts => &[Need::SecurityHub],
            Need::Elbv2ListenerAttributes => &[Need::Elbv2Listeners],
            Need::Wafv2WebAclRules => &[Need::Wafv2LoadBalancerAcls, Need::CloudFrontDistributions],
            Need::CloudFrontResponseHeadersPolicies => &[Need::CloudFrontDistributions],
            Need::IamServiceLastAccessed => &[Need::IamAuthorizationDetails],
            Need::IamSignIn => &[Need::IamCredentialReport],
            Need::OrganizationAnalyzers | Need::OrganizationDetectiveGraphs => &[
                Need::OrganizationDelegatedAdministrators,
                Need::OrganizationAccounts,
            ],
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
    /// CloudFront distributions (a global service, read once).
    pub cloudfront: Fact<Vec<Distribution>>,
    /// Cost budgets of the account with their notifications (a global service, read once).
    pub budgets: Fact<Vec<Budget>>,
    /// Route 53 health checks (a global service, read once).
    pub health_checks: Fact<Vec<HealthCheck>>,
    /// Cost Explorer's anomaly monitors and their alert subscriptions (global, read once).
    pub cost_anomaly: Fact<CostAnomalyDetection>,
    /// The security headers of each CloudFront response headers policy that a distribution
    /// uses, by policy id.
    pub response_headers_policies: Fact<BTreeMap<String, Fact<SecurityHeaders>>>,
    /// The rules of each WAFv2 web ACL that protects a public endpoint, by web ACL ARN (regional
    /// ones and CloudFront's).
    pub web_acls: Fact<BTreeMap<String, Fact<WebAcl>>>,
    /// When the snapshot was started: checks judge ages (key age, unused credentials) against it,
    /// so that they stay pure functions of the snapshot.
    pub collected_at: DateTime<Utc>,
    /// Regional facts, keyed by region; every audited region has an entry.
    pub regional: BTreeMap<String, RegionFacts>,
    /// The organization as AWS Organizations describes it: read once per run, not through the
    /// account's role, and shared by every account of the run.
    #[serde(serialize_with = "serialize_shared")]
    pub organization: Fact<Arc<Organization>>,
}

/// Serializes a shared fact as the fact itself.
fn serialize_shared<S: serde::Serializer, T: Serialize>(
    fact: &Fact<Arc<T>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    fact.as_ref().map(|v| v.as_ref()).serialize(s)
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
            cloudfront: Err(FactError::not_collected("cloudfront", "ListDistributions")),
            budgets: Err(FactError::not_collected("budgets", "DescribeBudgets")),
            health_checks: Err(FactError::not_collected("route53", "ListHealthChecks")),
            cost_anomaly: Err(FactError::not_collected("ce", "GetAnomalyMonitors")),
            web_acls: Err(FactError::not_collected("wafv2", "GetWebACL")),
            response_headers_policies: Err(FactError::not_collected(
                "cloudfront",
                "GetResponseHeadersPolicy",
            )),
            collected_at: Utc::now(),
            regional: regions
                .iter()
                .map(|r| (r.clone(), RegionFacts::default()))
                .collect(),
            organization: Err(FactError::not_collected(
                "organizations",
                "DescribeOrganization",
            )),
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
    /// When IAM generated the credential report (`GetCredentialReport`'s `GeneratedTime`).
    pub credential_report_generated: Option<DateTime<Utc>>,
    /// Every IAM user as IAM lists it now, by name: its console password and MFA devices.
    pub sign_in: Fact<BTreeMap<String, UserSignIn>>,
    pub authorization: Fact<AuthorizationDetails>,
    /// The account password policy; `Ok(None)` when none is set (IAM then applies its default).
    pub password_policy: Fact<Option<PasswordPolicy>>,
    /// IAM's service last-accessed report of each user and role (not service-linked roles), by
    /// principal ARN: every principal of the authorization details has an entry, known or
    /// unknown with the reason (job budget spent, job unfinished or failed, call failed).
    pub service_last_accessed: Fact<BTreeMap<String, PrincipalAccess>>,
}

/// An IAM user as IAM lists it now (`ListUsers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserSignIn {
    pub arn: String,
    /// Whether it has a console password (`GetLoginProfile`).
    pub password: Fact<bool>,
    /// How many MFA devices it has (`ListMFADevices`: virtual, hardware and FIDO alike); not
    /// collected for a user without a console password and without an active access key.
    pub mfa_devices: Fact<usize>,
}

/// Whether a user has MFA, and what says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mfa {
    /// Its devices as listed in this run.
    Listed(bool),
    /// The credential report's `mfa_active`, and why the listing does not decide (`None` when
    /// the user holds no credential and was not listed).
    Report(bool, Option<String>),
    /// IAM no longer lists the user (deleted since the report was generated).
    Deleted,
    /// Neither listed nor in the report: why.
    Unknown(String),
}

impl IamFacts {
    /// The user's MFA now: its listed devices, else the credential report's word.
    pub fn mfa(&self, user: &str) -> Mfa {
        let row = self
            .credential_report
            .as_ref()
            .ok()
            .and_then(|rows| rows.iter().find(|r| r.user == user && !r.is_root));
        let why = match &self.sign_in {
            Ok(users) => match users.get(user) {
                None => return Mfa::Deleted,
                Some(u) => match &u.mfa_devices {
                    Ok(n) => return Mfa::Listed(*n > 0),
                    Err(e) if e.kind == crate::facts::ErrorKind::NotCollected => None,
                    Err(e) => Some(e.to_string()),
                },
            },
            Err(e) => Some(e.to_string()),
        };
        match row {
            Some(r) => Mfa::Report(
                r.mfa_active,
                why.map(|why| format!("by the {}, as {why}", self.report_age())),
            ),
            None => Mfa::Unknown(
                why.unwrap_or_else(|| "the user is not in the credential report".into()),
            ),
        }
    }

    /// "credential report of <time>", for verdicts that fall back on it.
    pub fn report_age(&self) -> String {
        let when = self
            .credential_report_generated
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "unknown time".into());
        format!("credential report of {when}")
    }
}

impl Default for IamFacts {
    fn default() -> Self {
        IamFacts {
            account_summary: Err(FactError::not_collected("iam", "GetAccountSummary")),
            credential_report: Err(FactError::not_collected("iam", "GetCredentialReport")),
            credential_report_generated: None,
            sign_in: Err(FactError::not_collected("iam", "ListUsers")),
            authorization: Err(FactError::not_collected(
                "iam",
                "GetAccountAuthorizationDetails",
            )),
            password_policy: Err(FactError::not_collected("iam", "GetAccountPasswordPolicy")),
            service_last_accessed: Err(FactError::not_collected(
                "iam",
                "GetServiceLastAccessedDetails",
            )),
        }
    }
}

/// The root-related counters of IAM `GetAccountSummary`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountSummary {
    pub account_mfa_enabled: bool,
    pub account_access_keys_present: bool,
    /// The root user has a console password (`AccountPasswordPresent`).
    pub account_password_present: bool,
}

/// The IAM account password policy (the settings the checks judge).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PasswordPolicy {
    pub minimum_length: i32,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    /// How many previous passwords cannot be reused; `None` when reuse is not prevented.
    pub reuse_prevention: Option<i32>,
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
    /// When the console password was last set (`password_last_changed`).
    pub password_last_changed: Option<DateTime<Utc>>,
    /// When the user was created (the age of a credential that was never used).
    pub user_creation_time: Option<DateTime<Utc>>,
    pub access_key_1_active: bool,
    pub access_key_1_last_rotated: Option<DateTime<Utc>>,
    pub access_key_1_last_used: Option<DateTime<Utc>>,
    pub access_key_2_active: bool,
    pub access_key_2_last_rotated: Option<DateTime<Utc>>,
    pub access_key_2_last_used: Option<DateTime<Utc>>,
}

/// One access key of a credential report row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessKeyState {
    /// 1 or 2, as the report numbers them.
    pub slot: u8,
    pub last_rotated: Option<DateTime<Utc>>,
    pub last_used: Option<DateTime<Utc>>,
}

impl CredentialReportRow {
    /// The user's active access keys.
    pub fn active_keys(&self) -> Vec<AccessKeyState> {
        let mut keys = Vec::new();
        if self.access_key_1_active {
            keys.push(AccessKeyState {
                slot: 1,
                last_rotated: self.access_key_1_last_rotated,
                last_used: self.access_key_1_last_used,
            });
        }
        if self.access_key_2_active {
            keys.push(AccessKeyState {
                slot: 2,
                last_rotated: self.access_key_2_last_rotated,
                last_used: self.access_key_2_last_used,
            });
        }
        keys
    }
}

/// IAM principals and managed policies with their documents (as JSON text): every
/// customer-managed policy, and the AWS-managed policies attached to a principal or used as a
/// boundary (read with `GetPolicy` and `GetPolicyVersion`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuthorizationDetails {
    pub users: Vec<IamUser>,
    pub groups: Vec<IamGroup>,
    pub roles: Vec<IamRole>,
    /// Managed policies (customer-managed always; AWS-managed ones when attached or a boundary).
    pub policies: Vec<ManagedPolicy>,
}

/// IAM's service last-accessed report of one principal (`GetServiceLastAccessedDetails` at
/// `SERVICE_LEVEL` granularity), as the job answered it. Kept between runs by the agent
/// ([`crate::last_accessed::AccessCache`]), hence serializable both ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ServiceLastAccessed {
    /// The user's or role's ARN.
    pub arn: String,
    /// When IAM finished the report (`JobCompletionDate`): ages are judged against it, and the
    /// cache keeps the report for `last_accessed_cache_hours` from it.
    pub generated_at: DateTime<Utc>,
    /// The services the principal's policies allow, as IAM lists them (`ServicesLastAccessed`).
    pub services: Vec<ServiceAccess>,
}

/// One service of a last-accessed report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ServiceAccess {
    /// The service's namespace, the prefix of its IAM actions (`s3`).
    pub namespace: String,
    /// When the principal last authenticated against the service (`LastAuthenticated`); `None`
    /// when IAM has no record of an attempt within its tracking period (400 days).
    pub last_authenticated: Option<DateTime<Utc>>,
}

/// What is known of one principal's service use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PrincipalAccess {
    /// IAM's report, from this run or kept from an earlier one.
    Known(ServiceLastAccessed),
    /// Why there is no report: the principal cannot be judged in this run.
    Unknown(String),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IamUser {
    pub name: String,
    pub arn: String,
    /// When the user was created.
    pub created: Option<DateTime<Utc>>,
    pub groups: Vec<String>,
    pub attached_policy_arns: Vec<String>,
    pub inline_policies: Vec<InlinePolicy>,
    /// The ARN of the managed policy that is the user's permissions boundary.
    pub permissions_boundary: Option<String>,
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
    /// The ARN of the managed policy that is the role's permissions boundary.
    pub permissions_boundary: Option<String>,
    /// The role is in at least one instance profile (EC2 can run with it).
    pub in_instance_profile: bool,
    /// When the role was created.
    pub created: Option<DateTime<Utc>>,
    /// When the role was last assumed (`RoleLastUsed`; IAM tracks the last 400 days); `None` when
    /// IAM has no record of a use in that window.
    pub last_used: Option<DateTime<Utc>>,
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
    /// True for policies the account created (not `arn:PARTITION:iam::aws:policy/…`).
    pub customer_managed: bool,
    pub attachment_count: i32,
    /// On how many users and roles the policy is the permissions boundary.
    pub permissions_boundary_usage_count: i32,
    /// The documents of the versions other than the default (a customer-managed policy keeps up
    /// to five), which `iam:SetDefaultPolicyVersion` can make the default.
    pub other_versions: Vec<String>,
    /// The default version's document; `None` if the listing did not include it.
    pub default_document: Option<String>,
    /// Why the document could not be read (an AWS-managed policy whose `GetPolicy` or
    /// `GetPolicyVersion` failed).
    pub document_error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct S3Facts {
    pub buckets: Fact<Vec<Bucket>>,
    /// The account-level public access block (S3 Control); `Ok(None)` when none is set.
    pub account_public_access_block: Fact<Option<PublicAccessBlock>>,
}

impl Default for S3Facts {
    fn default() -> Self {
        S3Facts {
            buckets: Err(FactError::not_collected("s3", "ListBuckets")),
            account_public_access_block: Err(FactError::not_collected(
                "s3control",
                "GetPublicAccessBlock",
            )),
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
    /// The bucket policy document (JSON); `Ok(None)` when the bucket has no policy.
    pub policy: Fact<Option<String>>,
    /// Versioning status (`Enabled` or `Suspended`); `Ok(None)` when versioning was never enabled.
    pub versioning: Fact<Option<String>>,
}

impl Bucket {
    pub fn new(name: &str) -> Self {
        Bucket {
            name: name.to_owned(),
            region: Err(FactError::not_collected("s3", "GetBucketLocation")),
            encryption: Err(FactError::not_collected("s3", "GetBucketEncryption")),
            public_access_block: Err(FactError::not_collected("s3", "GetPublicAccessBlock")),
            policy: Err(FactError::not_collected("s3", "GetBucketPolicy")),
            versioning: Err(FactError::not_collected("s3", "GetBucketVersioning")),
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
    /// The settings in force where two blocks apply (S3 applies the most restrictive combination
    /// of the account's and the bucket's): each setting on when either has it on.
    pub fn union(&self, other: &PublicAccessBlock) -> PublicAccessBlock {
        PublicAccessBlock {
            block_public_acls: self.block_public_acls || other.block_public_acls,
            ignore_public_acls: self.ignore_public_acls || other.ignore_public_acls,
            block_public_policy: self.block_public_policy || other.block_public_policy,
            restrict_public_buckets: self.restrict_public_buckets || other.restrict_public_buckets,
        }
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
    /// Classic Load Balancers (the `elasticloadbalancing` 2012-06-01 API).
    pub classic_load_balancers: Fact<Vec<ClassicLoadBalancer>>,
    pub db_instances: Fact<Vec<DbInstance>>,
    /// DB clusters (Aurora, Multi-AZ DB clusters, Neptune, DocumentDB): read with the instances.
    pub db_clusters: Fact<Vec<DbCluster>>,
    pub target_groups: Fact<Vec<TargetGroup>>,
    pub analyzers: Fact<Vec<Analyzer>>,
    /// The ARNs of the Detective behavior graphs the account administers.
    pub detective_graphs: Fact<Vec<String>>,
    /// The web ACL of each internet-facing application load balancer, by load balancer ARN
    /// (`Ok(None)`: no web ACL).
    pub load_balancer_web_acls: Fact<BTreeMap<String, Fact<Option<String>>>>,
    pub backup_plans: Fact<Vec<BackupPlan>>,
    pub dynamodb_tables: Fact<Vec<DynamoDbTable>>,
    pub config_recorders: Fact<Vec<ConfigRecorder>>,
    pub vpcs: Fact<Vec<Vpc>>,
    pub instances: Fact<Vec<Instance>>,
    pub ebs_encryption_by_default: Fact<bool>,
    pub kms_keys: Fact<Vec<KmsKey>>,
    pub secrets: Fact<Vec<Secret>>,
    pub metric_filters: Fact<Vec<MetricFilter>>,
    pub alarms: Fact<Vec<MetricAlarm>>,
    pub dashboards: Fact<Vec<Dashboard>>,
    /// CloudWatch Synthetics canaries.
    pub canaries: Fact<Vec<Canary>>,
    pub guardduty_detectors: Fact<Vec<GuardDutyDetector>>,
    /// Security Hub in this region; `Ok(None)` when it is not enabled.
    pub security_hub: Fact<Option<SecurityHubState>>,
    pub db_snapshots: Fact<Vec<DbSnapshot>>,
    pub ebs_snapshots: Fact<Vec<EbsSnapshot>>,
    pub sqs_queues: Fact<Vec<PolicyResource>>,
    pub sns_topics: Fact<Vec<PolicyResource>>,
    pub lambda_functions: Fact<Vec<PolicyResource>>,
    pub ecr_repositories: Fact<Vec<EcrRepository>>,
    pub ecr_registry_scanning: Fact<RegistryScanning>,
    /// ECS services of every cluster of the region.
    pub ecs_services: Fact<Vec<EcsService>>,
    /// The task definitions the region's services run, by ARN (each read on its own).
    pub ecs_task_definitions: Fact<BTreeMap<String, Fact<TaskDefinition>>>,
    /// The ECS tasks that run in the region's clusters, with when their images were pushed.
    pub ecs_tasks: Fact<Vec<EcsTask>>,
    /// The security headers that each HTTPS listener of an internet-facing application load
    /// balancer adds to responses (its listener attributes), by listener ARN.
    pub listener_headers: Fact<BTreeMap<String, Fact<SecurityHeaders>>>,
    /// EC2 Image Builder image pipelines.
    pub image_pipelines: Fact<Vec<ImagePipeline>>,
    /// AWS Fault Injection Service experiments (every state).
    pub fis_experiments: Fact<Vec<FisExperiment>>,
    /// CloudFormation stacks (every status but deleted).
    pub cloudformation_stacks: Fact<Vec<CfnStack>>,
    /// When each AMI that the region's instances run was created, by AMI id; `Ok(None)` when
    /// `DescribeImages` does not return it (deregistered, or no longer shared with the account).
    pub instance_images: Fact<BTreeMap<String, Fact<Option<DateTime<Utc>>>>>,
    pub codedeploy_groups: Fact<Vec<DeploymentGroup>>,
    pub inspector2: Fact<Inspector2Status>,
    /// Nodes managed by Systems Manager, with their patch compliance.
    pub ssm_instances: Fact<Vec<ManagedInstance>>,
    /// The instances that published CloudWatch agent metrics (`CWAgent`, dimension `InstanceId`)
    /// in the last three hours, by instance id; empty without a running instance (not asked).
    pub agent_metric_instances: Fact<BTreeSet<String>>,
    /// ECS clusters with their settings.
    pub ecs_clusters: Fact<Vec<EcsCluster>>,
    /// Whether the region has log groups, and its account-level subscription filter policies.
    pub log_shipping: Fact<LogShipping>,
    /// CloudWatch cross-account observability links of the account (as a source account).
    pub oam_links: Fact<Vec<OamLink>>,
}

impl Default for RegionFacts {
    fn default() -> Self {
        let nc = FactError::not_collected;
        RegionFacts {
            target_groups: Err(nc("elasticloadbalancing", "DescribeTargetGroups")),
            analyzers: Err(nc("access-analyzer", "ListAnalyzers")),
            detective_graphs: Err(nc("detective", "ListGraphs")),
            classic_load_balancers: Err(nc("elb", "DescribeLoadBalancers")),
            load_balancer_web_acls: Err(nc("wafv2", "GetWebACLForResource")),
            backup_plans: Err(nc("backup", "ListBackupPlans")),
            dynamodb_tables: Err(nc("dynamodb", "ListTables")),
            config_recorders: Err(nc("config", "DescribeConfigurationRecorders")),
            vpcs: Err(nc("ec2", "DescribeVpcs")),
            instances: Err(nc("ec2", "DescribeInstances")),
            ebs_encryption_by_default: Err(nc("ec2", "GetEbsEncryptionByDefault")),
            kms_keys: Err(nc("kms", "ListKeys")),
            secrets: Err(nc("secretsmanager", "ListSecrets")),
            metric_filters: Err(nc("logs", "DescribeMetricFilters")),
            alarms: Err(nc("cloudwatch", "DescribeAlarms")),
            dashboards: Err(nc("cloudwatch", "ListDashboards")),
            canaries: Err(nc("synthetics", "DescribeCanaries")),
            guardduty_detectors: Err(nc("guardduty", "ListDetectors")),
            security_hub: Err(nc("securityhub", "DescribeHub")),
            db_snapshots: Err(nc("rds", "DescribeDBSnapshots")),
            ebs_snapshots: Err(nc("ec2", "DescribeSnapshots")),
            sqs_queues: Err(nc("sqs", "ListQueues")),
            sns_topics: Err(nc("sns", "ListTopics")),
            lambda_functions: Err(nc("lambda", "ListFunctions")),
            ecr_repositories: Err(nc("ecr", "DescribeRepositories")),
            ecr_registry_scanning: Err(nc("ecr", "GetRegistryScanningConfiguration")),
            ecs_services: Err(nc("ecs", "ListClusters")),
            ecs_task_definitions: Err(nc("ecs", "DescribeTaskDefinition")),
            ecs_tasks: Err(nc("ecs", "ListTasks")),
            instance_images: Err(nc("ec2", "DescribeImages")),
            cloudformation_stacks: Err(nc("cloudformation", "DescribeStacks")),
            fis_experiments: Err(nc("fis", "ListExperiments")),
            image_pipelines: Err(nc("imagebuilder", "ListImagePipelines")),
            listener_headers: Err(nc("elasticloadbalancing", "DescribeListenerAttributes")),
            codedeploy_groups: Err(nc("codedeploy", "ListApplications")),
            inspector2: Err(nc("inspector2", "BatchGetAccountStatus")),
            ssm_instances: Err(nc("ssm", "DescribeInstanceInformation")),
            agent_metric_instances: Err(nc("cloudwatch", "ListMetrics")),
            ecs_clusters: Err(nc("ecs", "DescribeClusters")),
            log_shipping: Err(nc("logs", "DescribeAccountPolicies")),
            oam_links: Err(nc("oam", "ListLinks")),
            security_groups: Err(FactError::not_collected("ec2", "DescribeSecurityGroups")),
            load_balancers: Err(FactError::not_collected(
                "elasticloadbalancing",
                "DescribeLoadBalancers",
            )),
            db_instances: Err(FactError::not_collected("rds", "DescribeDBInstances")),
            db_clusters: Err(FactError::not_collected("rds", "DescribeDBClusters")),
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
    /// The management events the trail records (`GetEventSelectors`, basic or advanced).
    pub management_events: Fact<ManagementEvents>,
    /// `CloudWatchLogsLogGroupArn`: the log group the trail delivers to, if any.
    pub log_group_arn: Option<String>,
}

/// Which management events a trail records, from its event selectors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ManagementEvents {
    pub read: bool,
    pub write: bool,
    /// Event sources left out (`ExcludeManagementEventSources`, or an advanced selector's
    /// `eventSource` `NotEquals`).
    pub excluded_sources: Vec<String>,
    /// Set when an advanced selector records only some event sources (`eventSource` `Equals` or
    /// `StartsWith`): those sources.
    pub only_sources: Vec<String>,
}

/// Event sources that AWS's console itself offers to leave out of a trail's management events
/// because of their volume; leaving them out still counts as recording management events.
pub const HIGH_VOLUME_SOURCES: [&str; 2] = ["kms.amazonaws.com", "rdsdata.amazonaws.com"];

impl ManagementEvents {
    /// What AWS records for a trail without selectors: every read and write management event.
    pub fn all() -> Self {
        ManagementEvents {
            read: true,
            write: true,
            ..Default::default()
        }
    }

    /// Why the trail does not record the account's read and write management events, if it does
    /// not ("records only write management events", "leaves out iam.amazonaws.com").
    pub fn gap(&self) -> Option<String> {
        match (self.read, self.write) {
            (false, false) => return Some("records no management events".into()),
            (true, false) => return Some("records only read management events".into()),
            (false, true) => return Some("records only write management events".into()),
            _ => {}
        }
        if !self.only_sources.is_empty() {
            return Some(format!(
                "records management events of {} only",
                self.only_sources.join(", ")
            ));
        }
        let left_out: Vec<&str> = self
            .excluded_sources
            .iter()
            .map(String::as_str)
            .filter(|s| !HIGH_VOLUME_SOURCES.contains(s))
            .collect();
        (!left_out.is_empty())
            .then(|| format!("leaves out management events of {}", left_out.join(", ")))
    }
}

impl Trail {
    /// A multi-region trail that is logging and records every read and write management event:
    /// `Ok(None)` when it is one, `Ok(Some(why not))`, or the error that keeps us from knowing.
    pub fn logging_gap(&self) -> Result<Option<String>, &FactError> {
        if !self.multi_region {
            return Ok(Some(format!("covers only {}", self.home_region)));
        }
        if !*self.is_logging.as_ref()? {
            return Ok(Some("is multi-region but not logging".into()));
        }
        Ok(self.management_events.as_ref()?.gap())
    }
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

/// A Classic Load Balancer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassicLoadBalancer {
    pub name: String,
    pub arn: String,
    /// `internet-facing` or `internal`.
    pub scheme: String,
    pub listeners: Vec<ClassicListener>,
}

/// A Classic Load Balancer listener: the front-end protocol and port, and the protocol to the
/// instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassicListener {
    /// `HTTP`, `HTTPS`, `TCP` or `SSL`.
    pub protocol: String,
    pub port: i32,
    pub instance_protocol: Option<String>,
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DbInstance {
    pub id: String,
    pub arn: String,
    pub engine: String,
    pub backup_retention_days: i32,
    pub storage_encrypted: bool,
    /// The cluster the instance belongs to: its retention and encryption are the cluster's.
    pub cluster_id: Option<String>,
    /// The source instance when this is a read replica.
    pub replica_source: Option<String>,
    /// `PubliclyAccessible`: the endpoint resolves to a public address.
    pub publicly_accessible: bool,
    /// The endpoint's port, when it has one yet.
    pub port: Option<i32>,
    /// The ids of its VPC security groups (`VpcSecurityGroups`, active or adding).
    pub security_groups: Vec<String>,
}

impl DbInstance {
    /// Whether RDS keeps automated backups of this instance at all: not for cluster members (the
    /// cluster keeps them) nor for read replicas of engines whose replicas have none (RDS for
    /// PostgreSQL, Oracle and SQL Server; MySQL, MariaDB and Db2 replicas can keep their own).
    pub fn backups_judged_elsewhere(&self) -> Option<String> {
        if let Some(c) = &self.cluster_id {
            return Some(format!("its backups are those of cluster {c}"));
        }
        let e = self.engine.to_ascii_lowercase();
        let no_replica_backups =
            e.starts_with("postgres") || e.starts_with("oracle") || e.starts_with("sqlserver");
        match &self.replica_source {
            Some(src) if no_replica_backups => Some(format!(
                "it is a read replica of {src} and RDS keeps no automated backups of {} replicas",
                self.engine
            )),
            _ => None,
        }
    }
}

/// A DB cluster; its backup retention and storage encryption hold for all its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DbCluster {
    pub id: String,
    pub arn: String,
    pub engine: String,
    pub backup_retention_days: i32,
    pub storage_encrypted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    /// `HTTP`, `HTTPS`, `TCP`, `TLS`, …; `None` for Lambda targets.
    pub protocol: Option<String>,
    /// `instance`, `ip`, `lambda` or `alb`.
    pub target_type: String,
}

/// An IAM Access Analyzer analyzer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Analyzer {
    pub name: String,
    pub arn: String,
    /// `ACCOUNT`, `ORGANIZATION`, `ACCOUNT_UNUSED_ACCESS`, …
    pub kind: String,
    /// `ACTIVE`, `CREATING`, `DISABLED`, `FAILED`.
    pub status: String,
}

/// A CloudFront distribution with the settings the checks judge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Distribution {
    pub id: String,
    pub arn: String,
    pub domain_name: String,
    /// `Enabled`: a disabled distribution serves no viewer.
    pub enabled: bool,
    /// The viewer protocol policy of the default and of every other cache behavior, with its path
    /// pattern (`*` for the default behavior).
    pub viewer_protocol_policies: Vec<(String, String)>,
    /// `TLSv1.2_2021`, …; `None` with the default CloudFront certificate.
    pub minimum_protocol_version: Option<String>,
    /// Whether the distribution serves the default `*.cloudfront.net` certificate.
    pub default_certificate: bool,
    /// The web ACL id (WAFv2 ARN or WAF classic id); `None` or empty when none.
    pub web_acl_id: Option<String>,
    /// The response headers policy id of the default and of every other cache behavior, with
    /// its path pattern (`*` for the default behavior); `None`: the behavior has none.
    pub response_headers_policies: Vec<(String, Option<String>)>,
}

/// A WAFv2 web ACL's rules, as far as the checks judge them (`GetWebACL`), Firewall Manager's
/// pre- and post-process rule groups included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WebAcl {
    pub name: String,
    pub rules: Vec<WafRule>,
}

/// One rule of a web ACL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WafRule {
    pub name: String,
    pub kind: WafRuleKind,
    /// Whether the rule acts on what it matches: a rule group whose `OverrideAction` is not
    /// `Count`, a rule whose `Action` is `Block`, `Captcha` or `Challenge`.
    pub enforced: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum WafRuleKind {
    /// A managed rule group (`ManagedRuleGroupStatement`): its vendor and name.
    ManagedGroup { vendor: String, name: String },
    /// A rate-based rule (`RateBasedStatement`).
    RateBased,
    /// Any other statement (own rules, own rule groups).
    Other,
}

/// The security headers an edge (a CloudFront response headers policy, an ALB listener) adds to
/// responses, as header values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SecurityHeaders {
    /// `Strict-Transport-Security`, e.g. `max-age=31536000; includeSubDomains`.
    pub strict_transport_security: Option<String>,
    /// `X-Content-Type-Options` (`nosniff`).
    pub content_type_options: Option<String>,
    /// `X-Frame-Options` (`DENY`, `SAMEORIGIN`).
    pub frame_options: Option<String>,
    /// `Content-Security-Policy`.
    pub content_security_policy: Option<String>,
}

/// An AWS Backup plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupPlan {
    pub id: String,
    pub arn: String,
    pub name: String,
    /// Names of the plan's rules.
    pub rules: Fact<Vec<String>>,
    /// Names of the plan's resource selections.
    pub selections: Fact<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DynamoDbTable {
    pub name: String,
    pub arn: String,
    /// Point-in-time recovery enabled.
    pub pitr_enabled: Fact<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigRecorder {
    pub name: String,
    /// `RecordingGroup.AllSupported`.
    pub all_supported: bool,
    /// Whether the recorder is recording (from `DescribeConfigurationRecorderStatus`).
    pub recording: bool,
    /// The status of its last recording attempt (`Pending`, `Success`, `Failure`), with the error
    /// code of a failure (`lastErrorCode`, e.g. `AccessDenied` on the delivery bucket).
    pub last_status: Option<String>,
    pub last_error: Option<String>,
}

/// A VPC with its flow logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vpc {
    pub id: String,
    pub arn: String,
    pub is_default: bool,
    /// Flow logs whose resource is the VPC itself (not its subnets or interfaces).
    pub flow_logs: Vec<FlowLog>,
}

/// One flow log, as `DescribeFlowLogs` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowLog {
    pub id: String,
    /// `FlowLogStatus`: `ACTIVE` for every flow log that exists.
    pub status: String,
    /// `TrafficType`: `ALL`, `ACCEPT` or `REJECT`.
    pub traffic_type: String,
    /// `DeliverLogsStatus`: `SUCCESS` or `FAILED` (the destination refuses the records); `None`
    /// when the answer omits it.
    pub deliver_status: Option<String>,
    /// `DeliverLogsErrorMessage`, when delivery failed.
    pub deliver_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instance {
    pub id: String,
    pub arn: String,
    /// `pending`, `running`, `stopped`, `terminated`, …
    pub state: String,
    /// `MetadataOptions.HttpTokens`: `required` (IMDSv2 only) or `optional`.
    pub http_tokens: Option<String>,
    /// `MetadataOptions.HttpEndpoint`: `enabled` or `disabled`.
    pub http_endpoint: Option<String>,
    /// `ImageId`: the AMI the instance was launched from.
    pub image_id: Option<String>,
    /// `LaunchTime`: when the instance was last started (a stop and start moves it).
    pub launch_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KmsKey {
    pub id: String,
    pub arn: String,
    /// `CUSTOMER` or `AWS`; `SYMMETRIC_DEFAULT` etc. in `spec`; `Enabled`, `Disabled`, … in `state`.
    pub manager: Fact<String>,
    pub spec: Fact<String>,
    pub state: Fact<String>,
    /// `Origin`: `AWS_KMS` (key material made by KMS), `EXTERNAL` (imported), `AWS_CLOUDHSM` or
    /// `EXTERNAL_KEY_STORE` (custom key stores).
    pub origin: Fact<String>,
    /// Whether the key is the replica of a multi-Region key (`MultiRegionKeyType` `REPLICA`).
    pub replica: Fact<bool>,
    /// `GetKeyRotationStatus`; read only for the keys [`KmsKey::rotatable`] accepts.
    pub rotation_enabled: Fact<bool>,
    /// The key policy (`GetKeyPolicy`, policy name `default`); read only for customer-managed keys.
    pub policy: Fact<String>,
}

impl KmsKey {
    /// Whether the owner can turn on automatic rotation of this key: an enabled customer-managed
    /// symmetric encryption key whose material KMS made, and not a multi-Region replica (whose
    /// rotation is set on its primary). KMS cannot rotate imported material or keys in a custom
    /// key store. `Err` when the key's description could not be read.
    pub fn rotatable(&self) -> Result<bool, &FactError> {
        Ok(self.manager.as_ref()? == "CUSTOMER"
            && self.spec.as_ref()? == "SYMMETRIC_DEFAULT"
            && self.state.as_ref()? == "Enabled"
            && !matches!(
                self.origin.as_ref()?.as_str(),
                "EXTERNAL" | "AWS_CLOUDHSM" | "EXTERNAL_KEY_STORE"
            )
            && !*self.replica.as_ref()?)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Secret {
    pub name: String,
    pub arn: String,
    pub rotation_enabled: bool,
    pub last_rotated: Option<DateTime<Utc>>,
    /// `OwningService` of a managed secret (`rds`, `events`, …): that service controls its
    /// rotation.
    pub owning_service: Option<String>,
    /// `PrimaryRegion`: the region of the primary secret. A secret listed in another region is a
    /// replica, whose rotation is set on the primary.
    pub primary_region: Option<String>,
    /// The resource policy (`GetResourcePolicy`); `Ok(None)` when the secret has none.
    pub policy: Fact<Option<String>>,
}

/// A manual RDS snapshot (of an instance or a cluster) the account owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DbSnapshot {
    pub id: String,
    pub arn: String,
    /// A DB cluster snapshot (Aurora, Multi-AZ clusters) rather than an instance snapshot.
    pub cluster: bool,
    /// The accounts its `restore` attribute shares it with (`all` when public).
    pub restore_shared_with: Fact<Vec<String>>,
}

/// An EBS snapshot the account owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EbsSnapshot {
    pub id: String,
    pub arn: String,
    /// Listed among the snapshots restorable by everyone (`RestorableByUserIds` `all`).
    pub public: bool,
}

/// A resource whose policy decides who may use it: an SQS queue, an SNS topic, a Lambda function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyResource {
    pub name: String,
    pub arn: String,
    /// Its resource policy; `Ok(None)` when it has none.
    pub policy: Fact<Option<String>>,
}

/// A CloudWatch Logs metric filter: which log group it reads, its pattern, and the metrics it feeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricFilter {
    pub name: String,
    pub log_group: String,
    pub pattern: String,
    /// (namespace, metric name) of each transformation.
    pub metrics: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricAlarm {
    pub name: String,
    pub arn: String,
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
}

/// A CloudWatch dashboard (`ListDashboards`' `DashboardEntries`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dashboard {
    pub name: String,
    pub arn: String,
}

/// A Route 53 health check (`ListHealthChecks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthCheck {
    pub id: String,
    /// `HealthCheckConfig.Type`: `HTTP`, `HTTPS`, `HTTP_STR_MATCH`, `HTTPS_STR_MATCH`, `TCP`,
    /// `CALCULATED`, `CLOUDWATCH_METRIC` or `RECOVERY_CONTROL`.
    pub kind: String,
    /// `HealthCheckConfig.Disabled`: Route 53 stops probing the endpoint.
    pub disabled: bool,
    /// The probed endpoint: `FullyQualifiedDomainName`, else `IPAddress` (empty for the types that
    /// probe none).
    pub endpoint: String,
}

/// A CloudWatch Synthetics canary (`DescribeCanaries`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Canary {
    pub name: String,
    /// `Status.State`: `RUNNING`, `STOPPED`, `READY`, `ERROR`, …
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuardDutyDetector {
    pub id: String,
    /// `ENABLED` or `DISABLED`.
    pub status: Fact<String>,
    /// The detector's protection plans (`Features`: `EBS_MALWARE_PROTECTION`, `S3_DATA_EVENTS`,
    /// …) with their status (`ENABLED` or `DISABLED`), from the same `GetDetector` answer.
    pub features: Fact<Vec<(String, String)>>,
}

/// Security Hub as enabled in one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityHubState {
    pub hub_arn: String,
    /// ARNs of the standards subscriptions whose status is `READY` or `PENDING`.
    pub enabled_standards: Fact<Vec<String>>,
    /// The products whose findings the hub imports (`ListEnabledProductsForImport`), as
    /// `company/product` (`aws/inspector`, `qualys/qualys-vm`) from the product subscription
    /// ARNs.
    pub import_products: Fact<Vec<String>>,
}

/// A cost budget and how many notifications it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Budget {
    pub name: String,
    /// `COST`, `USAGE`, …
    pub kind: String,
    /// Notifications (thresholds with subscribers; AWS requires at least one subscriber each).
    pub notifications: Fact<usize>,
}

/// The organization of the audited accounts, as AWS Organizations describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organization {
    /// False when the agent's credentials belong to no organization
    /// (`AWSOrganizationsNotInUseException`): then nothing else is set.
    pub in_use: bool,
    pub id: String,
    pub management_account_id: String,
    /// Every account of the organization (`ListAccounts`), by id.
    pub accounts: Fact<BTreeMap<String, OrgMember>>,
    /// The delegated administrator accounts of each service principal
    /// (`guardduty.amazonaws.com` → account ids), for every service any account administers.
    pub delegated_administrators: Fact<BTreeMap<String, Vec<String>>>,
    /// IAM's centralized root access for member accounts (`RootCredentialsManagement` among the
    /// organization's enabled IAM features): members' root credentials can be removed and their
    /// recovery is blocked.
    pub root_credentials_management: Fact<bool>,
    /// The analyzers whose zone of trust is the organization ([`Need::OrganizationAnalyzers`]).
    pub analyzers: Fact<OrganizationAnalyzers>,
    /// The organization's Detective behavior graphs ([`Need::OrganizationDetectiveGraphs`]).
    pub detective: Fact<OrganizationGraphs>,
}

/// The Detective behavior graphs of each account that can administer the organization's (the
/// delegated administrators of Detective and the management account), by region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrganizationGraphs {
    /// By account id: its graphs by region, or why they could not be read.
    pub holders: BTreeMap<String, Fact<BTreeMap<String, Vec<DetectiveGraph>>>>,
}

/// A Detective behavior graph and its member accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetectiveGraph {
    pub arn: String,
    /// Member account id → status (`ENABLED`, `INVITED`, `ACCEPTED_BUT_DISABLED`, …).
    pub members: BTreeMap<String, String>,
}

/// The analyzers of type `ORGANIZATION` of each account that can hold one (the delegated
/// administrators of IAM Access Analyzer and the management account): each such analyzer covers
/// every account of the organization in its region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrganizationAnalyzers {
    /// By account id: its organization analyzers by region, or why they could not be read.
    pub holders: BTreeMap<String, Fact<BTreeMap<String, Vec<Analyzer>>>>,
}

impl Organization {
    /// The answer of an account that belongs to no organization.
    pub fn not_in_use() -> Organization {
        Organization {
            in_use: false,
            id: String::new(),
            management_account_id: String::new(),
            accounts: Ok(BTreeMap::new()),
            delegated_administrators: Ok(BTreeMap::new()),
            root_credentials_management: Ok(false),
            analyzers: Ok(OrganizationAnalyzers::default()),
            detective: Ok(OrganizationGraphs::default()),
        }
    }
}

/// A member account of the organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgMember {
    pub id: String,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`.
    pub status: String,
    /// The account's tags; read only for the audited accounts and the delegated administrators
    /// (`NotCollected` for the others).
    pub tags: Fact<BTreeMap<String, String>>,
}

impl OrgMember {
    /// The values of the tags whose key is `key` without regard to case.
    pub fn tag_values(&self, key: &str) -> Result<Vec<&str>, &FactError> {
        Ok(self
            .tags
            .as_ref()?
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .collect())
    }
}

/// An ECR private repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EcrRepository {
    pub name: String,
    pub arn: String,
    /// `imageTagMutability`: `MUTABLE`, `IMMUTABLE`, `IMMUTABLE_WITH_EXCLUSION` or
    /// `MUTABLE_WITH_EXCLUSION`.
    pub tag_mutability: String,
    /// The tag filters excluded from the mutability setting (`imageTagMutabilityExclusionFilters`).
    pub tag_mutability_exclusions: Vec<String>,
    /// `imageScanningConfiguration.scanOnPush`: the repository's own setting, which applies only
    /// while the registry has basic scanning without rules.
    pub scan_on_push: bool,
    /// The repository policy (JSON); `Ok(None)` when the repository has none.
    pub policy: Fact<Option<String>>,
}

/// The registry's scanning configuration in one region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegistryScanning {
    /// `BASIC` or `ENHANCED` (Amazon Inspector).
    pub scan_type: String,
    pub rules: Vec<ScanningRule>,
}

impl RegistryScanning {
    /// The first rule whose frequency is one of `frequencies` and whose repository filter
    /// matches `repository` (ECR's wildcard filters; repository names are lower case), with that
    /// filter.
    pub fn rule_for<'a>(
        &'a self,
        repository: &str,
        frequencies: &[&str],
    ) -> Option<(&'a ScanningRule, &'a str)> {
        self.rules
            .iter()
            .filter(|r| frequencies.contains(&r.frequency.as_str()))
            .find_map(|r| {
                r.filters
                    .iter()
                    .find(|f| crate::policy::actions::glob_ignore_case(f, repository))
                    .map(|f| (r, f.as_str()))
            })
    }
}

/// One rule of a registry scanning configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanningRule {
    /// `SCAN_ON_PUSH`, `CONTINUOUS_SCAN` or `MANUAL`.
    pub frequency: String,
    /// The repository filters (wildcard patterns on repository names).
    pub filters: Vec<String>,
}

/// An ECS service with its deployment settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EcsService {
    pub name: String,
    pub arn: String,
    pub cluster_name: String,
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    pub status: String,
    /// `REPLICA` or `DAEMON`.
    pub scheduling_strategy: String,
    pub desired_count: i32,
    /// The task definition ARN the service runs (`None` for services run by task sets).
    pub task_definition: Option<String>,
    /// `deploymentController.type`: `ECS`, `CODE_DEPLOY` or `EXTERNAL` (ECS when absent).
    pub controller: String,
    /// `deploymentConfiguration.strategy` of the ECS controller: `ROLLING`, `BLUE_GREEN`,
    /// `LINEAR` or `CANARY`; `None` when the answer has none (rolling).
    pub strategy: Option<String>,
    /// `deploymentConfiguration.minimumHealthyPercent`.
    pub minimum_healthy_percent: Option<i32>,
    /// `deploymentConfiguration.deploymentCircuitBreaker`: (enable, rollback).
    pub circuit_breaker: Option<(bool, bool)>,
    /// `deploymentConfiguration.alarms.enable` with at least one alarm named.
    pub rollback_alarms: bool,
}

/// An ECS task definition revision, as far as the checks judge it (environment values are never
/// kept: only their names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TaskDefinition {
    pub arn: String,
    /// `runtimePlatform.operatingSystemFamily` (`LINUX`, `WINDOWS_SERVER_2022_CORE`, …).
    pub os_family: Option<String>,
    /// Task-level `cpu` and `memory` (hard limits of the whole task).
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub containers: Vec<ContainerDefinition>,
}

/// One container definition of a task definition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ContainerDefinition {
    pub name: String,
    pub image: String,
    /// `user` (`name`, `uid`, `name:group`, `uid:gid`, …); `None`: the image's `USER`.
    pub user: Option<String>,
    pub privileged: bool,
    /// Container `cpu` units (0 when unset) and `memory` hard limit in MiB.
    pub cpu: i32,
    pub memory: Option<i32>,
    /// The names (never the values) of the plain `environment` variables.
    pub environment_names: Vec<String>,
    /// The names of the variables injected from `secrets` (Secrets Manager or SSM parameters).
    pub secret_names: Vec<String>,
    /// How many `environmentFiles` (S3 objects) the container reads.
    pub environment_files: usize,
}

/// Cost Explorer's anomaly detection of the account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CostAnomalyDetection {
    /// The monitors (`GetAnomalyMonitors`): ARN and name.
    pub monitors: Vec<(String, String)>,
    pub subscriptions: Vec<AnomalySubscription>,
}

/// An alert subscription of anomaly monitors (`GetAnomalySubscriptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnomalySubscription {
    pub name: String,
    /// `MonitorArnList`: the monitors whose anomalies it sends.
    pub monitors: Vec<String>,
    /// Its subscribers (`EMAIL` address or `SNS` topic) that did not decline (`Status` not
    /// `DECLINED`).
    pub subscribers: Vec<String>,
}

/// An EC2 Image Builder image pipeline (`ListImagePipelines`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImagePipeline {
    pub name: String,
    pub arn: String,
    /// `status`: `ENABLED` or `DISABLED`.
    pub status: String,
    /// `schedule.scheduleExpression`: `cron(…)` or `rate(…)`; `None`: run by hand only.
    pub schedule: Option<String>,
    /// `lastRunStatus`: `AVAILABLE`, `FAILED`, …; `None` when it never ran.
    pub last_run_status: Option<String>,
}

/// An AWS Fault Injection Service experiment (`ListExperiments`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FisExperiment {
    pub id: String,
    pub template_id: String,
    /// `state.status`: `pending`, `initiating`, `running`, `completed`, `stopping`, `stopped`,
    /// `failed` or `cancelled`.
    pub status: String,
    /// `creationTime`: when the experiment was started.
    pub created: Option<DateTime<Utc>>,
}

/// A CloudFormation stack with its drift information (`DescribeStacks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CfnStack {
    pub name: String,
    /// `StackId`: the stack's ARN.
    pub arn: String,
    /// `StackStatus`: `CREATE_COMPLETE`, `UPDATE_COMPLETE`, `ROLLBACK_COMPLETE`, …
    pub status: String,
    /// `DriftInformation.StackDriftStatus`: `DRIFTED`, `IN_SYNC`, `NOT_CHECKED` or `UNKNOWN`;
    /// `None` when the answer has no drift information.
    pub drift: Option<String>,
    /// `DriftInformation.LastCheckTimestamp`: when drift detection last started on the stack or
    /// one of its resources.
    pub last_drift_check: Option<DateTime<Utc>>,
    /// `ParentId` is set: a nested stack.
    pub nested: bool,
}

/// An ECS task that runs (`DescribeTasks`, last status `RUNNING`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EcsTask {
    pub arn: String,
    pub cluster_name: String,
    /// `group`: `service:NAME` for the tasks a service started, `family:NAME` or the caller's
    /// own group for tasks started by `RunTask`.
    pub group: String,
    /// `startedAt`: when the task moved to `RUNNING`.
    pub started_at: Option<DateTime<Utc>>,
    pub containers: Vec<RunningContainer>,
}

/// One container of a running ECS task and the image it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunningContainer {
    pub name: String,
    /// `image`: the reference the task was started with (tag or digest).
    pub image: String,
    /// `imageDigest`: the manifest digest the container agent pulled, when ECS reports it.
    pub digest: Option<String>,
    /// When the running image was pushed to ECR (`DescribeImages` `imagePushedAt`), or why that
    /// cannot be known; `Err` when the call failed.
    pub pushed_at: Fact<ImageDate>,
}

/// When an image was made, or why AWS cannot say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ImageDate {
    At(DateTime<Utc>),
    /// The date cannot be read from AWS; the sentence says why (e.g. "nginx:1.25 is not in an
    /// ECR registry").
    Unknowable(String),
}

/// A CodeDeploy deployment group with its deployment configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentGroup {
    pub application: String,
    pub name: String,
    /// `Server`, `Lambda` or `ECS`.
    pub compute_platform: String,
    /// `deploymentStyle.deploymentType`: `IN_PLACE` or `BLUE_GREEN`.
    pub deployment_type: Option<String>,
    pub config_name: String,
    /// The configuration's `trafficRoutingConfig.type` (`TimeBasedCanary`, `TimeBasedLinear`,
    /// `AllAtOnce`); `Ok(None)` for configurations without traffic routing (EC2/on-premises).
    pub traffic_routing: Fact<Option<String>>,
    /// `alarmConfiguration.enabled` with at least one alarm.
    pub alarms_enabled: bool,
    /// The ECS services it deploys, as (cluster name, service name).
    pub ecs_services: Vec<(String, String)>,
}

/// Amazon Inspector's scan status of the account in one region, per resource type (`ENABLED`,
/// `ENABLING`, `DISABLED`, `DISABLING`, `SUSPENDED`, `SUSPENDING`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Inspector2Status {
    pub ec2: String,
    pub ecr: String,
    pub lambda: String,
}

/// A node managed by Systems Manager.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ManagedInstance {
    /// `i-…` for EC2 instances, `mi-…` for hybrid nodes.
    pub id: String,
    /// `Online`, `ConnectionLost` or `Inactive`.
    pub ping_status: String,
    /// The node's patch compliance; `None` when Patch Manager never reported on it.
    pub patch: Option<PatchCompliance>,
}

/// Patch compliance of one node (`ListResourceComplianceSummaries`, type `Patch`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PatchCompliance {
    /// `COMPLIANT` or `NON_COMPLIANT`.
    pub status: String,
    pub non_compliant: i32,
    pub critical: i32,
    pub high: i32,
}

/// The namespace the CloudWatch agent publishes its metrics to unless configured otherwise.
pub const AGENT_NAMESPACE: &str = "CWAgent";

/// An ECS cluster as `DescribeClusters` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EcsCluster {
    pub name: String,
    pub arn: String,
    /// `ACTIVE`, `PROVISIONING`, `DEPROVISIONING`, `FAILED` or `INACTIVE`.
    pub status: String,
    /// The `containerInsights` setting: `enabled`, `enhanced` or `disabled`; `None` when the
    /// answer has no such setting.
    pub container_insights: Option<String>,
    pub running_tasks: i32,
    pub pending_tasks: i32,
    pub active_services: i32,
    pub container_instances: i32,
}

impl EcsCluster {
    /// Whether the cluster runs anything to measure: tasks, services or container instances.
    pub fn in_use(&self) -> bool {
        self.running_tasks + self.pending_tasks + self.active_services + self.container_instances
            > 0
    }
}

/// The region's CloudWatch Logs, as far as shipping them elsewhere goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LogShipping {
    /// The region has at least one log group.
    pub has_log_groups: bool,
    /// Account-level subscription filter policies (`DescribeAccountPolicies`).
    pub policies: Vec<SubscriptionPolicy>,
}

/// An account-level subscription filter policy: where it sends which log events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SubscriptionPolicy {
    pub name: String,
    /// The policy document's `DestinationArn`: a CloudWatch Logs destination (of another
    /// account), a Kinesis data stream, a Firehose delivery stream or a Lambda function; `None`
    /// when the document has none or is not JSON.
    pub destination: Option<String>,
    /// The document's `FilterPattern` (empty: every event).
    pub filter_pattern: String,
    /// `selectionCriteria`, e.g. `LogGroupName NOT IN ["a", "b"]`: the log groups left out.
    pub selection_criteria: Option<String>,
}

/// A CloudWatch cross-account observability link (`ListLinks`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OamLink {
    pub arn: String,
    pub label: String,
    /// The monitoring account's sink, `arn:aws:oam:REGION:ACCOUNT:sink/ID`.
    pub sink_arn: String,
    /// The shared resource types (`AWS::Logs::LogGroup`, `AWS::CloudWatch::Metric`, …).
    pub resource_types: Vec<String>,
}
