//! The task definitions that ECS services run limit their CPU and memory.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ecs_task_definition_resource_limits",
        title: "ECS services run tasks with CPU and memory limits",
        practice: Practice::Network,
        severity: Severity::Medium,
        activity: dsomm::VIRTUAL_ENVIRONMENTS_LIMITED,
        remediation: "Set task-level `cpu` and `memory` in the task definition (or `cpu` and a \
                      hard `memory` limit on every container), register the revision and update \
                      the service to it.",
        needs: &[Need::EcsTaskDefinitions],
        notes: "**Judges** the task definition each active service runs (each revision once): it \
passes when the task sets both `cpu` and `memory` (hard limits for all its containers; Fargate \
requires them), or when every container sets a hard `memory` limit and `cpu` units. Otherwise it \
fails naming what is unlimited. A region whose services or a task definition cannot be read is \
unknown; no service is not_applicable.

**Edge cases**: `memoryReservation` is a soft limit (a container may use more until the instance \
runs out), so it does not count. Container `cpu` units on Linux are relative shares, not a cap, \
unless the task sets `cpu`; they are accepted at container level because ECS also reserves them \
on the instance, so one task cannot take the CPU that others reserved.

**Differs from Prowler / Security Hub**: neither has a check of limits as far as we know (Security \
Hub has none for ECS; Prowler's ECS checks cover privilege, networking and secrets).",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_task_definition(snap, |region, def, _| {
        let name = super::ecs_task_definition_image_pinned::short(&def.arn);
        let set = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty() && v != "0");
        if set(&def.cpu) && set(&def.memory) {
            return vec![Verdict::pass(
                &def.arn,
                Some(region),
                format!(
                    "Task definition {name} limits the task to {} CPU units and {} MiB.",
                    def.cpu.as_deref().unwrap_or_default(),
                    def.memory.as_deref().unwrap_or_default()
                ),
            )];
        }
        let mut missing = Vec::new();
        for c in &def.containers {
            let mut what = Vec::new();
            if !set(&def.cpu) && c.cpu <= 0 {
                what.push("CPU");
            }
            if !set(&def.memory) && c.memory.is_none_or(|m| m <= 0) {
                what.push("memory");
            }
            if !what.is_empty() {
                missing.push(format!("{} ({})", c.name, what.join(", ")));
            }
        }
        vec![if missing.is_empty() {
            Verdict::pass(
                &def.arn,
                Some(region),
                format!("Task definition {name} limits the CPU and memory of every container."),
            )
        } else {
            Verdict::fail(
                &def.arn,
                Some(region),
                format!(
                    "Task definition {name} leaves containers unlimited: {}.",
                    missing.join(", ")
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
    use crate::snapshot::TaskDefinition;

    fn run(d: TaskDefinition) -> Vec<Verdict> {
        evaluate(&with_definition(Ok(d)), &Settings::default())
    }

    #[test]
    fn passes_task_or_container_limits() {
        let mut d = definition(vec![container("app", "x")]);
        d.cpu = Some("256".into());
        d.memory = Some("512".into());
        assert_eq!(
            run(d)[0].reason,
            "Task definition api:3 limits the task to 256 CPU units and 512 MiB."
        );
        let mut c = container("app", "x");
        c.cpu = 128;
        c.memory = Some(256);
        let v = run(definition(vec![c]));
        assert_eq!(v[0].status, Status::Pass);
    }

    #[test]
    fn fails_soft_or_missing_limits() {
        let mut a = container("app", "x");
        a.cpu = 128;
        let mut b = container("sidecar", "y");
        b.memory = Some(64);
        let mut d = definition(vec![a, b]);
        d.memory = None;
        let v = run(d);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Task definition api:3 leaves containers unlimited: app (memory), sidecar (CPU)."
        );
        let mut d = definition(vec![container("app", "x")]);
        d.memory = Some("512".into());
        assert_eq!(
            run(d)[0].reason,
            "Task definition api:3 leaves containers unlimited: app (CPU)."
        );
    }
}
