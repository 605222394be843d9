//! IAM Access Analyzer has an active external-access analyzer in every audited region.
//!
//! Analyzers are regional: a region without one leaves resources shared outside the account
//! unreported. Unused-access analyzers do not count (they do not test for exposure). Every account
//! has regions, so this check is never not_applicable.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "accessanalyzer_enabled",
        title: "IAM Access Analyzer is enabled in every audited region",
        practice: Practice::LeastPrivilege,
        severity: Severity::Medium,
        activity: dsomm::TEST_FOR_EXPOSED_SERVICES,
        remediation: "Create an external-access analyzer in every region (aws accessanalyzer \
                      create-analyzer --type ACCOUNT, or ORGANIZATION from the delegated administrator).",
        needs: &[Need::AccessAnalyzers],
        notes: "**Judges** `ListAnalyzers` in every audited region: a region passes when it holds an `ACTIVE` analyzer of type `ACCOUNT` or `ORGANIZATION` (external access); it fails otherwise, naming the region. Every account has regions, so the check is never not_applicable; a region whose listing fails is `unknown`.\n\n\
**Edge cases**: unused-access analyzers (`ACCOUNT_UNUSED_ACCESS`, `ORGANIZATION_UNUSED_ACCESS`) do not count: they report unused permissions, not resources shared outside the zone of trust; an analyzer being created or disabled (`CREATING`, `DISABLED`, `FAILED`) does not count; an organization analyzer of the delegated administrator that covers the member account is not seen from the member's role (a known gap: the member's own regions must hold an analyzer).\n\n\
**Differs from Prowler** (`accessanalyzer_enabled`) and Security Hub IAM.28: the same rule per region; ours refuses unused-access analyzers explicitly.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_region_value(
        snap,
        "analyzers",
        |r| &r.analyzers,
        |region, analyzers| {
            let active = analyzers.iter().find(|a| {
                a.status == "ACTIVE" && (a.kind == "ACCOUNT" || a.kind == "ORGANIZATION")
            });
            vec![match active {
                Some(a) => Verdict::pass(
                    &a.arn,
                    Some(region),
                    format!("Analyzer {} ({}) is active in {region}.", a.name, a.kind),
                ),
                None => Verdict::fail(
                    super::account_in(snap, region),
                    Some(region),
                    format!(
                        "Account {} has no active external-access analyzer in {region}.",
                        snap.account_id
                    ),
                ),
            }]
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::Analyzer;

    fn analyzer(kind: &str, status: &str) -> Analyzer {
        Analyzer {
            name: "main".into(),
            arn: format!("arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzer/main"),
            kind: kind.into(),
            status: status.into(),
        }
    }

    fn run(a: crate::facts::Fact<Vec<Analyzer>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().analyzers = a;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_active_account_analyzer() {
        let v = run(Ok(vec![analyzer("ACCOUNT", "ACTIVE")]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:access-analyzer:eu-west-1:111122223333:analyzer/main",
                Some(REGION),
                "Analyzer main (ACCOUNT) is active in eu-west-1."
            )]
        );
    }

    /// No analyzer fails; so does an unused-access analyzer, which does not test for exposure.
    /// Never not_applicable: every audited region is judged.
    #[test]
    fn fails_without_external_access_analyzer() {
        for analyzers in [vec![], vec![analyzer("ACCOUNT_UNUSED_ACCESS", "ACTIVE")]] {
            let v = run(Ok(analyzers));
            assert_eq!(v[0].status, Status::Fail);
            assert_eq!(v[0].resource, "account 111122223333 in eu-west-1");
            assert_eq!(
                v[0].reason,
                "Account 111122223333 has no active external-access analyzer in eu-west-1."
            );
        }
    }

    #[test]
    fn unknown_when_listing_denied() {
        let v = run(Err(denied(
            "access-analyzer",
            "ListAnalyzers",
            Some(REGION),
        )));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge analyzers of eu-west-1: access-analyzer:ListAnalyzers in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
