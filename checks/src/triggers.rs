//! Which CloudTrail management events can change the facts of each [`Need`], and the EventBridge
//! patterns that subscribe to exactly those events.
//!
//! A [`Trigger`] is an `(eventSource, eventName)` pair as CloudTrail records it. The deploy kit's
//! member rules (`deploy/cloudformation/events-member.yaml`) are generated from these declarations
//! (`maturity-agent event-pattern`, tested equal), and the agent maps a received event back to the
//! needs it affects with [`needs_for`]; an event no need declares is ignored.
//!
//! [`Need::scope`] says how much a re-check after such an event re-reads: the facts of one region
//! ([`Scope::Region`]) or the account's facts in every audited region ([`Scope::Account`], for global
//! services and for facts that are deduplicated across regions, such as CloudTrail's trails).

use crate::snapshot::Need;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One CloudTrail management event that can change a need's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Trigger {
    /// CloudTrail's `eventSource`, e.g. `ec2.amazonaws.com`.
    pub event_source: &'static str,
    /// CloudTrail's `eventName`, e.g. `AuthorizeSecurityGroupIngress`.
    pub event_name: &'static str,
}

/// How much of the account a re-check of a need re-reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// The facts of the event's region only (they live in that region's facts).
    Region,
    /// The facts of the whole account: global services (IAM, S3's listing, CloudFront, Budgets,
    /// Organizations) and facts merged across regions (CloudTrail trails).
    Account,
}

/// Event sources of global services: CloudTrail records their events in us-east-1 only, so
/// EventBridge delivers them there only, whatever region the caller used.
pub const GLOBAL_EVENT_SOURCES: &[&str] = &[
    "iam.amazonaws.com",
    "cloudfront.amazonaws.com",
    "organizations.amazonaws.com",
    "budgets.amazonaws.com",
    "route53.amazonaws.com",
    "ce.amazonaws.com",
];

/// The region in which the events of [`GLOBAL_EVENT_SOURCES`] arrive.
pub const GLOBAL_EVENTS_REGION: &str = "us-east-1";

/// CloudTrail's `detail-type` of API calls on EventBridge.
pub const DETAIL_TYPE: &str = "AWS API Call via CloudTrail";

/// Events after which a re-check runs without waiting for the debounce window: they can blind the
/// organization's audit log.
pub const IMMEDIATE: &[Trigger] = &[
    t("cloudtrail.amazonaws.com", "StopLogging"),
    t("cloudtrail.amazonaws.com", "DeleteTrail"),
    t("cloudtrail.amazonaws.com", "UpdateTrail"),
];

const fn t(event_source: &'static str, event_name: &'static str) -> Trigger {
    Trigger {
        event_source,
        event_name,
    }
}

/// Triggers of one event source, as a slice of struct literals (promoted to `'static`, which a
/// `const fn` call is not).
macro_rules! triggers {
    ($source:literal: $($name:literal),+ $(,)?) => {
        &[$(Trigger { event_source: $source, event_name: $name }),+]
    };
}

const IAM_USER_CREDENTIALS: &[Trigger] = triggers!("iam.amazonaws.com":
    "CreateUser", "DeleteUser",
    "CreateLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile",
    "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey",
    "EnableMFADevice", "DeactivateMFADevice", "DeleteVirtualMFADevice",
);

const IAM_AUTHORIZATION: &[Trigger] = triggers!("iam.amazonaws.com":
    "CreateUser", "DeleteUser",
    "CreateGroup", "DeleteGroup", "AddUserToGroup", "RemoveUserFromGroup",
    "CreateRole", "DeleteRole", "UpdateAssumeRolePolicy",
    "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
    "SetDefaultPolicyVersion",
    "AttachUserPolicy", "DetachUserPolicy", "PutUserPolicy", "DeleteUserPolicy",
    "AttachGroupPolicy", "DetachGroupPolicy", "PutGroupPolicy", "DeleteGroupPolicy",
    "AttachRolePolicy", "DetachRolePolicy", "PutRolePolicy", "DeleteRolePolicy",
);

const S3_BUCKET_LIFECYCLE: &[Trigger] =
    triggers!("s3.amazonaws.com": "CreateBucket", "DeleteBucket");

