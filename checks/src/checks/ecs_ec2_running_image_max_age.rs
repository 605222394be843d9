//! The images that run are younger than `max_image_age_days`: the container images of running
//! ECS tasks (since ECR received them) and the AMIs of running EC2 instances (since their
//! creation). [`judge`] is shared with the level-4 bound, `ecs_ec2_running_image_short_max_age`.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::facts::FactError;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, ImageDate, Need, RegionFacts};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ecs_ec2_running_image_max_age",
        title: "Running images are younger than the maximum image lifetime",
        practice: Practice::Environments,
        severity: Severity::Medium,
        activity: dsomm::MAXIMUM_IMAGE_LIFETIME,
        remediation: "Rebuild images on a schedule from patched bases and roll them out before \
                      they reach the lifetime: for ECS, push the new image and force a new \
                      deployment (aws ecs update-service --force-new-deployment); for EC2, bake a \
                      new AMI (EC2 Image Builder) and replace the instances (an Auto Scaling \
                      group's instance refresh).",
        needs: &[Need::EcsRunningTasks, Need::Ec2InstanceImages],
        notes: NOTES,
        module: module_path!(),
    },
    evaluate,
};

/// The notes of both image lifetime checks (they judge the same facts against two bounds).
pub(crate) const NOTES: &str = "**Judges** what runs, in every audited region: each ECS task \
whose last status is `RUNNING` (`ListTasks` desired status `RUNNING` per cluster, \
`DescribeTasks`), each container's image by the digest ECS reports (`imageDigest`, else the \
digest of the image reference) and its ECR `imagePushedAt` (`DescribeImages` per repository, a \
hundred images a call); and each `running` EC2 instance's AMI (`ImageId`) by its `CreationDate` \
(`DescribeImages`, a hundred AMIs a call). The tasks of one ECS service are judged together, on \
the service's ARN; other tasks and instances each on their own. A resource fails when an image \
it runs is older than the bound, or when it has run longer than the bound (the task's \
`startedAt`, the instance's `LaunchTime`): its image cannot be younger than that. It passes when \
every image's age is known and within the bound, naming the oldest. Nothing running is \
not_applicable.\n\n\
**Edge cases**: an image that is not in an ECR private registry (Docker Hub, `public.ecr.aws`, \
another registry) has no date AWS can read, and an ECR image deleted since the task started \
(a lifecycle policy) or an AMI that EC2 no longer returns (deregistered, unshared) has none left: \
such a resource is unknown unless its run time already fails it (mirror third-party images into \
ECR, by a pull-through cache, to make them judged). Without a digest from ECS, the image the tag \
names now counts only when it was pushed before the task started (a tag moved since names \
another image); otherwise unknown. `imagePushedAt` is when that digest reached that repository, \
not when it was built: copying an old image to a new repository makes it look young, and \
re-pushing the same digest does not refresh it. An AMI's age is its creation, whatever was \
patched on the instance since (DSOMM asks for images that are replaced, not patched in place). \
An image in another account's or region's registry is read there with the audit role \
(`registryId`): a registry policy that refuses it leaves the resource unknown. Tasks that are \
pending, EKS pods, Lambda container images and stopped instances are not judged. Ages grow \
with time alone: the scheduled audit, not an event, finds an image that aged past the bound.\n\n\
**Differs from Prowler / Security Hub**: neither has such a check as far as we know; AWS \
Config's `approved-amis-by-id` / `approved-amis-by-tag` judge which AMIs run, not how old they \
are.";

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    judge(snap, settings.max_image_age_days, "max_image_age_days")
}

/// Why an image's date is missing: a call that failed, or a fact AWS does not keep.
enum Missing<'a> {
    Error(&'a FactError),
    Unknowable(String),
}

/// One image a resource runs, for the verdict.
struct Running<'a> {
    /// "container api (IMAGE)" or "AMI ami-…".
    what: String,
    created: Result<DateTime<Utc>, Missing<'a>>,
    /// When the container's task or the instance started: the image is at least this old.
    started: Option<DateTime<Utc>>,
}

