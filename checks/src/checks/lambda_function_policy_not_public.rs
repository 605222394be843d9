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
        notes: super::public_policy_notes!(
            "`ListFunctions` per audited region and `GetPolicy` per function (a function without a policy answers `ResourceNotFoundException`)",
            "Prowler (`awslambda_function_not_publicly_accessible`, `awslambda_function_url_public`) checks `*` principals and URL auth separately; ours reads the policy once: a function URL with `AuthType` `NONE` is public through its `lambda:InvokeFunctionUrl` statement, which no pinning condition restricts."
        ),
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

    #[test]
    fn public_statements_fail_pinned_and_absent_pass() {
        crate::checks::fixtures::resource_policy_cases(evaluate, "Lambda function", |r, items| {
            r.lambda_functions = items
        });
    }
}
