//! The catalog of checks: each check's metadata and its pure evaluation function.

use crate::checks;
use crate::dsomm::Activity;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};
use serde::Serialize;
use std::collections::BTreeSet;

/// What a check is, independent of any account.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CheckMeta {
    /// The check id: equal to its module name and its metric label value (tested).
    pub id: &'static str,
    pub title: &'static str,
    pub practice: Practice,
    pub severity: Severity,
    /// The DSOMM activity this check is evidence for; its level is the check's level.
    pub activity: Activity,
    /// What to do when the check fails.
    pub remediation: &'static str,
    /// The facts the check reads; the collectors read exactly the needs of the enabled checks.
    pub needs: &'static [Need],
    /// The review notes of `docs/checks.md` (Markdown): what the check judges and on which fields,
    /// the edge cases it handles, and where it knowingly differs from Prowler or AWS Security Hub
    /// and why. Required for every check (tested).
    pub notes: &'static str,
    /// `module_path!()` of the check's module, to prove `id` equals the module name.
    #[serde(skip)]
    pub module: &'static str,
}

/// A check: its metadata and a pure function from the snapshot to verdicts.
pub struct Check {
    pub meta: CheckMeta,
    pub evaluate: fn(&AccountSnapshot, &Settings) -> Vec<Verdict>,
}

impl Check {
    pub fn id(&self) -> &'static str {
        self.meta.id
    }
    /// The check's DSOMM level (its activity's level).
    pub fn level(&self) -> u8 {
        self.meta.activity.level
    }
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check").field("id", &self.meta.id).finish()
    }
}

