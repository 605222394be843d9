//! New EBS volumes are encrypted by default in every audited region.
//!
//! The setting is regional; every account has it on or off in every region, so this check is never
//! not_applicable.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ebs_default_encryption_enabled",
        title: "EBS encryption by default is enabled in every audited region",
        practice: Practice::DataProtection,
        severity: Severity::Medium,
        activity: dsomm::ENCRYPTION_AT_REST,
        remediation: "Enable EBS encryption by default in each region (aws ec2 \
                      enable-ebs-encryption-by-default --region REGION).",
        needs: &[Need::Ec2EbsDefaultEncryption],
        notes: "**Judges** `GetEbsEncryptionByDefault` in each audited region: true passes, false fails, an \
error is unknown for the region. Never not_applicable.

**Edge cases**: the setting is regional and affects only new volumes and snapshot copies; \
existing unencrypted volumes are not judged. Regions without volumes are judged too: the setting \
costs nothing and protects the first volume.

**Differs from Prowler / Security Hub**: agrees with Security Hub EC2.7. Prowler's \
`ec2_ebs_default_encryption` skips regions without volumes unless told to scan unused services; \
ours judges every audited region, since a volume created tomorrow would be unencrypted.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_region_value(
        snap,
        "EBS encryption by default",
        |r| &r.ebs_encryption_by_default,
        |region, on| {
            let resource = super::account_in(snap, region);
            vec![if *on {
                Verdict::pass(
                    resource,
                    Some(region),
                    format!("New EBS volumes in {region} are encrypted by default."),
                )
            } else {
                Verdict::fail(
                    resource,
                    Some(region),
                    format!("New EBS volumes in {region} are not encrypted by default."),
                )
            }]
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;

    fn run(on: crate::facts::Fact<bool>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional
            .get_mut(REGION)
            .unwrap()
            .ebs_encryption_by_default = on;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_when_enabled() {
        let v = run(Ok(true));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "account 111122223333 in eu-west-1",
                Some(REGION),
                "New EBS volumes in eu-west-1 are encrypted by default."
            )]
        );
    }

    /// Never not_applicable: every audited region has the setting.
    #[test]
    fn fails_when_disabled() {
        let v = run(Ok(false));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "New EBS volumes in eu-west-1 are not encrypted by default."
        );
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied(
            "ec2",
            "GetEbsEncryptionByDefault",
            Some(REGION),
        )));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge EBS encryption by default of eu-west-1: ec2:GetEbsEncryptionByDefault in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