const CLOUDTRAIL: &[Trigger] = triggers!("cloudtrail.amazonaws.com":
    "CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging",
    "PutEventSelectors",
);

const EC2_SECURITY_GROUPS: &[Trigger] = triggers!("ec2.amazonaws.com":
    "CreateSecurityGroup", "DeleteSecurityGroup",
    "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
    "ModifySecurityGroupRules",
    "UpdateSecurityGroupRuleDescriptionsIngress", "UpdateSecurityGroupRuleDescriptionsEgress",
);

const ELBV2_LISTENERS: &[Trigger] = triggers!("elasticloadbalancing.amazonaws.com":
    "CreateLoadBalancer", "DeleteLoadBalancer", "SetSubnets",
    "CreateListener", "ModifyListener", "DeleteListener",
    "CreateRule", "ModifyRule", "DeleteRule", "SetRulePriorities",
);

const RDS_INSTANCES: &[Trigger] = triggers!("rds.amazonaws.com":
    "CreateDBInstance", "CreateDBInstanceReadReplica", "RestoreDBInstanceFromDBSnapshot",
    "RestoreDBInstanceToPointInTime", "RestoreDBInstanceFromS3",
    "ModifyDBInstance", "DeleteDBInstance",
    "CreateDBCluster", "ModifyDBCluster", "DeleteDBCluster",
    "RestoreDBClusterFromSnapshot", "RestoreDBClusterToPointInTime", "RestoreDBClusterFromS3",
);

/// Which task definition a service runs, and how it deploys, change with the service.
const ECS_SERVICES: &[Trigger] = triggers!("ecs.amazonaws.com":
    "CreateService", "UpdateService", "DeleteService",
);

