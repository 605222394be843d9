//! Every EC2 instance requires IMDSv2 session tokens (or has the metadata endpoint disabled).
//!
//! Terminated instances are skipped: they no longer run and cannot be changed.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ec2_instance_imdsv2_required",
        title: "EC2 instances require IMDSv2",
        practice: Practice::Network,
        severity: Severity::Medium,
        activity: dsomm::SECURITY_BY_DEFAULT,
        remediation:
            "Require session tokens on every instance (aws ec2 modify-instance-metadata-options \
                      --http-tokens required) and make it the account default \
                      (aws ec2 modify-instance-metadata-defaults --http-tokens required).",
        needs: &[Need::Ec2Instances],
        notes: "**Judges** `DescribeInstances` per audited region, each instance's `MetadataOptions`: pass \
when `HttpEndpoint` is `disabled` or `HttpTokens` is `required`; fail otherwise (a missing \
`HttpTokens` counts as `optional`). Terminated and shutting-down instances are skipped; a region \
whose listing fails is unknown; no instance is not_applicable.

**Edge cases**: stopped instances are judged: `modify-instance-metadata-options` works on them \
and they can start again with IMDSv1. Instances launched by Auto Scaling or EKS node groups are \
fixed through their launch template; the finding names the instance. The account-level default \
(`GetInstanceMetadataDefaults`) is not judged: it only affects new launches.

**Differs from Prowler / Security Hub**: agrees with Prowler's `ec2_instance_imdsv2_enabled` and \
Security Hub EC2.8; Prowler skips only terminated instances, ours also shutting-down ones, which \
cannot be changed any more.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let verdicts = super::per_region(
        snap,
        "instances",
        |r| &r.instances,
        |region, i| {
            if i.state == "terminated" || i.state == "shutting-down" {
                return vec![];
            }
            let tokens = i.http_tokens.as_deref().unwrap_or("optional");
            vec![if i.http_endpoint.as_deref() == Some("disabled") {
                Verdict::pass(
                    &i.arn,
                    Some(region),
                    format!("Instance {} has the metadata endpoint disabled.", i.id),
                )
            } else if tokens == "required" {
                Verdict::pass(
                    &i.arn,
                    Some(region),
                    format!("Instance {} requires IMDSv2.", i.id),
                )
            } else {
                Verdict::fail(
                    &i.arn,
                    Some(region),
                    format!("Instance {} accepts IMDSv1 (HttpTokens {tokens}).", i.id),
                )
            }]
        },
    );
    super::or_not_applicable(
        snap,
        verdicts,
        "running or stopped instances in the audited regions",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::Instance;

    fn inst(state: &str, tokens: &str, endpoint: &str) -> Instance {
        Instance {
            id: "i-1".into(),
            arn: format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-1"),
            state: state.into(),
            http_tokens: Some(tokens.into()),
            http_endpoint: Some(endpoint.into()),
            image_id: None,
            launch_time: None,
        }
    }

    fn run(i: crate::facts::Fact<Vec<Instance>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().instances = i;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_required_or_disabled() {
        let v = run(Ok(vec![inst("running", "required", "enabled")]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:ec2:eu-west-1:111122223333:instance/i-1",
                Some(REGION),
                "Instance i-1 requires IMDSv2."
            )]
        );
        let v = run(Ok(vec![inst("stopped", "optional", "disabled")]));
        assert_eq!(
            v[0].reason,
            "Instance i-1 has the metadata endpoint disabled."
        );
    }

    #[test]
    fn fails_optional_tokens() {
        let v = run(Ok(vec![inst("running", "optional", "enabled")]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Instance i-1 accepts IMDSv1 (HttpTokens optional)."
        );
    }

    #[test]
    fn not_applicable_with_only_terminated_instances() {
        let v = run(Ok(vec![inst("terminated", "optional", "enabled")]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no running or stopped instances in the audited regions."
        );
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied("ec2", "DescribeInstances", Some(REGION))));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge instances of eu-west-1: ec2:DescribeInstances in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
