//! Thresholds of the checks, set in the `[checks.settings]` section of the config.

use serde::{Deserialize, Serialize};

/// Tunable thresholds. Every field has a documented default; unknown keys are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Minimum days of automated backups an RDS instance must keep (`rds_instance_backup_retention`).
    /// Default 7.
    pub rds_min_backup_retention_days: u16,
    /// TCP ports that must never be reachable from `0.0.0.0/0` or `::/0`
    /// (`ec2_security_group_no_world_admin_ports`). Default `[22, 3389]` (SSH, RDP).
    pub admin_ports: Vec<u16>,
    /// Maximum age in days of an active access key (`iam_access_keys_rotated`). Default 90 (CIS).
    pub access_key_max_age_days: u32,
    /// Days after which an unused password or active access key must be disabled
    /// (`iam_credentials_unused_disabled`). Default 45 (CIS).
    pub unused_credentials_days: u32,
    /// Minimum password length the account password policy must require
    /// (`iam_password_policy_strong`). Default 14 (CIS).
    pub password_min_length: u16,
    /// How many previous passwords the policy must forbid reusing (`iam_password_policy_strong`).
    /// Default 24 (CIS).
    pub password_reuse_prevention: u16,
    /// The AWS Organizations account tag that names an account's environment
    /// (`organizations_environments_separated`, `organizations_security_account_delegated`); the key
    /// is matched without regard to case. Default `environment`.
    pub environment_tag_key: String,
    /// Environment tag values of production accounts, matched without regard to case.
    /// Default `["production", "prod"]`.
    pub production_environments: Vec<String>,
    /// Environment tag values of non-production workload accounts, matched without regard to case.
    /// Default `["staging", "test", "development", "dev", "qa", "sandbox"]`.
    pub non_production_environments: Vec<String>,
    /// Environment tag values of dedicated security accounts, the only accounts that may administer
    /// GuardDuty and Security Hub for the organization (`organizations_security_account_delegated`).
    /// Default `["security"]`.
    pub security_environments: Vec<String>,
    /// TCP ports of services that must never be reachable from `0.0.0.0/0` or `::/0`
    /// (`ec2_security_group_no_world_high_risk_ports`). Default: Security Hub EC2.19's list (20, 21,
    /// 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 4333, 5000, 5432, 5500, 5601, 8080, 8088,
    /// 8888, 9200, 9300) plus 1521, 2375, 2376, 6379, 9042, 11211, 27017.
    pub high_risk_ports: Vec<u16>,
    /// Days after which a role nobody assumed fails (`iam_role_unused`). Default 90.
    pub unused_role_days: u32,
    /// The maximum age in days of the images that run: ECS tasks' container images (since ECR
    /// received them) and EC2 instances' AMIs (since their creation)
    /// (`ecs_ec2_running_image_max_age`; DSOMM's example is 30). Default 30.
    pub max_image_age_days: u32,
    /// The tighter maximum of DSOMM's level 4 "short maximum lifetime" (images built and
    /// deployed daily, `ecs_ec2_running_image_short_max_age`): one day plus a day for an audit
    /// that runs between the nightly build and its rollout. Default 2.
    pub short_max_image_age_days: u32,
    /// Days within which drift detection must have run on a CloudFormation stack for its
    /// `IN_SYNC` status to count (`cloudformation_stack_in_sync`; AWS Config's
    /// `cloudformation-stack-drift-detection-check` runs it daily). Default 7.
    pub drift_check_max_age_days: u32,
    /// Days within which an AWS FIS experiment must have run for chaos engineering to count
    /// (`fis_experiment_recently_run`). Default 90 (a quarterly game day).
    pub chaos_experiment_max_age_days: u32,
    /// Days after which a service a user or role may use but did not use fails
    /// (`iam_principal_unused_services`; IAM's service last-accessed report). At most 400, IAM's
    /// tracking period. Default 90.
    pub unused_service_days: u32,
    /// How many service last-accessed jobs (`GenerateServiceLastAccessedDetails`, one per user or
    /// role) the agent starts per account and run; principals beyond it are read in later runs,
    /// those with the oldest kept report first. 0 starts none (only kept reports are judged).
    /// Default 50.
    pub last_accessed_jobs_per_run: u32,
    /// How long, in hours from IAM's completion of the job, a principal's last-accessed report is
    /// kept in the state store and used instead of a new job (`run` only: the one-shot `audit`
    /// keeps nothing). Default 24.
    pub last_accessed_cache_hours: u32,
    /// AWS account ids that roles may trust when the account belongs to no organization
    /// (`iam_role_trust_no_foreign_accounts`; inside an organization its accounts are the trusted
    /// ones). Default empty.
    pub trusted_account_ids: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rds_min_backup_retention_days: 7,
            admin_ports: vec![22, 3389],
            access_key_max_age_days: 90,
            unused_credentials_days: 45,
            password_min_length: 14,
            password_reuse_prevention: 24,
            environment_tag_key: "environment".to_owned(),
            production_environments: strings(&["production", "prod"]),
            non_production_environments: strings(&[
                "staging",
                "test",
                "development",
                "dev",
                "qa",
                "sandbox",
            ]),
            security_environments: strings(&["security"]),
            high_risk_ports: vec![
                20, 21, 23, 25, 110, 135, 143, 445, 1433, 1434, 1521, 2375, 2376, 3000, 3306, 4333,
                5000, 5432, 5500, 5601, 6379, 8080, 8088, 8888, 9042, 9200, 9300, 11211, 27017,
            ],
            unused_role_days: 90,
            max_image_age_days: 30,
            short_max_image_age_days: 2,
            drift_check_max_age_days: 7,
            chaos_experiment_max_age_days: 90,
            unused_service_days: 90,
            last_accessed_jobs_per_run: 50,
            last_accessed_cache_hours: 24,
            trusted_account_ids: Vec::new(),
        }
    }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

/// What an environment tag value names, by the configured lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvironmentKind {
    Production,
    NonProduction,
    Security,
}

impl EnvironmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EnvironmentKind::Production => "production",
            EnvironmentKind::NonProduction => "non-production",
            EnvironmentKind::Security => "security",
        }
    }
}

impl Settings {
    /// The kind of environment `value` names (compared without regard to case), or `None` when it
    /// is in none of the configured lists.
    pub fn environment_kind(&self, value: &str) -> Option<EnvironmentKind> {
        let value = value.trim();
        let is_in = |list: &[String]| list.iter().any(|v| v.trim().eq_ignore_ascii_case(value));
        if is_in(&self.production_environments) {
            Some(EnvironmentKind::Production)
        } else if is_in(&self.non_production_environments) {
            Some(EnvironmentKind::NonProduction)
        } else if is_in(&self.security_environments) {
            Some(EnvironmentKind::Security)
        } else {
            None
        }
    }
}
