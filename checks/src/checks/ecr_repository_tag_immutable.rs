//! Every ECR repository keeps its image tags immutable: a tag, once pushed, always names the same
//! image.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ecr_repository_tag_immutable",
        title: "ECR repositories have immutable image tags",
        practice: Practice::Environments,
        severity: Severity::Medium,
        activity: dsomm::PINNING_OF_ARTIFACTS,
        remediation: "Make the repository's tags immutable (aws ecr put-image-tag-mutability \
                      --repository-name NAME --image-tag-mutability IMMUTABLE) and push every \
                      build under a new tag.",
        needs: &[Need::EcrRepositories],
        notes: "**Judges** `DescribeRepositories` per audited region, each repository's \
`imageTagMutability`: `IMMUTABLE` passes, `IMMUTABLE_WITH_EXCLUSION` passes and names the \
excluded tag filters (those tags can still be moved), `MUTABLE` and `MUTABLE_WITH_EXCLUSION` \
(only the listed tags are immutable) fail. A region whose listing fails is unknown; no repository \
is not_applicable.

**Edge cases**: an immutable tag pins what a deployment pulls by tag, which is what DSOMM's \
pinning asks of a registry; images pulled by digest are pinned either way (judged on the task \
definitions by `ecs_task_definition_image_pinned`). Pull-through cache repositories are judged \
like the others.

**Differs from Prowler / Security Hub**: agrees with Prowler's `ecr_repositories_tag_immutability` \
(as far as we know it treats only `IMMUTABLE` as passing); ours also passes immutability with \
exclusions, naming them, because the other tags stay pinned.",
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
            vec![match r.tag_mutability.as_str() {
                "IMMUTABLE" => Verdict::pass(
                    &r.arn,
                    Some(region),
                    format!("Repository {name} has immutable tags."),
                ),
                "IMMUTABLE_WITH_EXCLUSION" => Verdict::pass(
                    &r.arn,
                    Some(region),
                    format!(
                        "Repository {name} has immutable tags except those matching {}.",
                        r.tag_mutability_exclusions.join(", ")
                    ),
                ),
                other => Verdict::fail(
                    &r.arn,
                    Some(region),
                    format!(
                        "Repository {name} lets tags be overwritten (imageTagMutability {other})."
                    ),
                ),
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

    pub(crate) fn repo(name: &str, mutability: &str) -> EcrRepository {
        EcrRepository {
            name: name.into(),
            arn: format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}"),
            tag_mutability: mutability.into(),
            tag_mutability_exclusions: vec![],
            scan_on_push: false,
            policy: Ok(None),
        }
    }

    fn run(r: crate::facts::Fact<Vec<EcrRepository>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().ecr_repositories = r;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_immutable_tags() {
        let v = run(Ok(vec![repo("api", "IMMUTABLE")]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:ecr:eu-west-1:111122223333:repository/api",
                Some(REGION),
                "Repository api has immutable tags."
            )]
        );
        let mut r = repo("web", "IMMUTABLE_WITH_EXCLUSION");
        r.tag_mutability_exclusions = vec!["latest".into()];
        let v = run(Ok(vec![r]));
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[0].reason,
            "Repository web has immutable tags except those matching latest."
        );
    }

    #[test]
    fn fails_mutable_tags() {
        for m in ["MUTABLE", "MUTABLE_WITH_EXCLUSION"] {
            let v = run(Ok(vec![repo("api", m)]));
            assert_eq!(v[0].status, Status::Fail, "{m}");
            assert_eq!(
                v[0].reason,
                format!("Repository api lets tags be overwritten (imageTagMutability {m}).")
            );
        }
    }

    #[test]
    fn not_applicable_without_repositories_and_unknown_when_denied() {
        assert_eq!(run(Ok(vec![]))[0].status, Status::NotApplicable);
        let v = run(Err(denied("ecr", "DescribeRepositories", Some(REGION))));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge ECR repositories of eu-west-1: ecr:DescribeRepositories in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