/// Every check the agent knows, ordered by practice then level.
pub static CATALOG: &[&Check] = &[
    &checks::iam_root_mfa_enabled::CHECK,
    &checks::iam_root_access_keys_absent::CHECK,
    &checks::iam_admin_users_mfa_enabled::CHECK,
    &checks::iam_password_policy_strong::CHECK,
    &checks::iam_console_users_mfa_enabled::CHECK,
    &checks::iam_access_keys_rotated::CHECK,
    &checks::iam_credentials_unused_disabled::CHECK,
    &checks::iam_role_trust_not_public::CHECK,
    &checks::accessanalyzer_enabled::CHECK,
    &checks::iam_policy_no_full_admin::CHECK,
    &checks::iam_user_no_direct_policies::CHECK,
    &checks::iam_policy_no_service_wildcard::CHECK,
    &checks::iam_passrole_restricted::CHECK,
    &checks::iam_role_trust_no_foreign_accounts::CHECK,
    &checks::iam_no_privilege_escalation::CHECK,
    &checks::iam_role_unused::CHECK,
    &checks::iam_principal_unused_services::CHECK,
    &checks::sqs_queue_policy_not_public::CHECK,
    &checks::sns_topic_policy_not_public::CHECK,
    &checks::lambda_function_policy_not_public::CHECK,
    &checks::elbv2_listener_tls_only::CHECK,
    &checks::elbv2_listener_modern_tls_policy::CHECK,
    &checks::elb_listener_tls_only::CHECK,
    &checks::cloudfront_distribution_https_only::CHECK,
    &checks::s3_bucket_tls_only::CHECK,
    &checks::elbv2_target_group_tls::CHECK,
    &checks::backup_plan_covers_resources::CHECK,
    &checks::rds_instance_backup_retention::CHECK,
    &checks::dynamodb_table_pitr_enabled::CHECK,
    &checks::s3_bucket_versioning_enabled::CHECK,
    &checks::cloudtrail_multi_region_logging::CHECK,
    &checks::cloudtrail_central_bucket::CHECK,
    &checks::logs_log_groups_centralized::CHECK,
    &checks::config_recorder_enabled::CHECK,
    &checks::cloudtrail_log_file_validation::CHECK,
    &checks::cloudtrail_kms_encrypted::CHECK,
    &checks::vpc_flow_logs_enabled::CHECK,
    &checks::cloudtrail_config_changes_recorded::CHECK,
    &checks::budgets_budget_with_notification::CHECK,
    &checks::cloudwatch_system_metrics_collected::CHECK,
    &checks::cloudwatch_root_usage_alarm::CHECK,
    &checks::securityhub_enabled::CHECK,
    &checks::ecr_registry_scan_on_push::CHECK,
    &checks::inspector2_scanning_enabled::CHECK,
    &checks::securityhub_vulnerability_findings_imported::CHECK,
    &checks::cloudwatch_dashboard_exists::CHECK,
    &checks::guardduty_enabled::CHECK,
    &checks::detective_graph_covers_account::CHECK,
    &checks::guardduty_malware_protection_enabled::CHECK,
    &checks::guardduty_runtime_monitoring_enabled::CHECK,
    &checks::cloudwatch_availability_probe_exists::CHECK,
    &checks::ecr_registry_continuous_scanning::CHECK,
    &checks::ssm_instance_patch_compliant::CHECK,
    &checks::ec2_security_group_no_world_admin_ports::CHECK,
    &checks::ec2_default_security_group_closed::CHECK,
    &checks::ecs_task_definition_non_root::CHECK,
    &checks::ecs_task_definition_resource_limits::CHECK,
    &checks::ec2_security_group_no_world_high_risk_ports::CHECK,
    &checks::rds_instance_not_publicly_accessible::CHECK,
    &checks::ec2_security_group_egress_restricted::CHECK,
    &checks::wafv2_public_endpoints_protected::CHECK,
    &checks::ec2_instance_imdsv2_required::CHECK,
    &checks::s3_bucket_default_encryption::CHECK,
    &checks::ebs_default_encryption_enabled::CHECK,
    &checks::rds_instance_storage_encrypted::CHECK,
    &checks::ec2_ebs_snapshot_not_public::CHECK,
    &checks::rds_snapshot_not_public::CHECK,
    &checks::kms_key_policy_not_public::CHECK,
    &checks::secretsmanager_secret_policy_not_public::CHECK,
    &checks::s3_bucket_public_access_blocked::CHECK,
    &checks::s3_account_public_access_blocked::CHECK,
    &checks::ecr_repository_not_public::CHECK,
    &checks::kms_key_rotation_enabled::CHECK,
    &checks::secretsmanager_secret_rotation_enabled::CHECK,
    &checks::organizations_environments_separated::CHECK,
    &checks::organizations_security_account_delegated::CHECK,
    &checks::ecr_repository_tag_immutable::CHECK,
    &checks::ecs_task_definition_image_pinned::CHECK,
    &checks::ecs_ec2_running_image_max_age::CHECK,
    &checks::ecs_ec2_running_image_short_max_age::CHECK,
    &checks::cloudformation_stack_in_sync::CHECK,
    &checks::cloudfront_elbv2_security_headers_set::CHECK,
    &checks::wafv2_web_acl_in_depth_rules::CHECK,
    &checks::fis_experiment_recently_run::CHECK,
    &checks::ce_anomaly_detection_alerting::CHECK,
    &checks::imagebuilder_pipeline_nightly::CHECK,
    &checks::ecs_task_definition_secrets_from_store::CHECK,
    &checks::ecs_service_rolling_update::CHECK,
    &checks::ecs_service_canary_deployment::CHECK,
    &checks::ecs_service_blue_green_deployment::CHECK,
];

/// The check with this id.
pub fn find(id: &str) -> Option<&'static Check> {
    CATALOG.iter().copied().find(|c| c.meta.id == id)
}

/// The checks left after removing the disabled ids (unknown ids are the config's business).
pub fn enabled(disabled: &[String]) -> Vec<&'static Check> {
    CATALOG
        .iter()
        .copied()
        .filter(|c| !disabled.iter().any(|d| d == c.meta.id))
        .collect()
}

