//! Every CloudFront distribution serves viewers over HTTPS only (every cache behavior redirects to
//! HTTPS or refuses HTTP) with a minimum protocol of `TLSv1.2_2021` or later.
//!
//! A distribution on the default `*.cloudfront.net` certificate cannot choose its minimum protocol
//! (CloudFront accepts TLS 1.0 there), so it fails the TLS half. CloudFront is global: read once.

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
        notes: "",
        module: module_path!(),
    },
    evaluate,
};

/// Minimum protocol versions that refuse everything below TLS 1.2 with modern ciphers.
const MODERN: &[&str] = &[
    "TLSv1.2_2019",
    "TLSv1.2_2021",
    "TLSv1.2_2025",
    "TLSv1.3_2025",
];

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let distributions = match &snap.cloudfront {
        Err(e) => return vec![super::unknown(&snap.account_resource(), None, e)],
        Ok(d) => d,
    };
    let verdicts = distributions
        .iter()
        .map(|d| {
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
                Some(v) if MODERN.contains(&v) => {}
                Some(v) => problems.push(format!("minimum protocol {v} is below TLSv1.2_2021")),
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
            minimum_protocol_version: min.map(str::to_owned),
            default_certificate: default_cert,
            web_acl_id: None,
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
            "Distribution E1 (d1.cloudfront.net) does not enforce modern HTTPS: behavior /img/* allows HTTP; minimum protocol TLSv1 is below TLSv1.2_2021."
        );
        let v = run(Ok(vec![dist(&[("*", "https-only")], Some("TLSv1"), true)]));
        assert_eq!(
            v[0].reason,
            "Distribution E1 (d1.cloudfront.net) does not enforce modern HTTPS: the default CloudFront certificate accepts TLS 1.0."
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
