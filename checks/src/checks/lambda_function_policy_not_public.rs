//! No Lambda function policy lets anyone invoke or change the function: a resource policy statement whose principal is everyone and that no condition pins to
//! concrete accounts, an organization, source ARNs or a VPC ([`crate::policy::public`]).

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "lambda_function_policy_not_public",
        title: "No Lambda function policy lets anyone invoke or change the function",
        practice: Practice::LeastPrivilege,
        severity: Severity::Critical,
        activity: dsomm::TEST_FOR_EXPOSED_SERVICES,
        remediation: "Remove the permission with the `*` principal (aws lambda remove-permission), grant invocation to the calling service with --source-arn and --source-account, and give function URLs AWS_IAM auth.",
        needs: &[Need::LambdaFunctions],
        notes: "**Judges** `ListFunctions` per audited region and `GetPolicy` per function (a function without a policy answers `ResourceNotFoundException`): it fails when an `Allow` statement's principal is everyone \
(`*`, `{\"AWS\": \"*\"}`, any `NotPrincipal`) and no positive condition pins the caller to a 12-digit \
account (`aws:SourceAccount`, `aws:PrincipalAccount`), an ARN in a concrete account (`aws:SourceArn`, \
`aws:PrincipalArn`), an organization id or path, or a VPC / endpoint; the reason names the statements \
and their actions. No policy passes (only the account's own principals can be granted the resource \
then); a policy that cannot be read or parsed is `unknown`.\n\n\
**Edge cases**: `IfExists` on an organization or source key matches callers that lack the key, so it \
pins nothing; `ForAllValues:` pins nothing; `Deny` statements grant nothing; a statement naming a \
foreign account is not public here (it is a cross-account grant someone chose).\n\n\
**Differs from Prowler**: Prowler (`awslambda_function_not_publicly_accessible`, `awslambda_function_url_public`) checks `*` principals and URL auth separately; ours reads the policy once: a function URL with `AuthType` `NONE` is public through its `lambda:InvokeFunctionUrl` statement, which no pinning condition restricts.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_policy_resource(snap, "Lambda function", |r| &r.lambda_functions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::PolicyResource;

    fn resource(policy: Option<&str>) -> PolicyResource {
        PolicyResource {
            name: "orders".into(),
            arn: format!("arn:aws:service:{REGION}:{ACCOUNT}:orders"),
            policy: Ok(policy.map(str::to_owned)),
        }
    }

    fn run(items: crate::facts::Fact<Vec<PolicyResource>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().lambda_functions = items;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn public_statements_fail_pinned_and_absent_pass() {
        let open = r#"{"Statement":[{"Sid":"Anyone","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;
        let pinned = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}"#;
        let v = run(Ok(vec![
            resource(Some(open)),
            resource(Some(pinned)),
            resource(None),
        ]));
        let st: Vec<Status> = v.iter().map(|v| v.status).collect();
        assert_eq!(st, [Status::Fail, Status::Pass, Status::Pass]);
        assert_eq!(
            v[0].reason,
            "Lambda function orders is public: statement \"Anyone\" lets anyone call *."
        );
        let v = run(Ok(vec![resource(Some("{not json"))]));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(run(Ok(vec![]))[0].status, Status::NotApplicable);
        assert_eq!(
            run(Err(denied("x", "List", Some(REGION))))[0].status,
            Status::Unknown
        );
    }
}
