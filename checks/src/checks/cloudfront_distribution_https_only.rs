//! Every enabled CloudFront distribution serves viewers over HTTPS only (every cache behavior
//! redirects to HTTPS or refuses HTTP) with a security policy that refuses TLS below 1.2
//! (`TLSv1.2_*` or `TLSv1.3_*`).
//!
//! A distribution on the default `*.cloudfront.net` certificate cannot choose its minimum protocol
//! (CloudFront accepts TLS 1.0 there), so it fails the TLS half. A disabled distribution serves no
//! viewer: not_applicable. CloudFront is global: read once.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "cloudfront_distribution_https_only",
        title: "CloudFront distributions require HTTPS with TLS 1.2 or later",
        practice: Practice::EdgeEncryption,
        severity: Severity::High,
        activity: dsomm::EDGE_ENCRYPTION_IN_TRANSIT,
        remediation: "Set every cache behavior's viewer protocol policy to redirect-to-https or \
                      https-only, and serve a custom ACM certificate with the security policy \
                      TLSv1.2_2021 (or newer).",
        needs: &[Need::CloudFrontDistributions],
        notes: "**Judges** `ListDistributions` (global): each cache behavior's \
`ViewerProtocolPolicy` (`allow-all` fails; `redirect-to-https`, `https-only` pass) and the \
`ViewerCertificate` (`CloudFrontDefaultCertificate`, `MinimumProtocolVersion`). Pass when no \
behavior allows HTTP and the security policy is `TLSv1.2_*` or `TLSv1.3_*`; fail naming each \
problem; a disabled distribution is not_applicable; none is not_applicable.

**Edge cases**: CloudFront names its security policies by their lowest protocol, so \
`TLSv1.2_2018` passes (TLS 1.2 only, older ciphers) and future `TLSv1.3_*` policies pass without a \
code change; `SSLv3`, `TLSv1`, `TLSv1_2016`, `TLSv1.1_2016` fail. The default `*.cloudfront.net` \
certificate always negotiates from TLS 1.0 and fails; the fix is a custom domain with an ACM \
certificate. Origin-side protocols are not judged here.

**Differs from Prowler / Security Hub**: agrees with Prowler's `cloudfront_distributions_https_enabled` \
and Security Hub CloudFront.3 on viewer protocol policies, and adds the minimum TLS version, which \
neither judges for viewers. Prowler's `cloudfront_distributions_using_deprecated_ssl_protocols` and \
Security Hub CloudFront.9/.10 (origin protocols) are not covered. Disabled distributions are \
skipped; Prowler and Security Hub judge them.",
        module: module_path!(),
    },
    evaluate,
};

