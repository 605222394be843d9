//! Every KMS key whose automatic rotation the owner controls rotates automatically.
//!
//! AWS-managed keys rotate by themselves; asymmetric, HMAC or disabled keys, keys with imported
//! material or in a custom key store cannot be rotated automatically, and a multi-Region replica
//! rotates with its primary: they are skipped ([`crate::snapshot::KmsKey::rotatable`]).

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
        notes: "**Judges** `ListKeys` per audited region, then `DescribeKey` (KeyManager, KeySpec, \
KeyState, Origin, MultiRegionConfiguration) and, for the keys the owner can rotate, \
`GetKeyRotationStatus` `KeyRotationEnabled`: pass when true, fail when false. A key whose \
description or status cannot be read is unknown; a region whose listing fails is unknown for the \
region; no rotatable key is not_applicable.

**Edge cases**: judged are only enabled customer-managed `SYMMETRIC_DEFAULT` keys whose Origin is \
`AWS_KMS` and that are not multi-Region replicas. AWS-managed keys (KMS rotates them yearly), \
asymmetric and HMAC keys, imported material (`EXTERNAL`), custom key stores (`AWS_CLOUDHSM`, \
`EXTERNAL_KEY_STORE`) cannot be rotated by `EnableKeyRotation`; a replica's rotation is set on its \
primary, which is judged in its own region. Disabled and pending-deletion keys encrypt nothing new. \
A custom `RotationPeriodInDays` passes: any period is automatic rotation.

**Differs from Prowler / Security Hub**: Prowler's `kms_cmk_rotation_enabled` and Security Hub \
KMS.4 judge every enabled customer symmetric key, so they fail imported-material, custom-key-store \
keys and replicas, which `EnableKeyRotation` refuses; ours skips them because no remediation \
exists there (imported material is rotated by hand: a new key and an alias switch).",
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
        "customer-managed KMS keys that KMS can rotate automatically in the audited regions",
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
            origin: Ok("AWS_KMS".into()),
            replica: Ok(false),
            rotation_enabled: rotation,
            policy: Err(crate::facts::FactError::not_collected(
                "kms",
                "GetKeyPolicy",
            )),
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
            "Account 111122223333 has no customer-managed KMS keys that KMS can rotate automatically in the audited regions."
        );
    }

    /// Imported key material, custom key stores and multi-Region replicas cannot be given
    /// automatic rotation: they are not judged, so they cannot fail. A primary multi-Region key is.
    #[test]
    fn skips_keys_the_owner_cannot_rotate() {
        let with = |origin: &str, replica: bool| KmsKey {
            origin: Ok(origin.into()),
            replica: Ok(replica),
            ..key(
                "CUSTOMER",
                Err(crate::facts::FactError::not_collected(
                    "kms",
                    "GetKeyRotationStatus",
                )),
            )
        };
        for k in [
            with("EXTERNAL", false),
            with("AWS_CLOUDHSM", false),
            with("EXTERNAL_KEY_STORE", false),
            with("AWS_KMS", true),
        ] {
            let v = run(Ok(vec![k.clone()]));
            assert_eq!(v[0].status, Status::NotApplicable, "{k:?}");
        }
        let primary = KmsKey {
            replica: Ok(false),
            ..key("CUSTOMER", Ok(false))
        };
        assert_eq!(run(Ok(vec![primary]))[0].status, Status::Fail);
    }

    /// A key whose description could not be read is unknown, not skipped.
    #[test]
    fn unknown_when_description_unreadable() {
        let k = KmsKey {
            origin: Err(denied("kms", "DescribeKey", Some(REGION))),
            ..key("CUSTOMER", Ok(false))
        };
        assert_eq!(run(Ok(vec![k]))[0].status, Status::Unknown);
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