impl Need {
    /// The CloudTrail events after which this need's facts may differ. Every need has at least one
    /// (tested); a change without a trigger is found by the scheduled audit only.
    pub fn triggers(self) -> &'static [Trigger] {
        match self {
            Need::IamAccountSummary => triggers!("iam.amazonaws.com":
                "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey",
                "EnableMFADevice", "DeactivateMFADevice", "DeleteVirtualMFADevice",
            ),
            // Which users are listed follows their credentials; the devices, MFA's own events.
            Need::IamCredentialReport | Need::IamSignIn => IAM_USER_CREDENTIALS,
            Need::IamAuthorizationDetails => IAM_AUTHORIZATION,
            // Service use is not a management event: only new and deleted principals change
            // which reports there are (a new one is read within the budget).
            Need::IamServiceLastAccessed => triggers!("iam.amazonaws.com":
                "CreateUser", "DeleteUser", "CreateRole", "DeleteRole",
            ),
            Need::IamPasswordPolicy => triggers!("iam.amazonaws.com":
                "UpdateAccountPasswordPolicy", "DeleteAccountPasswordPolicy",
            ),
            Need::S3Buckets => S3_BUCKET_LIFECYCLE,
            Need::S3BucketEncryption => triggers!("s3.amazonaws.com":
                "CreateBucket", "DeleteBucket", "PutBucketEncryption", "DeleteBucketEncryption",
            ),
            Need::S3BucketPublicAccessBlock => triggers!("s3.amazonaws.com":
                "CreateBucket", "DeleteBucket", "PutBucketPublicAccessBlock",
                "DeleteBucketPublicAccessBlock",
            ),
            Need::S3BucketPolicy => triggers!("s3.amazonaws.com":
                "CreateBucket", "DeleteBucket", "PutBucketPolicy", "DeleteBucketPolicy",
            ),
            Need::S3BucketVersioning => triggers!("s3.amazonaws.com":
                "CreateBucket", "DeleteBucket", "PutBucketVersioning",
            ),
            // S3 Control's account-level calls are recorded with S3's event source.
            Need::S3AccountPublicAccessBlock => triggers!("s3.amazonaws.com":
                "PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock",
            ),
            Need::CloudTrailTrails => CLOUDTRAIL,
            Need::Ec2SecurityGroups => EC2_SECURITY_GROUPS,
            Need::Ec2VpcFlowLogs => triggers!("ec2.amazonaws.com":
                "CreateVpc", "DeleteVpc", "CreateFlowLogs", "DeleteFlowLogs",
            ),
            Need::Ec2Instances => triggers!("ec2.amazonaws.com":
                "RunInstances", "TerminateInstances", "ModifyInstanceMetadataOptions",
            ),
            Need::Ec2EbsDefaultEncryption => triggers!("ec2.amazonaws.com":
                "EnableEbsEncryptionByDefault", "DisableEbsEncryptionByDefault",
            ),
            Need::Elbv2Listeners => ELBV2_LISTENERS,
            Need::ElbClassicListeners => triggers!("elasticloadbalancing.amazonaws.com":
                "CreateLoadBalancer", "DeleteLoadBalancer",
                "CreateLoadBalancerListeners", "DeleteLoadBalancerListeners",
            ),
            Need::Elbv2TargetGroups => triggers!("elasticloadbalancing.amazonaws.com":
                "CreateTargetGroup", "ModifyTargetGroup", "DeleteTargetGroup",
            ),
            Need::Wafv2LoadBalancerAcls => triggers!("wafv2.amazonaws.com":
                "AssociateWebACL", "DisassociateWebACL",
            ),
            Need::RdsInstances => RDS_INSTANCES,
            // An organization analyzer created or deleted in its holder re-checks the holder; the
            // members it covers are judged again at the next scheduled audit.
            Need::AccessAnalyzers | Need::OrganizationAnalyzers => {
                triggers!("access-analyzer.amazonaws.com": "CreateAnalyzer", "DeleteAnalyzer",)
            }
            // Likewise for the graphs of Detective's administrator.
            Need::DetectiveGraphs | Need::OrganizationDetectiveGraphs => {
                triggers!("detective.amazonaws.com":
                    "CreateGraph", "DeleteGraph", "CreateMembers", "DeleteMembers",
                    "AcceptInvitation", "DisassociateMembership", "StartMonitoringMember",
                    "UpdateOrganizationConfiguration",
                )
            }
            Need::CloudFrontDistributions => triggers!("cloudfront.amazonaws.com":
                "CreateDistribution", "CreateDistributionWithTags", "UpdateDistribution",
                "DeleteDistribution",
            ),
            Need::BackupPlans => triggers!("backup.amazonaws.com":
                "CreateBackupPlan", "UpdateBackupPlan", "DeleteBackupPlan",
                "CreateBackupSelection", "DeleteBackupSelection",
            ),
            Need::DynamoDbTables => triggers!("dynamodb.amazonaws.com":
                "CreateTable", "DeleteTable", "UpdateContinuousBackups", "RestoreTableToPointInTime",
                "RestoreTableFromBackup",
            ),
            Need::ConfigRecorders => triggers!("config.amazonaws.com":
                "PutConfigurationRecorder", "DeleteConfigurationRecorder",
                "StartConfigurationRecorder", "StopConfigurationRecorder",
                "PutDeliveryChannel", "DeleteDeliveryChannel",
            ),
            Need::KmsKeys => triggers!("kms.amazonaws.com":
                "CreateKey", "EnableKeyRotation", "DisableKeyRotation", "EnableKey", "DisableKey",
                "ScheduleKeyDeletion", "CancelKeyDeletion",
            ),
            Need::SecretsManagerSecrets => triggers!("secretsmanager.amazonaws.com":
                "CreateSecret", "DeleteSecret", "RestoreSecret", "RotateSecret",
                "CancelRotateSecret",
            ),
            Need::KmsKeyPolicies => triggers!("kms.amazonaws.com": "CreateKey", "PutKeyPolicy",),
            Need::SecretsManagerPolicies => triggers!("secretsmanager.amazonaws.com":
                "CreateSecret", "PutResourcePolicy", "DeleteResourcePolicy",
            ),
            Need::RdsSnapshots => triggers!("rds.amazonaws.com":
                "CreateDBSnapshot", "CopyDBSnapshot", "ModifyDBSnapshotAttribute",
                "DeleteDBSnapshot", "CreateDBClusterSnapshot", "CopyDBClusterSnapshot",
                "ModifyDBClusterSnapshotAttribute", "DeleteDBClusterSnapshot",
            ),
            Need::Ec2EbsSnapshots => triggers!("ec2.amazonaws.com":
                "CreateSnapshot", "CreateSnapshots", "CopySnapshot", "ModifySnapshotAttribute",
                "ResetSnapshotAttribute", "DeleteSnapshot",
            ),
            Need::SqsQueues => triggers!("sqs.amazonaws.com":
                "CreateQueue", "SetQueueAttributes", "AddPermission", "RemovePermission",
                "DeleteQueue",
            ),
            Need::SnsTopics => triggers!("sns.amazonaws.com":
                "CreateTopic", "SetTopicAttributes", "AddPermission", "RemovePermission",
                "DeleteTopic",
            ),
            Need::LambdaFunctions => triggers!("lambda.amazonaws.com":
                "CreateFunction20150331", "AddPermission20150331v2", "RemovePermission20150331v2",
                "DeleteFunction20150331", "CreateFunctionUrlConfig20211031",
                "UpdateFunctionUrlConfig20211031",
            ),
            Need::Budgets => triggers!("budgets.amazonaws.com":
                "CreateBudget", "UpdateBudget", "DeleteBudget", "CreateNotification",
                "UpdateNotification", "DeleteNotification", "CreateSubscriber",
                "DeleteSubscriber",
            ),
            Need::CloudWatchMetricAlarms => &[
                Trigger {
                    event_source: "logs.amazonaws.com",
                    event_name: "PutMetricFilter",
                },
                Trigger {
                    event_source: "logs.amazonaws.com",
                    event_name: "DeleteMetricFilter",
                },
                Trigger {
                    event_source: "monitoring.amazonaws.com",
                    event_name: "PutMetricAlarm",
                },
                Trigger {
                    event_source: "monitoring.amazonaws.com",
                    event_name: "DeleteAlarms",
                },
            ],
            Need::CloudWatchDashboards => triggers!("monitoring.amazonaws.com":
                "PutDashboard", "DeleteDashboards",
            ),
            Need::Route53HealthChecks => triggers!("route53.amazonaws.com":
                "CreateHealthCheck", "UpdateHealthCheck", "DeleteHealthCheck",
            ),
            Need::SyntheticsCanaries => triggers!("synthetics.amazonaws.com":
                "CreateCanary", "UpdateCanary", "StartCanary", "StopCanary", "DeleteCanary",
            ),
            Need::GuardDutyDetectors => triggers!("guardduty.amazonaws.com":
                "CreateDetector", "UpdateDetector", "DeleteDetector",
            ),
            Need::SecurityHub => triggers!("securityhub.amazonaws.com":
                "EnableSecurityHub", "DisableSecurityHub", "BatchEnableStandards",
                "BatchDisableStandards",
            ),
            Need::EcrRepositories => triggers!("ecr.amazonaws.com":
                "CreateRepository", "DeleteRepository", "PutImageTagMutability",
                "PutImageScanningConfiguration",
            ),
            Need::EcrRepositoryPolicies => triggers!("ecr.amazonaws.com":
                "CreateRepository", "DeleteRepository", "SetRepositoryPolicy",
                "DeleteRepositoryPolicy",
            ),
            // Turning on Inspector's ECR scanning switches the registry to enhanced scanning.
            Need::EcrRegistryScanning => &[
                Trigger {
                    event_source: "ecr.amazonaws.com",
                    event_name: "PutRegistryScanningConfiguration",
                },
                Trigger {
                    event_source: "inspector2.amazonaws.com",
                    event_name: "Enable",
                },
                Trigger {
                    event_source: "inspector2.amazonaws.com",
                    event_name: "Disable",
                },
            ],
            Need::EcsServices | Need::EcsTaskDefinitions => ECS_SERVICES,
            // Which tasks run and the images behind them; their age grows with time alone,
            // which the scheduled audit follows. Tasks that a service's scheduler starts and
            // replaces are not API calls of the account: the service's own calls stand in.
            Need::EcsRunningTasks => &[
                Trigger {
                    event_source: "ecs.amazonaws.com",
                    event_name: "RunTask",
                },
                Trigger {
                    event_source: "ecs.amazonaws.com",
                    event_name: "StartTask",
                },
                Trigger {
                    event_source: "ecs.amazonaws.com",
                    event_name: "StopTask",
                },
                Trigger {
                    event_source: "ecs.amazonaws.com",
                    event_name: "CreateService",
                },
                Trigger {
                    event_source: "ecs.amazonaws.com",
                    event_name: "UpdateService",
                },
                Trigger {
                    event_source: "ecs.amazonaws.com",
                    event_name: "DeleteService",
                },
                Trigger {
                    event_source: "ecr.amazonaws.com",
                    event_name: "PutImage",
                },
                Trigger {
                    event_source: "ecr.amazonaws.com",
                    event_name: "BatchDeleteImage",
                },
            ],
            // Drift itself comes from changes made outside CloudFormation, through any API: the
            // scheduled audit finds it once a detection has run.
            // An experiment's end is not an API call; starting one is.
            Need::CostAnomalyDetection => triggers!("ce.amazonaws.com":
                "CreateAnomalyMonitor", "UpdateAnomalyMonitor", "DeleteAnomalyMonitor",
                "CreateAnomalySubscription", "UpdateAnomalySubscription",
                "DeleteAnomalySubscription",
            ),
            Need::ImageBuilderPipelines => triggers!("imagebuilder.amazonaws.com":
                "CreateImagePipeline", "UpdateImagePipeline", "DeleteImagePipeline",
            ),
            Need::FisExperiments => {
                triggers!("fis.amazonaws.com": "StartExperiment", "StopExperiment",)
            }
            Need::CloudFormationStacks => triggers!("cloudformation.amazonaws.com":
                "CreateStack", "UpdateStack", "DeleteStack", "ExecuteChangeSet",
                "DetectStackDrift", "ImportStacksToStackSet",
            ),
            Need::Wafv2WebAclRules => triggers!("wafv2.amazonaws.com":
                "AssociateWebACL", "DisassociateWebACL", "UpdateWebACL", "DeleteWebACL",
            ),
            Need::Elbv2ListenerAttributes => triggers!("elasticloadbalancing.amazonaws.com":
                "CreateListener", "ModifyListener", "DeleteListener", "ModifyListenerAttributes",
                "CreateLoadBalancer", "DeleteLoadBalancer",
            ),
            Need::CloudFrontResponseHeadersPolicies => triggers!("cloudfront.amazonaws.com":
                "CreateDistribution", "CreateDistributionWithTags", "UpdateDistribution",
                "DeleteDistribution", "UpdateResponseHeadersPolicy",
            ),
            Need::Ec2InstanceImages => triggers!("ec2.amazonaws.com":
                "RunInstances", "StartInstances", "StopInstances", "TerminateInstances",
                "DeregisterImage", "ModifyImageAttribute",
            ),
            Need::CodeDeployDeploymentGroups => triggers!("codedeploy.amazonaws.com":
                "CreateDeploymentGroup", "UpdateDeploymentGroup", "DeleteDeploymentGroup",
                "DeleteApplication", "CreateDeploymentConfig", "DeleteDeploymentConfig",
            ),
            Need::Inspector2AccountStatus => triggers!("inspector2.amazonaws.com":
                "Enable", "Disable",
            ),
            // A node's registration and Patch Manager's scans are not management events the
            // account records (the scheduled audit finds them); removing a node and writing
            // compliance items are.
            Need::SsmPatchCompliance => triggers!("ssm.amazonaws.com":
                "DeregisterManagedInstance", "PutComplianceItems",
            ),
            // Which instances run; an agent starting to publish metrics is no management event
            // (and CloudWatch lists a new metric only minutes later): the scheduled audit finds
            // it.
            Need::CloudWatchAgentMetrics => triggers!("ec2.amazonaws.com":
                "RunInstances", "StartInstances", "StopInstances", "TerminateInstances",
            ),
            Need::EcsClusters => triggers!("ecs.amazonaws.com":
                "CreateCluster", "DeleteCluster", "UpdateCluster", "UpdateClusterSettings",
                "CreateService", "DeleteService", "RunTask", "StopTask",
                "RegisterContainerInstance", "DeregisterContainerInstance",
            ),
            Need::LogsSubscriptionPolicies => triggers!("logs.amazonaws.com":
                "CreateLogGroup", "DeleteLogGroup", "PutAccountPolicy", "DeleteAccountPolicy",
            ),
            Need::OamLinks => triggers!("oam.amazonaws.com":
                "CreateLink", "UpdateLink", "DeleteLink",
            ),
            Need::SecurityHubProducts => triggers!("securityhub.amazonaws.com":
                "EnableSecurityHub", "DisableSecurityHub", "EnableImportFindingsForProduct",
                "DisableImportFindingsForProduct",
            ),
            Need::OrganizationAccounts => triggers!("organizations.amazonaws.com":
                "CreateAccount", "InviteAccountToOrganization", "AcceptHandshake",
                "RemoveAccountFromOrganization", "LeaveOrganization", "MoveAccount",
                "TagResource", "UntagResource",
            ),
            Need::OrganizationDelegatedAdministrators => triggers!("organizations.amazonaws.com":
                "RegisterDelegatedAdministrator", "DeregisterDelegatedAdministrator",
            ),
            Need::OrganizationRootCredentialsManagement => triggers!("iam.amazonaws.com":
                "EnableOrganizationsRootCredentialsManagement",
                "DisableOrganizationsRootCredentialsManagement",
            ),
        }
    }

    /// How much of the account a re-check of this need re-reads ([`Scope`]).
    pub fn scope(self) -> Scope {
        match self {
            Need::IamAccountSummary
            | Need::IamCredentialReport
            | Need::IamSignIn
            | Need::IamAuthorizationDetails
            | Need::IamServiceLastAccessed
            | Need::IamPasswordPolicy
            | Need::S3Buckets
            | Need::S3BucketEncryption
            | Need::S3BucketPublicAccessBlock
            | Need::S3BucketPolicy
            | Need::S3BucketVersioning
            | Need::S3AccountPublicAccessBlock
            | Need::CloudTrailTrails
            | Need::CloudFrontDistributions
            | Need::CloudFrontResponseHeadersPolicies
            | Need::Wafv2WebAclRules
            | Need::Budgets
            | Need::Route53HealthChecks
            | Need::CostAnomalyDetection
            | Need::OrganizationAccounts
            | Need::OrganizationDelegatedAdministrators
            | Need::OrganizationRootCredentialsManagement
            | Need::OrganizationAnalyzers
            | Need::OrganizationDetectiveGraphs => Scope::Account,
            Need::Ec2SecurityGroups
            | Need::Ec2VpcFlowLogs
            | Need::Ec2Instances
            | Need::Ec2EbsDefaultEncryption
            | Need::Elbv2Listeners
            | Need::Elbv2TargetGroups
            | Need::ElbClassicListeners
            | Need::Wafv2LoadBalancerAcls
            | Need::RdsInstances
            | Need::AccessAnalyzers
            | Need::DetectiveGraphs
            | Need::BackupPlans
            | Need::DynamoDbTables
            | Need::ConfigRecorders
            | Need::KmsKeys
            | Need::SecretsManagerSecrets
            | Need::KmsKeyPolicies
            | Need::SecretsManagerPolicies
            | Need::RdsSnapshots
            | Need::Ec2EbsSnapshots
            | Need::SqsQueues
            | Need::SnsTopics
            | Need::LambdaFunctions
            | Need::CloudWatchMetricAlarms
            | Need::CloudWatchDashboards
            | Need::SyntheticsCanaries
            | Need::GuardDutyDetectors
            | Need::SecurityHub
            | Need::EcrRepositories
            | Need::EcrRepositoryPolicies
            | Need::EcrRegistryScanning
            | Need::EcsServices
            | Need::EcsTaskDefinitions
            | Need::EcsRunningTasks
            | Need::Ec2InstanceImages
            | Need::CloudFormationStacks
            | Need::FisExperiments
            | Need::ImageBuilderPipelines
            | Need::Elbv2ListenerAttributes
            | Need::CodeDeployDeploymentGroups
            | Need::Inspector2AccountStatus
            | Need::SsmPatchCompliance
            | Need::CloudWatchAgentMetrics
            | Need::EcsClusters
            | Need::LogsSubscriptionPolicies
            | Need::OamLinks
            | Need::SecurityHubProducts => Scope::Region,
        }
    }
}

