//! Amazon Inspector scans the account's EC2 instances and ECR images in every audited region.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "inspector2_scanning_enabled",
        title: "Amazon Inspector scans EC2 instances and ECR images in every audited region",
        practice: Practice::Monitoring,
        severity: Severity::High,
        activity: dsomm::TEST_OF_VIRTUALIZED_ENVIRONMENTS,
        remediation: "Enable Inspector's EC2 and ECR scanning in every region, preferably for \
                      the organization from its delegated administrator (aws inspector2 enable \
                      --resource-types EC2 ECR).",
        needs: &[Need::Inspector2AccountStatus],
        notes: "**Judges** `BatchGetAccountStatus` for the audited account in each audited region, \
`resourceState.ec2` and `resourceState.ecr`: both `ENABLED` pass; any other status (`DISABLED`, \
`ENABLING`, `SUSPENDED`, …) fails naming it. An answer that lists the account under \
`failedAccounts` or not at all, or an error, is unknown. Never not_applicable.

**Edge cases**: every region is judged, with or without instances or repositories, because \
Inspector must be on before a workload arrives to test it. Lambda scanning (`resourceState.lambda`) \
is named in the reason but not required: DSOMM's activity is about virtualized environments. \
A member whose scanning its delegated administrator manages reports the same statuses.

**Differs from Prowler / Security Hub**: Prowler's `inspector2_is_enabled` passes when any scan \
type is enabled (and, as far as we know, can pass regions without resources to scan); ours \
requires both EC2 and ECR scanning in every audited region.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_region_value(
        snap,
        "Amazon Inspector",
        |r| &r.inspector2,
        |region, st| {
            let resource = super::account_in(snap, region);
            let off: Vec<String> = [("EC2", &st.ec2), ("ECR", &st.ecr)]
                .iter()
                .filter(|(_, s)| s.as_str() != "ENABLED")
                .map(|(what, s)| format!("{what} {s}"))
                .collect();
            vec![if off.is_empty() {
                Verdict::pass(
                    resource,
                    Some(region),
                    format!(
                        "Amazon Inspector scans EC2 and ECR in {region} (Lambda {}).",
                        st.lambda
                    ),
                )
            } else {
                Verdict::fail(
                    resource,
                    Some(region),
                    format!(
                        "Amazon Inspector does not scan everything in {region}: {}.",
                        off.join(", ")
                    ),
                )
            }]
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::Inspector2Status;

    fn run(st: crate::facts::Fact<Inspector2Status>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().inspector2 = st;
        evaluate(&s, &Settings::default())
    }

    fn st(ec2: &str, ecr: &str) -> Inspector2Status {
        Inspector2Status {
            ec2: ec2.into(),
            ecr: ecr.into(),
            lambda: "DISABLED".into(),
        }
    }

    #[test]
    fn passes_ec2_and_ecr_enabled() {
        let v = run(Ok(st("ENABLED", "ENABLED")));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "account 111122223333 in eu-west-1",
                Some(REGION),
                "Amazon Inspector scans EC2 and ECR in eu-west-1 (Lambda DISABLED)."
            )]
        );
    }

    #[test]
    fn fails_anything_not_enabled() {
        let v = run(Ok(st("ENABLED", "ENABLING")));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Amazon Inspector does not scan everything in eu-west-1: ECR ENABLING."
        );
        assert_eq!(
            run(Ok(st("DISABLED", "DISABLED")))[0].reason,
            "Amazon Inspector does not scan everything in eu-west-1: EC2 DISABLED, ECR DISABLED."
        );
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied(
            "inspector2",
            "BatchGetAccountStatus",
            Some(REGION),
        )));
        assert_eq!(v[0].status, Status::Unknown);
    }
}
