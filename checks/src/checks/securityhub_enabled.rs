//! Security Hub is enabled with at least one security standard in every audited region.
//!
//! A hub without a standard runs no configuration test, so it fails. Every account has regions, so
//! this check is never not_applicable.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "securityhub_enabled",
        title: "Security Hub tests the configuration in every audited region",
        practice: Practice::Monitoring,
        severity: Severity::Medium,
        activity: dsomm::TEST_THE_CLOUD_CONFIGURATION,
        remediation: "Enable Security Hub in every region with the AWS Foundational Security Best \
                      Practices standard (aws securityhub enable-security-hub \
                      --enable-default-standards), preferably from a delegated administrator.",
        needs: &[Need::SecurityHub],
        notes: "**Judges** `DescribeHub` and `GetEnabledStandards` in each audited region: pass when the hub \
exists with at least one standard `READY` or `PENDING`; fail when Security Hub is not enabled \
(`InvalidAccessException`) or no standard is; unreadable standards are unknown. Never \
not_applicable.

**Edge cases**: standards enabled by a delegated administrator through central configuration \
appear in the member's `GetEnabledStandards` and count. `INCOMPLETE`, `FAILED` and `DELETING` \
subscriptions do not count: they run no or only some controls.

**Differs from Prowler / Security Hub**: Prowler's `securityhub_enabled` also passes a hub with \
only product integrations and no standard; ours fails it, because integrations test no \
configuration, which is the DSOMM activity this check proves.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_region_value(
        snap,
        "Security Hub",
        |r| &r.security_hub,
        |region, hub| {
            let resource = super::account_in(snap, region);
            let fail = |why: &str| {
                Verdict::fail(
                    &resource,
                    Some(region),
                    format!(
                        "Security Hub does not test account {} in {region}: {why}.",
                        snap.account_id
                    ),
                )
            };
            vec![match hub {
                None => fail("it is not enabled"),
                Some(h) => match &h.enabled_standards {
                    Err(e) => super::unknown(&h.hub_arn, Some(region), e),
                    Ok(s) if s.is_empty() => fail("no standard is enabled"),
                    Ok(s) => Verdict::pass(
                        &h.hub_arn,
                        Some(region),
                        format!(
                            "Security Hub is enabled in {region} with {} standard(s).",
                            s.len()
                        ),
                    ),
                },
            }]
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::SecurityHubState;

    const HUB: &str = "arn:aws:securityhub:eu-west-1:111122223333:hub/default";

    fn run(h: crate::facts::Fact<Option<SecurityHubState>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().security_hub = h;
        evaluate(&s, &Settings::default())
    }

    fn hub(standards: crate::facts::Fact<Vec<String>>) -> Option<SecurityHubState> {
        Some(SecurityHubState {
            hub_arn: HUB.into(),
            enabled_standards: standards,
            import_products: Ok(vec![]),
        })
    }

    #[test]
    fn passes_with_a_standard() {
        let v = run(Ok(hub(Ok(vec!["fsbp".into()]))));
        assert_eq!(
            v,
            vec![Verdict::pass(
                HUB,
                Some(REGION),
                "Security Hub is enabled in eu-west-1 with 1 standard(s)."
            )]
        );
    }

    /// Never not_applicable: a region without Security Hub fails.
    #[test]
    fn fails_disabled_or_without_standards() {
        let v = run(Ok(None));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Security Hub does not test account 111122223333 in eu-west-1: it is not enabled."
        );
        let v = run(Ok(hub(Ok(vec![]))));
        assert_eq!(
            v[0].reason,
            "Security Hub does not test account 111122223333 in eu-west-1: no standard is enabled."
        );
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied("securityhub", "DescribeHub", Some(REGION))));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge Security Hub of eu-west-1: securityhub:DescribeHub in eu-west-1 access denied (AccessDenied: not authorized)."
        );
        let v = run(Ok(hub(Err(denied(
            "securityhub",
            "GetEnabledStandards",
            Some(REGION),
        )))));
        assert_eq!(v[0].status, Status::Unknown);
    }
}
