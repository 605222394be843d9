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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rds_min_backup_retention_days: 7,
            admin_ports: vec![22, 3389],
        }
    }
}