/// Whether a viewer security policy (`TLSv1.2_2021`, `TLSv1.3_2025`, `TLSv1_2016`, `SSLv3`, …)
/// refuses every protocol below TLS 1.2: the policies are named by their lowest protocol.
fn refuses_below_tls12(policy: &str) -> bool {
    ["TLSv1.2_", "TLSv1.3_"]
        .iter()
        .any(|p| policy.starts_with(p))
}

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let distributions = match &snap.cloudfront {
        Err(e) => return vec![super::unknown(&snap.account_resource(), None, e)],
        Ok(d) => d,
    };
    let verdicts = distributions
        .iter()
        .map(|d| {
            if !d.enabled {
                return Verdict::not_applicable(
                    &d.arn,
                    None,
                    format!(
                        "Distribution {} ({}) is disabled and serves no viewer.",
                        d.id, d.domain_name
                    ),
                );
            }
            let mut problems: Vec<String> = d
                .viewer_protocol_policies
                .iter()
                .filter(|(_, p)| p == "allow-all")
                .map(|(path, _)| format!("behavior {path} allows HTTP"))
                .collect();
            match d.minimum_protocol_version.as_deref() {
                _ if d.default_certificate => {
                    problems.push("the default CloudFront certificate accepts TLS 1.0".to_owned())
                }
                Some(v) if refuses_below_tls12(v) => {}
                Some(v) => problems.push(format!(
                    "security policy {v} accepts protocols below TLS 1.2"
                )),
                None => problems.push("no minimum protocol is set".to_owned()),
            }
            if problems.is_empty() {
                Verdict::pass(
                    &d.arn,
                    None,
                    format!(
                        "Distribution {} ({}) serves HTTPS only with {}.",
                        d.id,
                        d.domain_name,
                        d.minimum_protocol_version.as_deref().unwrap_or_default()
                    ),
                )
            } else {
                Verdict::fail(
                    &d.arn,
                    None,
                    format!(
                        "Distribution {} ({}) does not enforce modern HTTPS: {}.",
                        d.id,
                        d.domain_name,
                        problems.join("; ")
                    ),
                )
            }
        })
        .collect();
    super::or_not_applicable(snap, verdicts, "CloudFront distributions")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::Distribution;

    fn dist(policies: &[(&str, &str)], min: Option<&str>, default_cert: bool) -> Distribution {
        Distribution {
            id: "E1".into(),
            arn: format!("arn:aws:cloudfront::{ACCOUNT}:distribution/E1"),
            domain_name: "d1.cloudfront.net".into(),
            viewer_protocol_policies: policies
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            enabled: true,
            minimum_protocol_version: min.map(str::to_owned),
            default_certificate: default_cert,
            web_acl_id: None,
            response_headers_policies: vec![],
        }
    }

    fn run(d: crate::facts::Fact<Vec<Distribution>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.cloudfront = d;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_redirect_with_tls12_2021() {
        let v = run(Ok(vec![dist(
            &[("*", "redirect-to-https"), ("/api/*", "https-only")],
            Some("TLSv1.2_2021"),
            false,
        )]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:cloudfront::111122223333:distribution/E1",
                None,
                "Distribution E1 (d1.cloudfront.net) serves HTTPS only with TLSv1.2_2021."
            )]
        );
    }

    #[test]
    fn fails_http_behavior_and_old_tls() {
        let v = run(Ok(vec![dist(
            &[("*", "redirect-to-https"), ("/img/*", "allow-all")],
            Some("TLSv1"),
            false,
        )]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Distribution E1 (d1.cloudfront.net) does not enforce modern HTTPS: behavior /img/* allows HTTP; security policy TLSv1 accepts protocols below TLS 1.2."
        );
        let v = run(Ok(vec![dist(&[("*", "https-only")], Some("TLSv1"), true)]));
        assert_eq!(
            v[0].reason,
            "Distribution E1 (d1.cloudfront.net) does not enforce modern HTTPS: the default CloudFront certificate accepts TLS 1.0."
        );
    }

    /// Every policy named after TLS 1.2 or 1.3 refuses older protocols, including the 2018 one
    /// and policies newer than this code; the 2016 and SSLv3 policies do not.
    #[test]
    fn security_policies_by_lowest_protocol() {
        for p in [
            "TLSv1.2_2018",
            "TLSv1.2_2019",
            "TLSv1.2_2021",
            "TLSv1.2_2025",
            "TLSv1.3_2025",
        ] {
            let v = run(Ok(vec![dist(&[("*", "https-only")], Some(p), false)]));
            assert_eq!(v[0].status, Status::Pass, "{p}");
        }
        for p in ["SSLv3", "TLSv1", "TLSv1_2016", "TLSv1.1_2016"] {
            let v = run(Ok(vec![dist(&[("*", "https-only")], Some(p), false)]));
            assert_eq!(v[0].status, Status::Fail, "{p}");
        }
    }

    /// A disabled distribution answers no viewer, whatever its settings.
    #[test]
    fn not_applicable_when_disabled() {
        let d = Distribution {
            enabled: false,
            ..dist(&[("*", "allow-all")], Some("TLSv1"), true)
        };
        let v = run(Ok(vec![d]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Distribution E1 (d1.cloudfront.net) is disabled and serves no viewer."
        );
    }

    #[test]
    fn not_applicable_without_distributions() {
        let v = run(Ok(vec![]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no CloudFront distributions."
        );
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied("cloudfront", "ListDistributions", None)));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: cloudfront:ListDistributions access denied (AccessDenied: not authorized)."
        );
    }
}