/// A resource that runs images, with its region and what it runs.
struct Runner<'a> {
    /// "ECS service prod/api", "ECS task …", "Instance i-…".
    label: String,
    region: &'a str,
    images: Vec<Running<'a>>,
}

/// Judges every running ECS task and EC2 instance of the account against `max_days` (the
/// setting named `setting`, for the reasons).
pub(crate) fn judge(snap: &AccountSnapshot, max_days: u32, setting: &str) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    let mut runners: BTreeMap<String, Runner> = BTreeMap::new();
    for (region, facts) in &snap.regional {
        match &facts.ecs_tasks {
            Err(e) => verdicts.push(super::unknown(
                &format!("ECS tasks of {region}"),
                Some(region),
                e,
            )),
            Ok(tasks) => {
                for t in tasks {
                    let (arn, label) = match t.group.strip_prefix("service:") {
                        Some(service) => (
                            format!(
                                "arn:aws:ecs:{region}:{}:service/{}/{service}",
                                snap.account_id, t.cluster_name
                            ),
                            format!("ECS service {}/{service}", t.cluster_name),
                        ),
                        None => (
                            t.arn.clone(),
                            format!(
                                "ECS task {} ({})",
                                t.arn.rsplit('/').next().unwrap_or(&t.arn),
                                t.group
                            ),
                        ),
                    };
                    let runner = runners.entry(arn).or_insert_with(|| Runner {
                        label,
                        region,
                        images: vec![],
                    });
                    runner.images.extend(t.containers.iter().map(|c| Running {
                        what: format!("container {} ({})", c.name, c.image),
                        created: match &c.pushed_at {
                            Ok(ImageDate::At(at)) => Ok(*at),
                            Ok(ImageDate::Unknowable(why)) => Err(Missing::Unknowable(why.clone())),
                            Err(e) => Err(Missing::Error(e)),
                        },
                        started: t.started_at,
                    }));
                }
            }
        }
        match &facts.instances {
            Err(e) => verdicts.push(super::unknown(
                &format!("EC2 instances of {region}"),
                Some(region),
                e,
            )),
            Ok(instances) => {
                for i in instances.iter().filter(|i| i.state == "running") {
                    let ami = i.image_id.as_deref().unwrap_or("(none)");
                    runners.insert(
                        i.arn.clone(),
                        Runner {
                            label: format!("Instance {}", i.id),
                            region,
                            images: vec![Running {
                                what: format!("AMI {ami}"),
                                created: ami_created(facts, ami),
                                started: i.launch_time,
                            }],
                        },
                    );
                }
            }
        }
    }
    let bound = Duration::days(i64::from(max_days));
    let now = snap.collected_at;
    let day = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
    for (arn, r) in &runners {
        let region = Some(r.region);
        let oldest = r
            .images
            .iter()
            .filter_map(|i| i.created.as_ref().ok().map(|c| (i, *c)))
            .min_by_key(|(_, c)| *c);
        if let Some((i, created)) = oldest.filter(|(_, c)| now - *c > bound) {
            verdicts.push(Verdict::fail(
                arn,
                region,
                format!(
                    "{} runs an image older than {max_days} days ({setting}): {}, made {}, {} days ago.",
                    r.label,
                    i.what,
                    day(created),
                    (now - created).num_days()
                ),
            ));
            continue;
        }
        let longest = r
            .images
            .iter()
            .filter_map(|i| i.started.map(|s| (i, s)))
            .min_by_key(|(_, s)| *s);
        if let Some((i, started)) = longest.filter(|(_, s)| now - *s > bound) {
            verdicts.push(Verdict::fail(
                arn,
                region,
                format!(
                    "{} has run {} since {}, {} days: its image is older than {max_days} days ({setting}).",
                    r.label,
                    i.what,
                    day(started),
                    (now - started).num_days()
                ),
            ));
            continue;
        }
        if let Some((i, missing)) = r
            .images
            .iter()
            .find_map(|i| i.created.as_ref().err().map(|m| (i, m)))
        {
            verdicts.push(match missing {
                Missing::Error(e) => super::unknown(arn, region, e),
                Missing::Unknowable(why) => Verdict::unknown(
                    arn,
                    region,
                    format!("Cannot judge {} ({}): {why}.", r.label, i.what),
                ),
            });
            continue;
        }
        // A task without containers runs no image.
        if let Some((i, created)) = oldest {
            verdicts.push(Verdict::pass(
                arn,
                region,
                format!(
                    "{} runs images at most {max_days} days old ({setting}); the oldest is {}, made {} ({} days ago).",
                    r.label,
                    i.what,
                    day(created),
                    (now - created).num_days()
                ),
            ));
        }
    }
    super::or_not_applicable(
        snap,
        verdicts,
        "running ECS tasks or EC2 instances in the audited regions",
    )
}

