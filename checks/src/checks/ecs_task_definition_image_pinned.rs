//! Every container of the task definitions that ECS services run names its image by digest.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ecs_task_definition_image_pinned",
        title: "ECS services run images pinned by digest",
        practice: Practice::Environments,
        severity: Severity::Medium,
        activity: dsomm::PINNING_OF_ARTIFACTS,
        remediation: "Reference each image by digest in the task definition \
                      (REPOSITORY@sha256:DIGEST, e.g. from `aws ecr describe-images`), register \
                      the revision and update the service to it.",
        needs: &[Need::EcsTaskDefinitions],
        notes: "**Judges** the task definition each active service runs (`DescribeServices` → \
`DescribeTaskDefinition`, each revision once): it passes when every container's `image` names a \
digest (`@sha256:`); it fails naming the containers whose image is a tag (or no tag, i.e. \
`latest`). A region whose services or a task definition cannot be read is unknown; no service is \
not_applicable.

**Edge cases**: since 2024 ECS resolves a tag to a digest when a deployment starts, so the tasks \
of one deployment agree; but the next deployment, a scale-out after a new deployment, or a rollback \
pulls whatever the tag names then, and the task definition does not say which image runs: the \
task definition is the artifact DSOMM asks to pin. Task definitions that no service runs (old \
revisions, one-off tasks) are not judged.

**Differs from Prowler / Security Hub**: neither has this check as far as we know; Prowler judges \
repositories' tag immutability (`ecr_repositories_tag_immutability`), our \
`ecr_repository_tag_immutable`.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_task_definition(snap, |region, def, _| {
        let by_tag: Vec<String> = def
            .containers
            .iter()
            .filter(|c| !c.image.contains("@sha256:"))
            .map(|c| format!("{} ({})", c.name, c.image))
            .collect();
        vec![if by_tag.is_empty() {
            Verdict::pass(
                &def.arn,
                Some(region),
                format!(
                    "Task definition {} names every image by digest.",
                    short(&def.arn)
                ),
            )
        } else {
            Verdict::fail(
                &def.arn,
                Some(region),
                format!(
                    "Task definition {} names images by tag, not digest: {}.",
                    short(&def.arn),
                    by_tag.join(", ")
                ),
            )
        }]
    })
}

/// `family:revision` of a task definition ARN.
pub(crate) fn short(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{ContainerDefinition, EcsService, TaskDefinition};

    pub(crate) const TD: &str = "arn:aws:ecs:eu-west-1:111122223333:task-definition/api:3";

    pub(crate) fn container(name: &str, image: &str) -> ContainerDefinition {
        ContainerDefinition {
            name: name.into(),
            image: image.into(),
            ..Default::default()
        }
    }

    /// A snapshot in which service `api` runs task definition [`TD`] with `containers`.
    pub(crate) fn with_definition(def: crate::facts::Fact<TaskDefinition>) -> AccountSnapshot {
        let mut s = snapshot();
        let r = s.regional.get_mut(REGION).unwrap();
        r.ecs_services = Ok(vec![EcsService {
            name: "api".into(),
            arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/api"),
            cluster_name: "prod".into(),
            status: "ACTIVE".into(),
            scheduling_strategy: "REPLICA".into(),
            desired_count: 2,
            task_definition: Some(TD.into()),
            controller: "ECS".into(),
            ..Default::default()
        }]);
        r.ecs_task_definitions = Ok([(TD.to_owned(), def)].into());
        s
    }

    pub(crate) fn definition(containers: Vec<ContainerDefinition>) -> TaskDefinition {
        TaskDefinition {
            arn: TD.into(),
            containers,
            ..Default::default()
        }
    }

    fn run(containers: Vec<ContainerDefinition>) -> Vec<Verdict> {
        evaluate(
            &with_definition(Ok(definition(containers))),
            &Settings::default(),
        )
    }

    #[test]
    fn passes_digests() {
        let v = run(vec![container(
            "app",
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:0123abcd",
        )]);
        assert_eq!(
            v,
            vec![Verdict::pass(
                TD,
                Some(REGION),
                "Task definition api:3 names every image by digest."
            )]
        );
    }

    #[test]
    fn fails_tags() {
        let v = run(vec![
            container("app", "repo/api@sha256:0123"),
            container("proxy", "nginx:1.27"),
            container("agent", "datadog/agent"),
        ]);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Task definition api:3 names images by tag, not digest: proxy (nginx:1.27), agent (datadog/agent)."
        );
    }

    #[test]
    fn unknown_and_not_applicable() {
        let v = evaluate(
            &with_definition(Err(denied("ecs", "DescribeTaskDefinition", Some(REGION)))),
            &Settings::default(),
        );
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(v[0].resource, TD);
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().ecs_services = Ok(vec![]);
        assert_eq!(
            evaluate(&s, &Settings::default())[0].status,
            Status::NotApplicable
        );
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().ecs_services =
            Err(denied("ecs", "ListClusters", Some(REGION)));
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].resource, "ECS services of eu-west-1");
        assert_eq!(v[0].status, Status::Unknown);
    }
}
