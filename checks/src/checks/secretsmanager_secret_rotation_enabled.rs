//! Every Secrets Manager secret has automatic rotation enabled.
//!
//! Replicas follow their primary's rotation and managed secrets (`OwningService`) are rotated by
//! the service that owns them: neither can be given a rotation of its own, so they are
//! not_applicable unless they rotate.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "secretsmanager_secret_rotation_enabled",
        title: "Secrets Manager secrets rotate automatically",
        practice: Practice::DataProtection,
        severity: Severity::Medium,
        activity: dsomm::HANDOVER_OF_CONFIDENTIAL_PARAMETERS,
        remediation:
            "Configure a rotation Lambda and schedule for every secret (aws secretsmanager \
                      rotate-secret --secret-id SECRET --rotation-rules ...).",
        needs: &[Need::SecretsManagerSecrets],
        notes:
            "**Judges** `ListSecrets` per audited region (secrets scheduled for deletion are not \
listed): `RotationEnabled` true passes, false fails. A region whose listing fails is unknown; no \
secret is not_applicable.

**Edge cases**: a replica (`PrimaryRegion` is another region) cannot be rotated on its own (AWS \
rotates the primary and propagates the value), so a non-rotating replica is not_applicable and its \
primary is judged where it lives. A managed secret (`OwningService` such as `rds` or `events`) is \
rotated, or not, by its service: not_applicable when it does not rotate. Rotation that is enabled \
but failing is not detected (see below).

**Differs from Prowler / Security Hub**: agrees with Prowler's \
`secretsmanager_automatic_rotation_enabled` and Security Hub SecretsManager.1 on primaries; both \
fail replicas and managed secrets, whose remediation is not the owner's. Security Hub \
SecretsManager.2 (rotation succeeded) and .4 (rotated within N days) are not judged: that needs \
the rotation schedule and is left to a separate check.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let verdicts = super::per_region(
        snap,
        "secrets",
        |r| &r.secrets,
        |region, s| {
            let verdict = if s.rotation_enabled {
                Verdict::pass(
                    &s.arn,
                    Some(region),
                    format!("Secret {} rotates automatically.", s.name),
                )
            } else if let Some(primary) = s.primary_region.as_deref().filter(|p| *p != region) {
                Verdict::not_applicable(
                    &s.arn,
                    Some(region),
                    format!(
                        "Secret {} is a replica of the secret in {primary}, whose rotation it follows.",
                        s.name
                    ),
                )
            } else if let Some(service) = s.owning_service.as_deref() {
                Verdict::not_applicable(
                    &s.arn,
                    Some(region),
                    format!(
                        "Secret {} is managed by {service}, which controls its rotation.",
                        s.name
                    ),
                )
            } else {
                Verdict::fail(
                    &s.arn,
                    Some(region),
                    format!("Secret {} does not rotate automatically.", s.name),
                )
            };
            vec![verdict]
        },
    );
    super::or_not_applicable(snap, verdicts, "secrets in the audited regions")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::Secret;

    fn secret(rotation: bool) -> Secret {
        Secret {
            name: "db".into(),
            arn: format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-AbCdEf"),
            rotation_enabled: rotation,
            last_rotated: None,
            owning_service: None,
            primary_region: Some(REGION.into()),
            policy: Ok(None),
        }
    }

    /// A replica follows its primary's rotation, and a managed secret its service's: not the
    /// owner's to fix here. A secret whose primary region is this one is judged.
    #[test]
    fn replicas_and_managed_secrets_are_not_applicable() {
        let replica = Secret {
            primary_region: Some("us-east-1".into()),
            ..secret(false)
        };
        let v = run(Ok(vec![replica]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Secret db is a replica of the secret in us-east-1, whose rotation it follows."
        );
        let managed = Secret {
            name: "events!connection/api/1234".into(),
            owning_service: Some("events".into()),
            ..secret(false)
        };
        let v = run(Ok(vec![managed]));
        assert_eq!(
            v[0].reason,
            "Secret events!connection/api/1234 is managed by events, which controls its rotation."
        );
        let unreplicated = Secret {
            primary_region: None,
            ..secret(false)
        };
        assert_eq!(run(Ok(vec![unreplicated]))[0].status, Status::Fail);
    }

    fn run(s: crate::facts::Fact<Vec<Secret>>) -> Vec<Verdict> {
        let mut snap = snapshot();
        snap.regional.get_mut(REGION).unwrap().secrets = s;
        evaluate(&snap, &Settings::default())
    }

    #[test]
    fn passes_rotating_secret() {
        let v = run(Ok(vec![secret(true)]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf",
                Some(REGION),
                "Secret db rotates automatically."
            )]
        );
    }

    #[test]
    fn fails_non_rotating_secret() {
        let v = run(Ok(vec![secret(false)]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(v[0].reason, "Secret db does not rotate automatically.");
    }

    #[test]
    fn not_applicable_without_secrets() {
        let v = run(Ok(vec![]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no secrets in the audited regions."
        );
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied("secretsmanager", "ListSecrets", Some(REGION))));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge secrets of eu-west-1: secretsmanager:ListSecrets in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
