//! Every Secrets Manager secret has automatic rotation enabled.

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
        notes: "",
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
            vec![if s.rotation_enabled {
                Verdict::pass(
                    &s.arn,
                    Some(region),
                    format!("Secret {} rotates automatically.", s.name),
                )
            } else {
                Verdict::fail(
                    &s.arn,
                    Some(region),
                    format!("Secret {} does not rotate automatically.", s.name),
                )
            }]
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
        }
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