/// Every need, in `Need`'s order: the needs of the catalog's checks (each need is read by a check,
/// tested in the catalog) and the needs they require.
pub fn all_needs() -> BTreeSet<Need> {
    crate::catalog::needs_of(crate::catalog::CATALOG)
}

/// The needs among `needs` whose facts the event `(event_source, event_name)` can change.
pub fn needs_for(needs: &BTreeSet<Need>, event_source: &str, event_name: &str) -> BTreeSet<Need> {
    needs
        .iter()
        .copied()
        .filter(|n| {
            n.triggers()
                .iter()
                .any(|t| t.event_source == event_source && t.event_name == event_name)
        })
        .collect()
}

/// Whether the event must be re-checked at once rather than after the debounce window.
pub fn is_immediate(event_source: &str, event_name: &str) -> bool {
    IMMEDIATE
        .iter()
        .any(|t| t.event_source == event_source && t.event_name == event_name)
}

/// Whether events of this source arrive in [`GLOBAL_EVENTS_REGION`] only.
pub fn is_global_source(event_source: &str) -> bool {
    GLOBAL_EVENT_SOURCES.contains(&event_source)
}

/// The EventBridge `source` of CloudTrail events from `event_source`: `aws.` and the service's
/// prefix (`ec2.amazonaws.com` → `aws.ec2`; CloudWatch's `monitoring.amazonaws.com` →
/// `aws.cloudwatch`).
pub fn eventbridge_source(event_source: &str) -> String {
    let service = event_source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(event_source);
    match service {
        "monitoring" => "aws.cloudwatch".to_owned(),
        other => format!("aws.{other}"),
    }
}

