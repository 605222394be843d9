//! The containers that ECS services run are not root and not privileged.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, ContainerDefinition, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ecs_task_definition_non_root",
        title: "ECS services run containers as a non-root user, unprivileged",
        practice: Practice::Network,
        severity: Severity::High,
        activity: dsomm::CONTAINERS_NON_ROOT,
        remediation: "Set `user` on every container definition to a non-root user or uid \
                      (e.g. \"1000:1000\"), remove `privileged`, register the revision and update \
                      the service to it.",
        needs: &[Need::EcsTaskDefinitions],
        notes: "**Judges** the task definition each active service runs (each revision once), \
every container: it fails when `privileged` is true, when `user` is unset, or when `user` is \
root (`root`, `0`, or either with a group, `root:…`, `0:…`). A container whose `user` names another \
user or uid passes. Windows task definitions (`runtimePlatform.operatingSystemFamily` \
`WINDOWS_*`) are skipped: ECS does not support `user` or `privileged` there. A region whose \
services or a task definition cannot be read is unknown; no service is not_applicable.

**Edge cases**: an unset `user` runs the image's `USER`, which may be non-root, but no AWS API \
shows an image's configuration, and the task definition does not pin it: the check cannot prove \
non-root, so it fails and says so. Fargate refuses `privileged`; it is judged anyway (false there).

**Differs from Prowler / Security Hub**: Prowler's `ecs_task_definitions_no_privileged_containers` \
(Security Hub ECS.4) judges `privileged` only, on every active revision; Security Hub ECS.1 asks \
for a non-root user only with host networking. Ours asks every container that a service runs for \
an explicit non-root user, DSOMM's activity, and skips revisions no service runs.",
        module: module_path!(),
    },
    evaluate,
};

/// Why a container runs as root or privileged, if it does.
fn root(c: &ContainerDefinition) -> Option<String> {
    if c.privileged {
        return Some(format!("{} is privileged", c.name));
    }
    match c.user.as_deref() {
        None => Some(format!(
            "{} sets no user (the image's USER applies)",
            c.name
        )),
        Some(u) => {
            let who = u.split(':').next().unwrap_or(u);
            (who == "root" || who == "0").then(|| format!("{} runs as {u}", c.name))
        }
    }
}

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_task_definition(snap, |region, def, _| {
        let name = super::ecs_task_definition_image_pinned::short(&def.arn);
        if super::is_windows(def) {
            return vec![];
        }
        let root: Vec<String> = def.containers.iter().filter_map(root).collect();
        vec![if root.is_empty() {
            Verdict::pass(
                &def.arn,
                Some(region),
                format!(
                    "Task definition {name} runs every container as a non-root user, unprivileged."
                ),
            )
        } else {
            Verdict::fail(
                &def.arn,
                Some(region),
                format!(
                    "Task definition {name} may run containers as root: {}.",
                    root.join("; ")
                ),
            )
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::ecs_task_definition_image_pinned::tests::*;
    use crate::model::Status;

    fn user(name: &str, u: Option<&str>, privileged: bool) -> ContainerDefinition {
        let mut c = container(name, "repo/x@sha256:1");
        c.user = u.map(str::to_owned);
        c.privileged = privileged;
        c
    }

    fn run(containers: Vec<ContainerDefinition>) -> Vec<Verdict> {
        evaluate(
            &with_definition(Ok(definition(containers))),
            &Settings::default(),
        )
    }

    #[test]
    fn passes_named_non_root_users() {
        let v = run(vec![
            user("app", Some("1000:1000"), false),
            user("log", Some("nginx"), false),
        ]);
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[0].reason,
            "Task definition api:3 runs every container as a non-root user, unprivileged."
        );
    }

    #[test]
    fn fails_root_unset_or_privileged() {
        let v = run(vec![
            user("a", Some("0:0"), false),
            user("b", None, false),
            user("c", Some("1000"), true),
            user("d", Some("root"), false),
            user("e", Some("10"), false),
        ]);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Task definition api:3 may run containers as root: a runs as 0:0; b sets no user (the image's USER applies); c is privileged; d runs as root."
        );
    }

    #[test]
    fn skips_windows() {
        let mut d = definition(vec![user("a", None, false)]);
        d.os_family = Some("WINDOWS_SERVER_2022_CORE".into());
        let v = evaluate(&with_definition(Ok(d)), &Settings::default());
        assert_eq!(v[0].status, Status::NotApplicable);
    }
}
