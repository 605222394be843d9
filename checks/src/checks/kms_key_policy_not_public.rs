//! No customer-managed KMS key policy lets anyone use the key: a `*` principal that no condition
//! pins (`kms:CallerAccount`, `aws:PrincipalOrgID`, `aws:SourceAccount`, …) lets any AWS account
//! encrypt, decrypt or manage with the key ([`crate::policy::public`]).

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "kms_key_policy_not_public",
        title: "No KMS key policy lets anyone use the key",
        practice: Practice::DataProtection,
        severity: Severity::Critical,
        activity: dsomm::TEST_FOR_EXPOSED_SERVICES,
        remediation: "Replace the `*` principal of the key policy with the account's root or named \
                      roles (aws kms put-key-policy), or pin it with kms:CallerAccount (and \
                      kms:ViaService) or aws:PrincipalOrgID.",
        needs: &[Need::KmsKeyPolicies],
        notes: "**Judges** the `default` key policy (`GetKeyPolicy`) of every customer-managed key of \
`ListKeys` + `DescribeKey` per audited region: it fails when an `Allow` statement's principal is \
everyone and no positive condition pins the caller to a concrete account (`kms:CallerAccount`, \
`aws:PrincipalAccount`, `aws:SourceAccount`), an organization, an ARN in a concrete account or a VPC; \
the reason names the statements and their actions. AWS-managed keys (`aws/s3`, …) have policies AWS \
writes and are not judged. A key whose description or policy cannot be read is `unknown`.\n\n\
**Edge cases**: the usual service-integration statement (`*` with `kms:CallerAccount` and \
`kms:ViaService`) passes; `kms:ViaService` alone does not pin the account (any account's S3 calls \
come through S3); keys pending deletion are still judged (they can be restored); grants (`CreateGrant`) \
are not read.\n\n\
**Differs from Prowler** (`kms_key_not_publicly_accessible`): Prowler treats a `*` principal as public \
unless some condition is present; ours requires a pinning condition with concrete values, so \
`kms:ViaService` alone fails and `kms:CallerAccount` passes.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let mut verdicts = super::per_region(
        snap,
        "KMS keys",
        |r| &r.kms_keys,
        |region, k| match &k.manager {
            Err(e) => vec![super::unknown(&k.arn, Some(region), e)],
            Ok(m) if m != "CUSTOMER" => vec![],
            Ok(_) => vec![super::judge_resource_policy(
                &format!("KMS key {}", k.id),
                &k.arn,
                region,
                &k.policy.clone().map(Some),
            )],
        },
    );
    if verdicts.is_empty() {
        verdicts.push(Verdict::not_applicable(
            snap.account_resource(),
            None,
            "The account has no customer-managed KMS key in the audited regions.",
        ));
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::facts::FactError;
    use crate::model::Status;
    use crate::snapshot::KmsKey;

    fn key(manager: &str, policy: Option<&str>) -> KmsKey {
        KmsKey {
            id: "k1".into(),
            arn: format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/k1"),
            manager: Ok(manager.into()),
            spec: Ok("SYMMETRIC_DEFAULT".into()),
            state: Ok("Enabled".into()),
            origin: Ok("AWS_KMS".into()),
            replica: Ok(false),
            rotation_enabled: Ok(true),
            policy: policy
                .map(|p| Ok(p.to_owned()))
                .unwrap_or_else(|| Err(FactError::not_collected("kms", "GetKeyPolicy"))),
        }
    }

    fn run(keys: Vec<KmsKey>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().kms_keys = Ok(keys);
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn customer_keys_by_their_policy() {
        let open = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.eu-west-1.amazonaws.com"}}}]}"#;
        let pinned = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":"111122223333","kms:ViaService":"s3.eu-west-1.amazonaws.com"}}},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
        let v = run(vec![key("CUSTOMER", Some(open))]);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "KMS key k1 is public: statement 1 lets anyone call kms:Decrypt, kms:GenerateDataKey."
        );
        assert_eq!(
            run(vec![key("CUSTOMER", Some(pinned))])[0].status,
            Status::Pass
        );
        assert_eq!(
            run(vec![key("AWS", Some(open))])[0].status,
            Status::NotApplicable
        );
        assert_eq!(run(vec![key("CUSTOMER", None)])[0].status, Status::Unknown);
    }
}
