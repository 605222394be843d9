//! One module per check, named `<service>_<resource>_<state>`. Each module holds the check's metadata
//! (`CHECK`), its pure evaluation function and its unit tests.

pub mod cloudtrail_multi_region_logging;
pub mod ec2_security_group_no_world_admin_ports;
pub mod elbv2_listener_tls_only;
pub mod iam_console_users_mfa_enabled;
pub mod iam_policy_no_full_admin;
pub mod iam_root_access_keys_absent;
pub mod iam_root_mfa_enabled;
pub mod rds_instance_backup_retention;
pub mod s3_bucket_default_encryption;
pub mod s3_bucket_public_access_blocked;

use crate::facts::FactError;
use crate::model::Verdict;

/// The verdict for a resource whose facts could not be read: it names the resource, the call and why.
pub(crate) fn unknown(resource: &str, region: Option<&str>, err: &FactError) -> Verdict {
    Verdict::unknown(resource, region, format!("Cannot judge {resource}: {err}."))
}

#[cfg(test)]
pub(crate) mod fixtures {
    use crate::facts::{ErrorKind, FactError};
    use crate::snapshot::AccountSnapshot;

    pub const ACCOUNT: &str = "111122223333";
    pub const REGION: &str = "eu-west-1";

    /// A snapshot of one account in one region with nothing collected.
    pub fn snapshot() -> AccountSnapshot {
        AccountSnapshot::new(ACCOUNT, &[REGION.to_owned()])
    }

    /// An access-denied error of the given call, as the collectors record it.
    pub fn denied(service: &str, operation: &str, region: Option<&str>) -> FactError {
        FactError::new(
            service,
            operation,
            region,
            ErrorKind::AccessDenied,
            "AccessDenied: not authorized",
        )
    }
}
