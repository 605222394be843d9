//! The account visualizes its metrics: at least one CloudWatch dashboard exists in an audited
//! region.
//!
//! A dashboard is regional but may show metrics of every region (and, with cross-account
//! observability, of other accounts), so the account passes on one dashboard anywhere; it is
//! judged once for the account, never per region.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "cloudwatch_dashboard_exists",
        title: "Metrics are visualized on a CloudWatch dashboard",
        practice: Practice::Monitoring,
        severity: Severity::Low,
        activity: dsomm::VISUALIZED_METRICS,
        remediation: "Create a CloudWatch dashboard of the workload's key metrics (aws cloudwatch \
                      put-dashboard --dashboard-name NAME --dashboard-body FILE), or record an \
                      exception for the account when its metrics are shown in a central \
                      monitoring account or in Amazon Managed Grafana.",
        needs: &[Need::CloudWatchDashboards],
        notes: "**Judges** `ListDashboards` (every page) in every audited region, once for the \
account: it passes when some region holds a dashboard, naming the dashboards; it fails when no audited region holds one. When none is found and a \
region's listing failed, the account is unknown (the dashboard may be there). Never \
not_applicable: every account has metrics to show.\n\n\
**Edge cases**: one dashboard in any region passes, because a dashboard shows metrics of any \
region; the widgets are not read (`GetDashboard` per dashboard), so a dashboard that shows little \
still passes — the check proves the practice exists, not its quality. CloudWatch's automatic \
service dashboards are not listed by `ListDashboards` and do not count. Dashboards kept in a \
central monitoring account (cross-account observability) or in Amazon Managed Grafana are not \
seen from the audited account: such an account fails and should record an exception naming \
where its metrics are shown.\n\n\
**Differs from Prowler / Security Hub**: neither has a dashboard check as far as we know.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let mut found = Vec::new();
    let mut unreadable = None;
    for (region, facts) in &snap.regional {
        match &facts.dashboards {
            Ok(dashboards) => {
                found.extend(dashboards.iter().map(|d| format!("{} ({region})", d.name)))
            }
            Err(e) => unreadable = unreadable.or(Some(e)),
        }
    }
    super::account_evidence(
        snap,
        found,
        unreadable,
        |n, names| {
            format!(
                "Account {} visualizes its metrics on {n} CloudWatch dashboard{}: {names}.",
                snap.account_id,
                if n == 1 { "" } else { "s" },
            )
        },
        format!(
            "Account {} has no CloudWatch dashboard in {}.",
            snap.account_id,
            super::audited_regions(snap)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{Dashboard, RegionFacts};

    fn dashboard(name: &str) -> Dashboard {
        Dashboard {
            name: name.into(),
            arn: format!("arn:aws:cloudwatch::{ACCOUNT}:dashboard/{name}"),
        }
    }

    /// A snapshot of two regions: REGION with `here`, `us-east-1` with `there`.
    fn run(
        here: crate::facts::Fact<Vec<Dashboard>>,
        there: crate::facts::Fact<Vec<Dashboard>>,
    ) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().dashboards = here;
        s.regional.insert(
            "us-east-1".into(),
            RegionFacts {
                dashboards: there,
                ..RegionFacts::default()
            },
        );
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_on_a_dashboard_in_any_region() {
        let v = run(Ok(vec![]), Ok(vec![dashboard("ops")]));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(v[0].region, None);
        assert_eq!(
            v[0].reason,
            format!("Account {ACCOUNT} visualizes its metrics on 1 CloudWatch dashboard: ops (us-east-1).")
        );
        // A dashboard found wins over a region that could not be read.
        let denied = Err(denied("cloudwatch", "ListDashboards", Some(REGION)));
        assert_eq!(
            run(denied, Ok(vec![dashboard("ops")]))[0].status,
            Status::Pass
        );
    }

    #[test]
    fn names_at_most_three_dashboards() {
        let many: Vec<Dashboard> = (1..=5).map(|i| dashboard(&format!("d{i}"))).collect();
        let v = run(Ok(many), Ok(vec![]));
        assert_eq!(
            v[0].reason,
            format!("Account {ACCOUNT} visualizes its metrics on 5 CloudWatch dashboards: d1 (eu-west-1), d2 (eu-west-1), d3 (eu-west-1) and 2 more.")
        );
    }

    #[test]
    fn fails_without_a_dashboard() {
        let v = run(Ok(vec![]), Ok(vec![]));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            format!("Account {ACCOUNT} has no CloudWatch dashboard in eu-west-1, us-east-1.")
        );
    }

    #[test]
    fn unknown_when_none_found_and_a_region_is_unreadable() {
        let v = run(
            Ok(vec![]),
            Err(denied("cloudwatch", "ListDashboards", Some("us-east-1"))),
        );
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].status, Status::Unknown);
        assert!(v[0].reason.contains("ListDashboards"), "{}", v[0].reason);
    }
}