/// The triggers of `needs`, grouped by event source, names sorted and unique.
pub fn triggers_by_source(
    needs: &BTreeSet<Need>,
) -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    let mut by_source: BTreeMap<&'static str, BTreeSet<&'static str>> = BTreeMap::new();
    for need in needs {
        for t in need.triggers() {
            by_source
                .entry(t.event_source)
                .or_default()
                .insert(t.event_name);
        }
    }
    by_source
}

/// One EventBridge rule of the member accounts: the events of one event source.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRule {
    pub event_source: &'static str,
    /// Whether the source's events arrive in [`GLOBAL_EVENTS_REGION`] only (the rule is created
    /// there only).
    pub global: bool,
    /// The rule's event pattern.
    pub pattern: Value,
}

/// The member accounts' rules for `needs`: one per event source, so that each pattern stays far
/// below EventBridge's size limit and matches exact `(eventSource, eventName)` pairs.
pub fn member_rules(needs: &BTreeSet<Need>) -> Vec<MemberRule> {
    triggers_by_source(needs)
        .into_iter()
        .map(|(source, names)| MemberRule {
            event_source: source,
            global: is_global_source(source),
            pattern: json!({
                "source": [eventbridge_source(source)],
                "detail-type": [DETAIL_TYPE],
                "detail": {
                    "eventSource": [source],
                    "eventName": names,
                },
            }),
        })
        .collect()
}