/// When the AMI `ami` of a running instance of `facts`'s region was created.
fn ami_created<'a>(facts: &'a RegionFacts, ami: &str) -> Result<DateTime<Utc>, Missing<'a>> {
    let images = facts.instance_images.as_ref().map_err(Missing::Error)?;
    match images.get(ami) {
        Some(Ok(Some(created))) => Ok(*created),
        Some(Ok(None)) => Err(Missing::Unknowable(format!(
            "EC2 no longer returns {ami} (deregistered, or no longer shared with the account), so its creation date is unknown"
        ))),
        Some(Err(e)) => Err(Missing::Error(e)),
        None => Err(Missing::Unknowable(format!(
            "the creation date of {ami} was not read"
        ))),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{EcsTask, Instance, RunningContainer};

    pub fn task(
        group: &str,
        started: i64,
        images: &[(&str, crate::facts::Fact<ImageDate>)],
    ) -> EcsTask {
        EcsTask {
            arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task/prod/0123abcd{group}"),
            cluster_name: "prod".into(),
            group: group.into(),
            started_at: Some(days_ago(started)),
            containers: images
                .iter()
                .map(|(image, pushed)| RunningContainer {
                    name: "app".into(),
                    image: (*image).into(),
                    digest: None,
                    pushed_at: pushed.clone(),
                })
                .collect(),
        }
    }

    pub fn instance(id: &str, ami: &str, launched: i64) -> Instance {
        Instance {
            id: id.into(),
            arn: format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{id}"),
            state: "running".into(),
            http_tokens: None,
            http_endpoint: None,
            image_id: Some(ami.into()),
            launch_time: Some(days_ago(launched)),
        }
    }

    /// A snapshot running `tasks` and `instances` whose AMIs were created `amis` days ago
    /// (`None`: EC2 does not return the AMI).
    pub fn running(
        tasks: Vec<EcsTask>,
        instances: Vec<Instance>,
        amis: &[(&str, Option<i64>)],
    ) -> AccountSnapshot {
        let mut s = snapshot();
        let r = s.regional.get_mut(REGION).unwrap();
        r.ecs_tasks = Ok(tasks);
        r.instances = Ok(instances);
        r.instance_images = Ok(amis
            .iter()
            .map(|(id, d)| ((*id).to_owned(), Ok(d.map(days_ago))))
            .collect());
        s
    }

    const API: &str = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/api:1.4";

    fn at(days: i64) -> crate::facts::Fact<ImageDate> {
        Ok(ImageDate::At(days_ago(days)))
    }

    #[test]
    fn passes_young_images_and_judges_a_service_on_its_arn() {
        let s = running(
            vec![
                task("service:api", 3, &[(API, at(5))]),
                task("service:api", 1, &[(API, at(12))]),
            ],
            vec![instance("i-1", "ami-1", 2)],
            &[("ami-1", Some(20))],
        );
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v.len(), 2, "{v:#?}");
        assert!(v.iter().all(|v| v.status == Status::Pass), "{v:#?}");
        assert_eq!(
            v[0].resource,
            format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-1")
        );
        assert_eq!(
            v[0].reason,
            "Instance i-1 runs images at most 30 days old (max_image_age_days); the oldest is AMI ami-1, made 2025-05-12 (20 days ago)."
        );
        assert_eq!(
            v[1].resource,
            format!("arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/api")
        );
        assert!(
            v[1].reason.contains(&format!(
                "container app ({API}), made 2025-05-20 (12 days ago)"
            )),
            "{}",
            v[1].reason
        );
    }

    #[test]
    fn fails_an_old_image_or_a_run_longer_than_the_bound() {
        let s = running(
            vec![task("family:batch", 1, &[(API, at(45))])],
            vec![
                instance("i-1", "ami-old", 3),
                instance("i-2", "ami-gone", 40),
            ],
            &[("ami-old", Some(400)), ("ami-gone", None)],
        );
        let v = evaluate(&s, &Settings::default());
        let st: Vec<Status> = v.iter().map(|v| v.status).collect();
        assert_eq!(st, [Status::Fail, Status::Fail, Status::Fail], "{v:#?}");
        assert_eq!(
            v[0].reason,
            "Instance i-1 runs an image older than 30 days (max_image_age_days): AMI ami-old, made 2024-04-27, 400 days ago."
        );
        // The AMI is gone, but the instance has run for 40 days: its AMI is older still.
        assert_eq!(
            v[1].reason,
            "Instance i-2 has run AMI ami-gone since 2025-04-22, 40 days: its image is older than 30 days (max_image_age_days)."
        );
        assert!(
            v[2].reason
                .starts_with("ECS task 0123abcdfamily:batch (family:batch) runs an image older"),
            "{}",
            v[2].reason
        );
        // One old image among young ones fails the service.
        let s = running(
            vec![
                task("service:api", 1, &[(API, at(2))]),
                task("service:api", 1, &[(API, at(31))]),
            ],
            vec![],
            &[],
        );
        assert_eq!(evaluate(&s, &Settings::default())[0].status, Status::Fail);
    }

    #[test]
    fn unknown_when_an_age_cannot_be_read() {
        let docker = Ok(ImageDate::Unknowable(
            "nginx:1.25 is not in an ECR private registry".into(),
        ));
        let s = running(
            vec![task(
                "service:web",
                2,
                &[(API, at(1)), ("nginx:1.25", docker)],
            )],
            vec![instance("i-1", "ami-gone", 2)],
            &[("ami-gone", None)],
        );
        let v = evaluate(&s, &Settings::default());
        assert_eq!(
            v.iter().map(|v| v.status).collect::<Vec<_>>(),
            [Status::Unknown, Status::Unknown]
        );
        assert_eq!(
            v[1].reason,
            "Cannot judge ECS service prod/web (container app (nginx:1.25)): nginx:1.25 is not in an ECR private registry."
        );
        let denied_images = Err(denied("ecr", "DescribeImages", Some(REGION)));
        let s = running(
            vec![task("service:web", 2, &[(API, denied_images)])],
            vec![],
            &[],
        );
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].status, Status::Unknown);
        assert!(v[0].reason.contains("DescribeImages"), "{}", v[0].reason);
        // A listing that failed is unknown for the region, never not_applicable.
        let mut s = snapshot();
        let r = s.regional.get_mut(REGION).unwrap();
        r.ecs_tasks = Err(denied("ecs", "ListTasks", Some(REGION)));
        r.instances = Ok(vec![]);
        let v = evaluate(&s, &Settings::default());
        assert_eq!((v.len(), v[0].status), (1, Status::Unknown));
        assert_eq!(v[0].resource, format!("ECS tasks of {REGION}"));
    }

    #[test]
    fn nothing_running_is_not_applicable() {
        let mut stopped = instance("i-1", "ami-1", 400);
        stopped.state = "stopped".into();
        let v = evaluate(&running(vec![], vec![stopped], &[]), &Settings::default());
        assert_eq!((v.len(), v[0].status), (1, Status::NotApplicable));
    }

    #[test]
    fn the_bound_is_the_setting() {
        let s = running(
            vec![],
            vec![instance("i-1", "ami-1", 1)],
            &[("ami-1", Some(20))],
        );
        let strict = Settings {
            max_image_age_days: 14,
            ..Settings::default()
        };
        assert_eq!(evaluate(&s, &strict)[0].status, Status::Fail);
        assert!(evaluate(&s, &strict)[0]
            .reason
            .contains("older than 14 days"));
    }
}
