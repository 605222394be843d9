//! No ECR repository policy lets anyone pull or push images.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::policy::public::{describe, public_statements};
use crate::policy::PolicyDocument;
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ecr_repository_not_public",
        title: "ECR repository policies do not let anyone use the repository",
        practice: Practice::DataProtection,
        severity: Severity::High,
        activity: dsomm::TEST_FOR_EXPOSED_SERVICES,
        remediation: "Name the accounts or the organization in the repository policy instead of \
                      \"*\" (Principal a list of account ARNs, or a Condition on \
                      aws:PrincipalOrgID), or delete the statement (aws ecr \
                      set-repository-policy / delete-repository-policy).",
        needs: &[Need::EcrRepositoryPolicies],
        notes: "**Judges** `GetRepositoryPolicy` of every repository `DescribeRepositories` lists, \
with the evaluator's resource-policy rule (`policy::public`, shared with the other exposure \
checks): a repository fails when an `Allow` statement grants everyone (`\"*\"`, `{\"AWS\": \"*\"}` \
or any `NotPrincipal`) any action — pulling (`ecr:BatchGetImage`, `ecr:GetDownloadUrlForLayer`), \
pushing, deleting, listing or changing the policy — and no condition pins the caller. \"Pins\" is \
the rule of role trusts (`policy::trust`): a positive condition on `aws:PrincipalOrgID`, `aws:PrincipalAccount`, \
`aws:PrincipalArn`, org paths, source VPC or endpoint with concrete values; `aws:SourceIp` or an \
`IfExists` operator does not pin. No policy passes (only the owner account's principals can then \
use it). A policy that cannot be read is unknown; a repository whose policy does not parse is \
unknown, naming the error.

**Edge cases**: a statement naming other accounts is not public (that is a cross-account grant, \
not exposure to anyone). ECR Public repositories (`ecr-public`) are public by design and not read.

**Differs from Prowler / Security Hub**: like Prowler's `ecr_repositories_not_publicly_accessible`, \
which (as far as we know) fails any `*` principal; ours accepts a `*` principal pinned by an \
organization or account condition, the usual way to share images across an organization.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let verdicts = super::per_region(
        snap,
        "ECR repositories",
        |r| &r.ecr_repositories,
        |region, r| {
            let name = &r.name;
            let policy = match &r.policy {
                Err(e) => return vec![super::unknown(&r.arn, Some(region), e)],
                Ok(None) => {
                    return vec![Verdict::pass(
                        &r.arn,
                        Some(region),
                        format!("Repository {name} has no repository policy."),
                    )]
                }
                Ok(Some(p)) => p,
            };
            let doc = match PolicyDocument::parse(policy) {
                Err(e) => {
                    return vec![Verdict::unknown(
                        &r.arn,
                        Some(region),
                        format!("Cannot judge repository {name}: its policy does not parse ({e})."),
                    )]
                }
                Ok(d) => d,
            };
            let open = public_statements(&doc);
            vec![if open.is_empty() {
                Verdict::pass(
                    &r.arn,
                    Some(region),
                    format!("Repository {name}'s policy grants nothing to anyone outside named accounts or a pinned caller."),
                )
            } else {
                Verdict::fail(
                    &r.arn,
                    Some(region),
                    format!("Repository {name} is public: {}.", describe(&open)),
                )
            }]
        },
    );
    super::or_not_applicable(snap, verdicts, "ECR repositories in the audited regions")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::EcrRepository;

    fn run(policy: crate::facts::Fact<Option<String>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().ecr_repositories = Ok(vec![EcrRepository {
            name: "api".into(),
            arn: format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/api"),
            tag_mutability: "IMMUTABLE".into(),
            tag_mutability_exclusions: vec![],
            scan_on_push: false,
            policy,
        }]);
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn fails_anyone_may_pull() {
        let v = run(Ok(Some(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Pull","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#.into(),
        )));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Repository api is public: statement \"Pull\" lets anyone call ecr:BatchGetImage, ecr:GetDownloadUrlForLayer."
        );
    }

    #[test]
    fn passes_without_policy_named_accounts_or_pinned_organization() {
        assert_eq!(
            run(Ok(None))[0].reason,
            "Repository api has no repository policy."
        );
        for p in [
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"ecr:*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}"#,
        ] {
            assert_eq!(run(Ok(Some(p.into())))[0].status, Status::Pass, "{p}");
        }
    }

    #[test]
    fn unknown_when_unreadable_or_unparsable() {
        let v = run(Err(denied("ecr", "GetRepositoryPolicy", Some(REGION))));
        assert_eq!(v[0].status, Status::Unknown);
        assert!(
            v[0].reason.contains("ecr:GetRepositoryPolicy"),
            "{}",
            v[0].reason
        );
        let v = run(Ok(Some("not json".into())));
        assert_eq!(v[0].status, Status::Unknown);
        assert!(v[0]
            .reason
            .starts_with("Cannot judge repository api: its policy does not parse"));
    }
}
