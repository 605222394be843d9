//! Every CloudFormation stack was recently checked for drift and matches its template.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};
use chrono::Duration;

/// Stack statuses without resources to drift: a creation that failed and rolled back, a stack
/// created for a change set never executed, a stack being deleted.
const NOTHING_DEPLOYED: [&str; 3] = [
    "ROLLBACK_COMPLETE",
    "REVIEW_IN_PROGRESS",
    "DELETE_IN_PROGRESS",
];

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "cloudformation_stack_in_sync",
        title: "CloudFormation stacks are checked for drift and match their templates",
        practice: Practice::Environments,
        severity: Severity::Medium,
        activity: dsomm::INFRASTRUCTURE_AS_CODE,
        remediation: "Detect drift regularly (aws cloudformation detect-stack-drift --stack-name \
                      NAME, or the AWS Config managed rule \
                      cloudformation-stack-drift-detection-check) and bring drifted resources \
                      back to the template: change the template and update the stack, or revert \
                      the change made outside CloudFormation.",
        needs: &[Need::CloudFormationStacks],
        notes: "**Judges** every stack of `DescribeStacks` (every page) in every audited region, \
nested stacks included, by its `DriftInformation`: it passes when `StackDriftStatus` is `IN_SYNC` \
and `LastCheckTimestamp` is within `drift_check_max_age_days` (default 7); it fails when the \
stack is `DRIFTED`, when it was never checked (`NOT_CHECKED`, or no drift information: a stack \
nobody compares with its template is no proof that its template is the truth), or when its last \
check is older than the bound (it may have drifted since). `UNKNOWN` is unknown. An account \
without a stack is not_applicable: infrastructure kept in Terraform or another tool leaves no \
trace AWS can read, so no stack is no evidence either way, and the activity is not credited.\n\n\
**Edge cases**: detection on a stack does not cover its nested stacks (AWS: run it on each), so \
each is judged on its own. `LastCheckTimestamp` also moves when a single resource is checked \
(`DetectStackResourceDrift`), which leaves the stack's status as it was. Only resource \
properties written in the template are compared, and some resource types support no drift \
detection: `IN_SYNC` says nothing of them, nor of resources created outside any stack. Stacks \
that deployed nothing (`ROLLBACK_COMPLETE`, `REVIEW_IN_PROGRESS`, `DELETE_IN_PROGRESS`) are not \
judged. Stacks that CloudFormation StackSets, the CDK bootstrap or AWS services (Control Tower) \
created are judged like any other.\n\n\
**Differs from Prowler / Security Hub**: Prowler judges stacks' termination protection, outputs \
and CDK bootstrap version, not drift; AWS Config's `cloudformation-stack-drift-detection-check` \
runs detection itself and fails `DRIFTED` stacks, where this check only reads the last result \
(the agent changes nothing) and also fails stacks never or long not checked.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    let max = settings.drift_check_max_age_days;
    let verdicts = super::per_region(
        snap,
        "CloudFormation stacks",
        |r| &r.cloudformation_stacks,
        |region, s| {
            if NOTHING_DEPLOYED.contains(&s.status.as_str()) {
                return vec![];
            }
            let what = if s.nested {
                format!("Nested stack {}", s.name)
            } else {
                format!("Stack {}", s.name)
            };
            let checked = s
                .last_drift_check
                .map(|t| (t.format("%Y-%m-%d").to_string(), snap.collected_at - t));
            let region = Some(region);
            vec![match (s.drift.as_deref(), checked) {
                (Some("DRIFTED"), checked) => Verdict::fail(
                    &s.arn,
                    region,
                    format!(
                        "{what} has drifted from its template{}.",
                        checked
                            .map(|(day, _)| format!(" (drift detected on {day})"))
                            .unwrap_or_default()
                    ),
                ),
                (Some("IN_SYNC"), Some((day, age))) if age <= Duration::days(i64::from(max)) => {
                    Verdict::pass(
                        &s.arn,
                        region,
                        format!("{what} matched its template when drift was last detected, on {day}."),
                    )
                }
                (Some("IN_SYNC"), Some((day, age))) => Verdict::fail(
                    &s.arn,
                    region,
                    format!(
                        "{what} was last checked for drift on {day}, {} days ago (drift_check_max_age_days {max}): it may have drifted since.",
                        age.num_days()
                    ),
                ),
                (Some("UNKNOWN"), _) => Verdict::unknown(
                    &s.arn,
                    region,
                    format!("Cannot judge {what}: CloudFormation reports its drift status UNKNOWN."),
                ),
                (Some("IN_SYNC"), None) | (Some("NOT_CHECKED") | None, _) => Verdict::fail(
                    &s.arn,
                    region,
                    format!("{what} was never checked for drift: nothing shows that its resources still match its template."),
                ),
                (Some(other), _) => Verdict::unknown(
                    &s.arn,
                    region,
                    format!("Cannot judge {what}: CloudFormation reports an unknown drift status {other}."),
                ),
            }]
        },
    );
    super::or_not_applicable(
        snap,
        verdicts,
        "CloudFormation stack in the audited regions (infrastructure kept in another tool is not visible to AWS)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::facts::Fact;
    use crate::model::Status;
    use crate::snapshot::CfnStack;

    fn stack(name: &str, drift: Option<&str>, checked: Option<i64>) -> CfnStack {
        CfnStack {
            name: name.into(),
            arn: format!("arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/1"),
            status: "CREATE_COMPLETE".into(),
            drift: drift.map(str::to_owned),
            last_drift_check: checked.map(days_ago),
            nested: false,
        }
    }

    fn run(stacks: Fact<Vec<CfnStack>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().cloudformation_stacks = stacks;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_a_stack_recently_found_in_sync() {
        let v = run(Ok(vec![stack("network", Some("IN_SYNC"), Some(2))]));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[0].reason,
            "Stack network matched its template when drift was last detected, on 2025-05-30."
        );
    }

    #[test]
    fn fails_drifted_never_or_long_unchecked_stacks() {
        let mut nested = stack("db", None, None);
        nested.nested = true;
        let v = run(Ok(vec![
            stack("app", Some("DRIFTED"), Some(1)),
            stack("old", Some("IN_SYNC"), Some(30)),
            stack("new", Some("NOT_CHECKED"), None),
            nested,
        ]));
        assert!(v.iter().all(|v| v.status == Status::Fail), "{v:#?}");
        assert_eq!(
            v[0].reason,
            "Stack app has drifted from its template (drift detected on 2025-05-31)."
        );
        assert_eq!(
            v[1].reason,
            "Stack old was last checked for drift on 2025-05-02, 30 days ago (drift_check_max_age_days 7): it may have drifted since."
        );
        assert_eq!(
            v[2].reason,
            "Stack new was never checked for drift: nothing shows that its resources still match its template."
        );
        assert!(
            v[3].reason.starts_with("Nested stack db was never checked"),
            "{}",
            v[3].reason
        );
    }

    #[test]
    fn unknown_status_or_listing_and_no_stack() {
        let v = run(Ok(vec![stack("x", Some("UNKNOWN"), Some(1))]));
        assert_eq!(v[0].status, Status::Unknown);
        let v = run(Err(denied(
            "cloudformation",
            "DescribeStacks",
            Some(REGION),
        )));
        assert_eq!(v[0].status, Status::Unknown);
        assert!(v[0].reason.contains("DescribeStacks"), "{}", v[0].reason);
        let mut failed = stack("broken", None, None);
        failed.status = "ROLLBACK_COMPLETE".into();
        for stacks in [vec![], vec![failed]] {
            let v = run(Ok(stacks));
            assert_eq!((v.len(), v[0].status), (1, Status::NotApplicable));
        }
    }
}
