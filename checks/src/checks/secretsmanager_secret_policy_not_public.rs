//! No Secrets Manager secret has a resource policy that lets anyone read or change it
//! ([`crate::policy::public`]).

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "secretsmanager_secret_policy_not_public",
        title: "No secret's resource policy lets anyone read or change it",
        practice: Practice::DataProtection,
        severity: Severity::Critical,
        activity: dsomm::TEST_FOR_EXPOSED_SERVICES,
        remediation: "Remove the `*` principal from the secret's resource policy (aws secretsmanager \
                      put-resource-policy --block-public-policy, or delete-resource-policy) and name \
                      the roles that read it.",
        needs: &[Need::SecretsManagerPolicies],
        notes: "**Judges** the resource policy (`GetResourcePolicy`) of every secret of `ListSecrets` \
per audited region: it fails when an `Allow` statement's principal is everyone and no positive condition \
pins the caller to a concrete account, an organization, an ARN in a concrete account or a VPC; the \
reason names the statements and their actions. A secret without a resource policy passes (only the \
account's identity policies can grant it). A policy that cannot be read is `unknown`.\n\n\
**Edge cases**: replicas carry the primary's policy and are judged where listed; a secret managed by \
another service (`OwningService`) is judged too, since its policy is still the owner's to write; \
`BlockPublicPolicy` is a write-time guard, not a property of the stored policy, so the stored policy is \
what is judged.\n\n\
**Differs from Prowler** (`secretsmanager_not_publicly_accessible`): the same question; ours requires a \
pinning condition with concrete values rather than the presence of any condition.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let mut verdicts = super::per_region(
        snap,
        "secrets",
        |r| &r.secrets,
        |region, s| {
            vec![super::judge_resource_policy(
                &format!("Secret {}", s.name),
                &s.arn,
                region,
                &s.policy,
            )]
        },
    );
    if verdicts.is_empty() {
        verdicts.push(Verdict::not_applicable(
            snap.account_resource(),
            None,
            "The account has no secret in the audited regions.",
        ));
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::Secret;

    fn secret(policy: Option<&str>) -> Secret {
        Secret {
            name: "db".into(),
            arn: format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-AbCdEf"),
            rotation_enabled: true,
            last_rotated: None,
            owning_service: None,
            primary_region: None,
            policy: Ok(policy.map(str::to_owned)),
        }
    }

    #[test]
    fn public_policy_fails() {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().secrets = Ok(vec![
            secret(Some(
                r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}}"#,
            )),
            secret(Some(
                r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}}"#,
            )),
            secret(None),
        ]);
        let v = evaluate(&s, &Settings::default());
        let st: Vec<Status> = v.iter().map(|v| v.status).collect();
        assert_eq!(st, [Status::Fail, Status::Pass, Status::Pass]);
        assert_eq!(
            v[0].reason,
            "Secret db is public: statement 1 lets anyone call secretsmanager:GetSecretValue."
        );
    }
}