/// The facts the given checks need, with the needs they depend on.
pub fn needs_of(checks: &[&Check]) -> BTreeSet<Need> {
    let mut needs = BTreeSet::new();
    for check in checks {
        for need in check.meta.needs {
            needs.insert(*need);
            needs.extend(need.requires().iter().copied());
        }
    }
    needs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{ErrorKind, FactError};
    use crate::model::Status;

    /// Ids are unique, follow `<service>_<resource>_<state>` (`<service>_<state>` when the resource is
    /// the service itself, as in `guardduty_enabled`), and equal the check's module name.
    #[test]
    fn ids_are_unique_and_equal_module_names() {
        let mut seen = BTreeSet::new();
        for c in CATALOG {
            let id = c.meta.id;
            assert!(seen.insert(id), "duplicate check id {id}");
            assert_eq!(
                c.meta.module.rsplit("::").next(),
                Some(id),
                "{id}: id differs from its module name"
            );
            assert!(
                id.split('_').count() >= 2,
                "{id}: not <service>_<resource>_<state>"
            );
            assert!(
                id.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_'),
                "{id}"
            );
            assert!(!c.meta.needs.is_empty(), "{id}: declares no facts");
            assert!(c.meta.remediation.len() > 20, "{id}: remediation missing");
            for part in ["**Judges**", "**Edge cases**"] {
                assert!(c.meta.notes.contains(part), "{id}: notes lack {part}");
            }
            assert!(!c.meta.title.is_empty(), "{id}: title missing");
        }
    }

    /// Denies the regional fact of `need` in one region.
    fn deny_regional(need: Need, r: &mut crate::snapshot::RegionFacts) {
        fn denied<T>(s: &str, o: &str) -> crate::facts::Fact<T> {
            Err(FactError::new(
                s,
                o,
                None,
                ErrorKind::AccessDenied,
                "denied",
            ))
        }
        match need {
            Need::AccessAnalyzers => r.analyzers = denied("access-analyzer", "ListAnalyzers"),
            Need::DetectiveGraphs => r.detective_graphs = denied("detective", "ListGraphs"),
            Need::ElbClassicListeners => {
                r.classic_load_balancers = denied("elb", "DescribeLoadBalancers")
            }
            Need::Elbv2TargetGroups => {
                r.target_groups = denied("elasticloadbalancing", "DescribeTargetGroups")
            }
            Need::Wafv2LoadBalancerAcls => {
                r.load_balancer_web_acls = denied("wafv2", "GetWebACLForResource")
            }
            Need::BackupPlans => r.backup_plans = denied("backup", "ListBackupPlans"),
            Need::DynamoDbTables => r.dynamodb_tables = denied("dynamodb", "ListTables"),
            Need::ConfigRecorders => {
                r.config_recorders = denied("config", "DescribeConfigurationRecorders")
            }
            Need::Ec2VpcFlowLogs => r.vpcs = denied("ec2", "DescribeVpcs"),
            Need::Ec2Instances => r.instances = denied("ec2", "DescribeInstances"),
            Need::Ec2EbsDefaultEncryption => {
                r.ebs_encryption_by_default = denied("ec2", "GetEbsEncryptionByDefault")
            }
            Need::KmsKeys => r.kms_keys = denied("kms", "ListKeys"),
            Need::SecretsManagerSecrets => r.secrets = denied("secretsmanager", "ListSecrets"),
            Need::CloudWatchMetricAlarms => {
                r.metric_filters = denied("logs", "DescribeMetricFilters");
                r.alarms = denied("cloudwatch", "DescribeAlarms");
            }
            Need::CloudWatchDashboards => r.dashboards = denied("cloudwatch", "ListDashboards"),
            Need::SyntheticsCanaries => r.canaries = denied("synthetics", "DescribeCanaries"),
            Need::GuardDutyDetectors => {
                r.guardduty_detectors = denied("guardduty", "ListDetectors")
            }
            Need::SecurityHub => r.security_hub = denied("securityhub", "DescribeHub"),
            Need::EcrRepositories => r.ecr_repositories = denied("ecr", "DescribeRepositories"),
            Need::EcrRegistryScanning => {
                r.ecr_registry_scanning = denied("ecr", "GetRegistryScanningConfiguration")
            }
            Need::EcsServices => r.ecs_services = denied("ecs", "ListClusters"),
            Need::EcsRunningTasks => r.ecs_tasks = denied("ecs", "ListTasks"),
            Need::FisExperiments => r.fis_experiments = denied("fis", "ListExperiments"),
            Need::ImageBuilderPipelines => {
                r.image_pipelines = denied("imagebuilder", "ListImagePipelines")
            }
            Need::CloudFormationStacks => {
                r.cloudformation_stacks = denied("cloudformation", "DescribeStacks")
            }
            Need::CodeDeployDeploymentGroups => {
                r.codedeploy_groups = denied("codedeploy", "ListApplications")
            }
            Need::Inspector2AccountStatus => {
                r.inspector2 = denied("inspector2", "BatchGetAccountStatus")
            }
            Need::SsmPatchCompliance => {
                r.ssm_instances = denied("ssm", "DescribeInstanceInformation")
            }
            Need::CloudWatchAgentMetrics => {
                r.agent_metric_instances = denied("cloudwatch", "ListMetrics")
            }
            Need::EcsClusters => r.ecs_clusters = denied("ecs", "DescribeClusters"),
            Need::LogsSubscriptionPolicies => {
                r.log_shipping = denied("logs", "DescribeAccountPolicies")
            }
            Need::OamLinks => r.oam_links = denied("oam", "ListLinks"),
            Need::RdsSnapshots => r.db_snapshots = denied("rds", "DescribeDBSnapshots"),
            Need::Ec2EbsSnapshots => r.ebs_snapshots = denied("ec2", "DescribeSnapshots"),
            Need::SqsQueues => r.sqs_queues = denied("sqs", "ListQueues"),
            Need::SnsTopics => r.sns_topics = denied("sns", "ListTopics"),
            Need::LambdaFunctions => r.lambda_functions = denied("lambda", "ListFunctions"),
            other => panic!("{other:?} is not a regional need"),
        }
    }

    /// A check reads only the facts it declares: with its declared facts denied and every other fact
    /// left uncollected, every verdict is `unknown` and names the denied call, never "not collected".
    #[test]
    fn checks_read_only_declared_facts() {
        for c in CATALOG {
            let regions = vec!["us-east-1".to_owned(), "eu-west-1".to_owned()];
            let mut snap = AccountSnapshot::new("111122223333", &regions);
            let mut org = crate::snapshot::Organization {
                in_use: true,
                id: "o-1".into(),
                management_account_id: "999988887777".into(),
                accounts: Err(FactError::not_collected("organizations", "ListAccounts")),
                delegated_administrators: Err(FactError::not_collected(
                    "organizations",
                    "ListDelegatedAdministrators",
                )),
                root_credentials_management: Err(FactError::not_collected(
                    "iam",
                    "ListOrganizationsFeatures",
                )),
                analyzers: Err(FactError::not_collected("access-analyzer", "ListAnalyzers")),
                detective: Err(FactError::not_collected("detective", "ListGraphs")),
            };
            fn denied<T>(s: &str, o: &str) -> crate::facts::Fact<T> {
                Err(FactError::new(
                    s,
                    o,
                    None,
                    ErrorKind::AccessDenied,
                    "denied",
                ))
            }
            for need in needs_of(&[*c]) {
                match need {
                    Need::IamAccountSummary => {
                        snap.iam.account_summary = denied("iam", "GetAccountSummary")
                    }
                    Need::IamCredentialReport => {
                        snap.iam.credential_report = denied("iam", "GetCredentialReport")
                    }
                    Need::IamSignIn => snap.iam.sign_in = denied("iam", "ListUsers"),
                    Need::IamAuthorizationDetails => {
                        snap.iam.authorization = denied("iam", "GetAccountAuthorizationDetails")
                    }
                    Need::IamServiceLastAccessed => {
                        snap.iam.service_last_accessed =
                            denied("iam", "GenerateServiceLastAccessedDetails")
                    }
                    Need::S3Buckets => snap.s3.buckets = denied("s3", "ListBuckets"),
                    Need::S3BucketEncryption | Need::S3BucketPublicAccessBlock => {}
                    Need::CloudTrailTrails => {
                        snap.cloudtrail = Ok(crate::snapshot::CloudTrailFacts {
                            trails: vec![],
                            listing_errors: vec![FactError::new(
                                "cloudtrail",
                                "DescribeTrails",
                                Some("us-east-1"),
                                ErrorKind::AccessDenied,
                                "denied",
                            )],
                        })
                    }
                    Need::Ec2SecurityGroups => {
                        for r in snap.regional.values_mut() {
                            r.security_groups = denied("ec2", "DescribeSecurityGroups");
                        }
                    }
                    Need::Elbv2Listeners => {
                        for r in snap.regional.values_mut() {
                            r.load_balancers =
                                denied("elasticloadbalancing", "DescribeLoadBalancers");
                        }
                    }
                    Need::RdsInstances => {
                        for r in snap.regional.values_mut() {
                            r.db_instances = denied("rds", "DescribeDBInstances");
                            r.db_clusters = denied("rds", "DescribeDBClusters");
                        }
                    }
                    Need::IamPasswordPolicy => {
                        snap.iam.password_policy = denied("iam", "GetAccountPasswordPolicy")
                    }
                    // Per-resource facts are denied through the listing they require.
                    Need::S3BucketPolicy
                    | Need::S3BucketVersioning
                    | Need::KmsKeyPolicies
                    | Need::SecretsManagerPolicies
                    | Need::EcrRepositoryPolicies
                    | Need::EcsTaskDefinitions
                    | Need::Ec2InstanceImages
                    | Need::SecurityHubProducts
                    | Need::Elbv2ListenerAttributes
                    | Need::CloudFrontResponseHeadersPolicies => {}
                    Need::S3AccountPublicAccessBlock => {
                        snap.s3.account_public_access_block =
                            denied("s3control", "GetPublicAccessBlock")
                    }
                    Need::CloudFrontDistributions => {
                        snap.cloudfront = denied("cloudfront", "ListDistributions")
                    }
                    Need::Budgets => snap.budgets = denied("budgets", "DescribeBudgets"),
                    Need::Route53HealthChecks => {
                        snap.health_checks = denied("route53", "ListHealthChecks")
                    }
                    Need::Wafv2WebAclRules => snap.web_acls = denied("wafv2", "GetWebACL"),
                    Need::CostAnomalyDetection => {
                        snap.cost_anomaly = denied("ce", "GetAnomalyMonitors")
                    }
                    // Organization facts: the organization is read, the needed part is denied.
                    Need::OrganizationAccounts => {
                        org.accounts = denied("organizations", "ListAccounts")
                    }
                    Need::OrganizationDelegatedAdministrators => {
                        org.delegated_administrators =
                            denied("organizations", "ListDelegatedAdministrators")
                    }
                    Need::OrganizationRootCredentialsManagement => {
                        org.root_credentials_management = denied("iam", "ListOrganizationsFeatures")
                    }
                    Need::OrganizationAnalyzers => {
                        org.analyzers = denied("access-analyzer", "ListAnalyzers")
                    }
                    Need::OrganizationDetectiveGraphs => {
                        org.detective = denied("detective", "ListGraphs")
                    }
                    Need::AccessAnalyzers
                    | Need::ElbClassicListeners
                    | Need::Elbv2TargetGroups
                    | Need::Wafv2LoadBalancerAcls
                    | Need::BackupPlans
                    | Need::DynamoDbTables
                    | Need::ConfigRecorders
                    | Need::Ec2VpcFlowLogs
                    | Need::Ec2Instances
                    | Need::Ec2EbsDefaultEncryption
                    | Need::KmsKeys
                    | Need::SecretsManagerSecrets
                    | Need::CloudWatchMetricAlarms
                    | Need::CloudWatchDashboards
                    | Need::SyntheticsCanaries
                    | Need::GuardDutyDetectors
                    | Need::RdsSnapshots
                    | Need::Ec2EbsSnapshots
                    | Need::SqsQueues
                    | Need::SnsTopics
                    | Need::LambdaFunctions
                    | Need::SecurityHub
                    | Need::EcrRepositories
                    | Need::EcrRegistryScanning
                    | Need::EcsServices
                    | Need::EcsRunningTasks
                    | Need::CloudFormationStacks
                    | Need::FisExperiments
                    | Need::ImageBuilderPipelines
                    | Need::CodeDeployDeploymentGroups
                    | Need::Inspector2AccountStatus
                    | Need::DetectiveGraphs
                    | Need::SsmPatchCompliance
                    | Need::CloudWatchAgentMetrics
                    | Need::EcsClusters
                    | Need::LogsSubscriptionPolicies
                    | Need::OamLinks => {
                        for r in snap.regional.values_mut() {
                            deny_regional(need, r);
                        }
                    }
                }
            }
            snap.organization = Ok(std::sync::Arc::new(org));
            let verdicts = (c.evaluate)(&snap, &Settings::default());
            assert!(!verdicts.is_empty(), "{}: no verdict", c.meta.id);
            for v in verdicts {
                assert_eq!(v.status, Status::Unknown, "{}: {v:?}", c.meta.id);
                assert!(
                    v.reason.contains("access denied"),
                    "{}: {}",
                    c.meta.id,
                    v.reason
                );
                assert!(
                    !v.reason.contains("not collected"),
                    "{}: {}",
                    c.meta.id,
                    v.reason
                );
            }
        }
    }
}
