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
        }
    }
}
