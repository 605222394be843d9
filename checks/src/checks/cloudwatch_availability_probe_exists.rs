//! The account measures its availability from outside: an enabled Route 53 health check that
//! probes an endpoint, or a running CloudWatch Synthetics canary in an audited region.
//!
//! Both publish availability metrics to CloudWatch (`AWS/Route53` `HealthCheckStatus`,
//! `CloudWatchSynthetics` `SuccessPercent`); either passes the account, judged once for the
//! account.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

/// Health check types that probe an endpoint (the others aggregate health checks, watch an alarm
/// or a routing control, and measure no availability of their own).
const ENDPOINT_PROBES: [&str; 5] = ["HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP"];

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "cloudwatch_availability_probe_exists",
        title: "Availability is probed by a Route 53 health check or a Synthetics canary",
        practice: Practice::Monitoring,
        severity: Severity::Low,
        activity: dsomm::ADVANCED_AVAILABILITY_METRICS,
        remediation: "Probe the workload's public endpoints: a Route 53 health check (aws route53 \
                      create-health-check, type HTTPS) or a CloudWatch Synthetics canary (aws \
                      synthetics create-canary, then start-canary), with an alarm on its metric.",
        needs: &[Need::Route53HealthChecks, Need::SyntheticsCanaries],
        notes: "**Judges** Route 53 `ListHealthChecks` (global, every page) and CloudWatch \
Synthetics `DescribeCanaries` (every page) in every audited region, once for the account: it \
passes when a health check probes an endpoint (`HTTP`, `HTTPS`, `HTTP_STR_MATCH`, \
`HTTPS_STR_MATCH` or `TCP`) and is not `Disabled`, or a canary's state is `RUNNING`, naming \
them; it fails when none does. When none is found and a listing failed, the account is unknown \
(a probe may be there). Never not_applicable.\n\n\
**Edge cases**: a disabled health check and a stopped, ready or failed canary measure nothing \
and do not count; `CALCULATED`, `CLOUDWATCH_METRIC` and `RECOVERY_CONTROL` health checks do not \
probe an endpoint and do not count on their own (a calculated one needs endpoint checks, which \
count). Health checks created by other services (Cloud Map's, `LinkedService`) count: they \
probe. Whether an alarm watches the probe's metric is not judged (`cloudwatch_root_usage_alarm` \
judges alarms). Probes kept in another account (a central monitoring account) are not seen from \
the audited one: such an account fails and should record an exception naming where its \
endpoints are probed.\n\n\
**Differs from Prowler / Security Hub**: neither has such a check as far as we know.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let mut probes = Vec::new();
    let mut unreadable = None;
    match &snap.health_checks {
        Ok(checks) => probes.extend(
            checks
                .iter()
                .filter(|h| !h.disabled && ENDPOINT_PROBES.contains(&h.kind.as_str()))
                .map(|h| format!("health check {} ({} {})", h.id, h.kind, h.endpoint)),
        ),
        Err(e) => unreadable = Some(e),
    }
    for (region, facts) in &snap.regional {
        match &facts.canaries {
            Ok(canaries) => probes.extend(
                canaries
                    .iter()
                    .filter(|k| k.state == "RUNNING")
                    .map(|k| format!("canary {} ({region})", k.name)),
            ),
            Err(e) => unreadable = unreadable.or(Some(e)),
        }
    }
    super::account_evidence(
        snap,
        probes,
        unreadable,
        |_, names| {
            format!(
                "Account {} probes its availability: {names}.",
                snap.account_id
            )
        },
        format!(
            "Account {} has no enabled Route 53 endpoint health check and no running Synthetics canary in {}.",
            snap.account_id,
            super::audited_regions(snap)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::facts::Fact;
    use crate::model::Status;
    use crate::snapshot::{Canary, HealthCheck};

    fn health_check(id: &str, kind: &str, disabled: bool) -> HealthCheck {
        HealthCheck {
            id: id.into(),
            kind: kind.into(),
            disabled,
            endpoint: "api.example.com".into(),
        }
    }

    fn canary(name: &str, state: &str) -> Canary {
        Canary {
            name: name.into(),
            state: state.into(),
        }
    }

    fn run(checks: Fact<Vec<HealthCheck>>, canaries: Fact<Vec<Canary>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.health_checks = checks;
        s.regional.get_mut(REGION).unwrap().canaries = canaries;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_on_an_enabled_endpoint_health_check_or_a_running_canary() {
        let v = run(Ok(vec![health_check("hc1", "HTTPS", false)]), Ok(vec![]));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(v[0].region, None);
        assert_eq!(
            v[0].reason,
            format!("Account {ACCOUNT} probes its availability: health check hc1 (HTTPS api.example.com).")
        );
        let v = run(Ok(vec![]), Ok(vec![canary("checkout", "RUNNING")]));
        assert_eq!(
            v[0].reason,
            format!("Account {ACCOUNT} probes its availability: canary checkout (eu-west-1).")
        );
        // A probe found wins over a listing that failed.
        let v = run(
            Err(denied("route53", "ListHealthChecks", None)),
            Ok(vec![canary("checkout", "RUNNING")]),
        );
        assert_eq!(v[0].status, Status::Pass);
    }

    #[test]
    fn names_at_most_three_probes() {
        let many = (1..=4)
            .map(|i| health_check(&format!("hc{i}"), "TCP", false))
            .collect();
        let v = run(Ok(many), Ok(vec![]));
        assert!(v[0].reason.ends_with(" and 1 more."), "{}", v[0].reason);
    }

    #[test]
    fn fails_on_disabled_non_probing_or_idle_monitors() {
        let v = run(
            Ok(vec![
                health_check("off", "HTTPS", true),
                health_check("sum", "CALCULATED", false),
                health_check("alarm", "CLOUDWATCH_METRIC", false),
                health_check("arc", "RECOVERY_CONTROL", false),
            ]),
            Ok(vec![
                canary("stopped", "STOPPED"),
                canary("new", "READY"),
                canary("broken", "ERROR"),
            ]),
        );
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            format!("Account {ACCOUNT} has no enabled Route 53 endpoint health check and no running Synthetics canary in eu-west-1.")
        );
        assert_eq!(run(Ok(vec![]), Ok(vec![]))[0].status, Status::Fail);
    }

    #[test]
    fn unknown_when_none_found_and_a_listing_failed() {
        let v = run(
            Ok(vec![]),
            Err(denied("synthetics", "DescribeCanaries", Some(REGION))),
        );
        assert_eq!(v[0].status, Status::Unknown);
        assert!(v[0].reason.contains("DescribeCanaries"), "{}", v[0].reason);
        let v = run(Err(denied("route53", "ListHealthChecks", None)), Ok(vec![]));
        assert_eq!(v[0].status, Status::Unknown);
    }
}
