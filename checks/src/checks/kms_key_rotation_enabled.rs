//! Every enabled customer-managed symmetric KMS key rotates automatically.
//!
//! AWS-managed keys rotate by themselves and asymmetric, HMAC or disabled keys cannot be rotated
//! automatically: they are skipped.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "kms_key_rotation_enabled",
        title: "Customer-managed KMS keys rotate automatically",
        practice: Practice::DataProtection,
        severity: Severity::Medium,
        activity: dsomm::HANDOVER_OF_CONFIDENTIAL_PARAMETERS,
        remediation: "Enable automatic rotation on every customer-managed symmetric key \
                      (aws kms enable-key-rotation --key-id KEY).",
        needs: &[Need::KmsKeys],
        notes: "",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let verdicts = super::per_region(
        snap,
        "KMS keys",
        |r| &r.kms_keys,
        |region, k| match k.rotatable() {
            Err(e) => vec![super::unknown(&k.arn, Some(region), e)],
            Ok(false) => vec![],
            Ok(true) => vec![match &k.rotation_enabled {
                Err(e) => super::unknown(&k.arn, Some(region), e),
                Ok(true) => Verdict::pass(
                    &k.arn,
                    Some(region),
                    format!("KMS key {} rotates automatically.", k.id),
                ),
                Ok(false) => Verdict::fail(
                    &k.arn,
                    Some(region),
                    format!("KMS key {} does not rotate automatically.", k.id),
                ),
            }],
        },
    );
    super::or_not_applicable(
        snap,
        verdicts,
        "enabled customer-managed symmetric KMS keys in the audited regions",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::KmsKey;

    fn key(manager: &str, rotation: crate::facts::Fact<bool>) -> KmsKey {
        KmsKey {
            id: "k1".into(),
            arn: format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/k1"),
            manager: Ok(manager.into()),
            spec: Ok("SYMMETRIC_DEFAULT".into()),
            state: Ok("Enabled".into()),
            rotation_enabled: rotation,
        }
    }

    fn run(k: crate::facts::Fact<Vec<KmsKey>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().kms_keys = k;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_rotating_key() {
        let v = run(Ok(vec![key("CUSTOMER", Ok(true))]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:kms:eu-west-1:111122223333:key/k1",
                Some(REGION),
                "KMS key k1 rotates automatically."
            )]
        );
    }

    #[test]
    fn fails_non_rotating_key() {
        let v = run(Ok(vec![key("CUSTOMER", Ok(false))]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(v[0].reason, "KMS key k1 does not rotate automatically.");
    }

    #[test]
    fn not_applicable_with_only_aws_managed_keys() {
        let v = run(Ok(vec![key("AWS", Ok(false))]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no enabled customer-managed symmetric KMS keys in the audited regions."
        );
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied("kms", "ListKeys", Some(REGION))));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge KMS keys of eu-west-1: kms:ListKeys in eu-west-1 access denied (AccessDenied: not authorized)."
        );
        let v = run(Ok(vec![key(
            "CUSTOMER",
            Err(denied("kms", "GetKeyRotationStatus", Some(REGION))),
        )]));
        assert_eq!(
            v[0].reason,
            "Cannot judge arn:aws:kms:eu-west-1:111122223333:key/k1: kms:GetKeyRotationStatus in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