/// The CloudFormation logical id of the member rule for `event_source`
/// (`elasticloadbalancing.amazonaws.com` → `ElasticloadbalancingRule`, `access-analyzer…` →
/// `AccessAnalyzerRule`).
pub fn rule_logical_id(event_source: &str) -> String {
    let service = event_source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(event_source);
    let mut id = String::new();
    for part in service.split(['-', '.']) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            id.extend(first.to_uppercase());
            id.push_str(chars.as_str());
        }
    }
    id.push_str("Rule");
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CATALOG;

    /// Every need has triggers, within its own service's event sources, and no trigger repeats
    /// within a need.
    #[test]
    fn every_need_has_triggers() {
        for need in all_needs() {
            let triggers = need.triggers();
            assert!(!triggers.is_empty(), "{need:?} has no trigger");
            let unique: BTreeSet<_> = triggers.iter().collect();
            assert_eq!(unique.len(), triggers.len(), "{need:?} repeats a trigger");
            for t in triggers {
                assert!(
                    t.event_source.ends_with(".amazonaws.com"),
                    "{need:?}: {t:?} is not a CloudTrail event source"
                );
                assert!(
                    t.event_name.chars().next().unwrap().is_ascii_uppercase(),
                    "{need:?}: {t:?} is not an API name"
                );
            }
        }
    }

    /// Every subscribed event maps back to at least one need that a check of the catalog reads,
    /// so no event the rules forward is without a check to re-run.
    #[test]
    fn every_subscribed_event_maps_to_a_check() {
        let needs = all_needs();
        for rule in member_rules(&needs) {
            for name in rule.pattern["detail"]["eventName"].as_array().unwrap() {
                let name = name.as_str().unwrap();
                let affected = needs_for(&needs, rule.event_source, name);
                assert!(!affected.is_empty(), "{} {name}", rule.event_source);
                let checks: Vec<_> = CATALOG
                    .iter()
                    .filter(|c| {
                        crate::catalog::needs_of(&[*c])
                            .iter()
                            .any(|n| affected.contains(n))
                    })
                    .collect();
                assert!(
                    !checks.is_empty(),
                    "{} {name} re-runs no check",
                    rule.event_source
                );
            }
        }
    }

    /// The immediate events are triggers of the trail facts, and global sources are the ones
    /// whose needs are account-wide.
    #[test]
    fn immediate_and_global_sources_are_consistent() {
        for t in IMMEDIATE {
            assert!(Need::CloudTrailTrails.triggers().contains(t), "{t:?}");
        }
        for need in all_needs() {
            for t in need.triggers() {
                if is_global_source(t.event_source) {
                    assert_eq!(need.scope(), Scope::Account, "{need:?} {t:?}");
                }
            }
        }
    }

    /// A security-group rule change affects only the security-group facts; a trail being stopped
    /// affects the trails and is immediate; an event no check declares affects nothing.
    #[test]
    fn needs_for_maps_events_to_needs() {
        let needs = all_needs();
        assert_eq!(
            needs_for(&needs, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
            [Need::Ec2SecurityGroups].into()
        );
        assert_eq!(
            needs_for(&needs, "cloudtrail.amazonaws.com", "StopLogging"),
            [Need::CloudTrailTrails].into()
        );
        assert!(is_immediate("cloudtrail.amazonaws.com", "StopLogging"));
        assert!(!is_immediate(
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress"
        ));
        assert!(needs_for(&needs, "ec2.amazonaws.com", "DescribeInstances").is_empty());
        assert!(needs_for(&needs, "iam.amazonaws.com", "StopLogging").is_empty());
        let mfa = needs_for(&needs, "iam.amazonaws.com", "DeactivateMFADevice");
        assert!(mfa.contains(&Need::IamCredentialReport) && mfa.contains(&Need::IamAccountSummary));
    }

    /// Patterns have one source, the CloudTrail detail type, and stay well below EventBridge's
    /// 4096-character limit for a rule's pattern.
    #[test]
    fn member_patterns_are_small_and_exact() {
        let rules = member_rules(&all_needs());
        for rule in &rules {
            let text = rule.pattern.to_string();
            assert!(
                text.len() < 2048,
                "{}: {} chars",
                rule.event_source,
                text.len()
            );
            assert_eq!(rule.pattern["detail-type"], json!([DETAIL_TYPE]));
        }
        let ids: BTreeSet<_> = rules
            .iter()
            .map(|r| rule_logical_id(r.event_source))
            .collect();
        assert_eq!(ids.len(), rules.len(), "logical ids are unique");
        assert_eq!(
            rule_logical_id("access-analyzer.amazonaws.com"),
            "AccessAnalyzerRule"
        );
        assert_eq!(
            eventbridge_source("monitoring.amazonaws.com"),
            "aws.cloudwatch"
        );
        assert_eq!(eventbridge_source("ec2.amazonaws.com"), "aws.ec2");
    }
}
