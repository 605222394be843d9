//! The public edges add the security headers to every response: each enabled CloudFront
//! distribution through a response headers policy on every cache behavior, each HTTPS listener
//! of an internet-facing application load balancer through its header attributes.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::facts::FactError;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need, SecurityHeaders};

/// The shortest `Strict-Transport-Security` max-age accepted: one year, the AWS-managed
/// `SecurityHeadersPolicy`'s value and what browsers' HSTS preload lists require.
const MIN_HSTS_SECONDS: u64 = 31_536_000;

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "cloudfront_elbv2_security_headers_set",
        title: "Public edges add HSTS, X-Content-Type-Options and X-Frame-Options to responses",
        practice: Practice::EdgeEncryption,
        severity: Severity::Medium,
        activity: dsomm::SECURE_HEADERS,
        remediation: "On CloudFront, attach a response headers policy with security headers to \
                      every cache behavior (the managed SecurityHeadersPolicy, id \
                      67f7725c-6f97-4210-82d7-5512b31e9d03, or a custom one); on an ALB's HTTPS \
                      listeners, set the header attributes (aws elbv2 modify-listener-attributes \
                      with routing.http.response.strict_transport_security.header_value \
                      max-age=31536000, x_content_type_options nosniff, x_frame_options DENY).",
        needs: &[
            Need::CloudFrontResponseHeadersPolicies,
            Need::Elbv2ListenerAttributes,
        ],
        notes: "**Judges** every enabled CloudFront distribution (`ListDistributions`), each of \
its cache behaviors' `ResponseHeadersPolicyId` read with `GetResponseHeadersPolicy` (once per \
policy, AWS-managed or custom), and in every audited region each HTTPS listener of an \
internet-facing application load balancer, read with `DescribeListenerAttributes` \
(`routing.http.response.*.header_value`). An edge passes when what it adds carries \
`Strict-Transport-Security` with a max-age of at least one year, `X-Content-Type-Options: \
nosniff` and `X-Frame-Options` `DENY` or `SAMEORIGIN` (or a `Content-Security-Policy` with \
`frame-ancestors`); it fails naming what is missing, and a behavior without a policy fails. A \
policy or listener whose headers cannot be read is unknown; no such edge is not_applicable.\n\n\
**Edge cases**: headers the application sets itself are invisible to AWS: the check asks for \
them at the edge, where one setting covers every backend (a CloudFront policy without \
`Override` keeps the origin's own value). HTTP listeners are not judged (HSTS means nothing \
over plain HTTP; `elbv2_listener_tls_only` judges them); nor are API Gateway, AppSync or \
Function URLs, internal and network load balancers, and disabled distributions. \
`X-XSS-Protection` and `Referrer-Policy` are not required (browsers dropped the first; the second \
is advisable, not a defence).\n\n\
**Differs from Prowler / Security Hub**: we know of no Prowler check of response headers; \
Security Hub has none either.",
        module: module_path!(),
    },
    evaluate,
};

/// What `h` lacks of the required headers (empty when it has them all).
fn missing(h: &SecurityHeaders) -> Vec<&'static str> {
    let mut out = Vec::new();
    let max_age = h.strict_transport_security.as_deref().and_then(|v| {
        v.split(';').find_map(|d| {
            let (k, v) = d.split_once('=')?;
            if !k.trim().eq_ignore_ascii_case("max-age") {
                return None;
            }
            v.trim().trim_matches('"').parse::<u64>().ok()
        })
    });
    match max_age {
        None => out.push("Strict-Transport-Security"),
        Some(s) if s < MIN_HSTS_SECONDS => out.push("Strict-Transport-Security max-age of a year"),
        Some(_) => {}
    }
    if !h
        .content_type_options
        .as_deref()
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("nosniff"))
    {
        out.push("X-Content-Type-Options: nosniff");
    }
    let framing = h.frame_options.as_deref().is_some_and(|v| {
        let v = v.trim();
        v.eq_ignore_ascii_case("DENY") || v.eq_ignore_ascii_case("SAMEORIGIN")
    }) || h
        .content_security_policy
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().contains("frame-ancestors"));
    if !framing {
        out.push("X-Frame-Options (DENY or SAMEORIGIN)");
    }
    out
}

/// One edge's verdict from what each of its parts adds: `Ok(headers)`, `Err(Some(e))` when they
/// could not be read, `Err(None)` when the part adds none (a behavior without a policy).
fn edge<'a>(
    resource: &str,
    region: Option<&str>,
    label: &str,
    parts: impl Iterator<Item = (String, Result<&'a SecurityHeaders, Option<&'a FactError>>)>,
) -> Verdict {
    let mut problems = Vec::new();
    let mut unreadable = None;
    for (part, headers) in parts {
        match headers {
            Ok(h) => {
                let m = missing(h);
                if !m.is_empty() {
                    problems.push(format!("{part} lacks {}", m.join(", ")));
                }
            }
            Err(None) => problems.push(format!("{part} has no response headers policy")),
            Err(Some(e)) => unreadable = unreadable.or(Some(e)),
        }
    }
    if !problems.is_empty() {
        return Verdict::fail(
            resource,
            region,
            format!(
                "{label} does not add the security headers: {}.",
                problems.join("; ")
            ),
        );
    }
    match unreadable {
        Some(e) => super::unknown(resource, region, e),
        None => Verdict::pass(
            resource,
            region,
            format!("{label} adds Strict-Transport-Security (a year or more), X-Content-Type-Options and frame protection to every response."),
        ),
    }
}

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    match (&snap.cloudfront, &snap.response_headers_policies) {
        (Err(e), _) | (Ok(_), Err(e)) => {
            verdicts.push(super::unknown(&snap.account_resource(), None, e))
        }
        (Ok(distributions), Ok(policies)) => {
            for d in distributions.iter().filter(|d| d.enabled) {
                let parts = d.response_headers_policies.iter().map(|(path, id)| {
                    let part = if path == "*" {
                        "the default behavior".to_owned()
                    } else {
                        format!("behavior {path}")
                    };
                    let headers = match id {
                        None => Err(None),
                        Some(id) => match policies.get(id) {
                            Some(Ok(h)) => Ok(h),
                            Some(Err(e)) => Err(Some(e)),
                            None => Err(Some(&*NOT_READ)),
                        },
                    };
                    (part, headers)
                });
                verdicts.push(edge(
                    &d.arn,
                    None,
                    &format!("Distribution {} ({})", d.id, d.domain_name),
                    parts,
                ));
            }
        }
    }
    for (region, facts) in &snap.regional {
        let (lbs, headers) = match (&facts.load_balancers, &facts.listener_headers) {
            (Err(e), _) | (Ok(_), Err(e)) => {
                verdicts.push(super::unknown(
                    &format!("load balancers of {region}"),
                    Some(region),
                    e,
                ));
                continue;
            }
            (Ok(l), Ok(h)) => (l, h),
        };
        for lb in lbs
            .iter()
            .filter(|lb| lb.scheme == "internet-facing" && lb.kind == "application")
        {
            let listeners = match &lb.listeners {
                Err(e) => {
                    verdicts.push(super::unknown(&lb.arn, Some(region), e));
                    continue;
                }
                Ok(l) => l,
            };
            for l in listeners.iter().filter(|l| l.protocol == "HTTPS") {
                let h = match headers.get(&l.arn) {
                    Some(Ok(h)) => Ok(h),
                    Some(Err(e)) => Err(Some(e)),
                    None => Err(Some(&*NOT_READ_LISTENER)),
                };
                let label = format!(
                    "HTTPS listener {} of load balancer {}",
                    l.port.map(|p| p.to_string()).unwrap_or_default(),
                    lb.name
                );
                verdicts.push(edge(
                    &l.arn,
                    Some(region),
                    &label,
                    std::iter::once(("the listener".to_owned(), h)),
                ));
            }
        }
    }
    super::or_not_applicable(
        snap,
        verdicts,
        "enabled CloudFront distribution or HTTPS listener of an internet-facing application load balancer",
    )
}

static NOT_READ: std::sync::LazyLock<FactError> =
    std::sync::LazyLock::new(|| FactError::not_collected("cloudfront", "GetResponseHeadersPolicy"));
static NOT_READ_LISTENER: std::sync::LazyLock<FactError> = std::sync::LazyLock::new(|| {
    FactError::not_collected("elasticloadbalancing", "DescribeListenerAttributes")
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{Distribution, Listener, LoadBalancer};

    fn headers(hsts: Option<&str>, nosniff: bool, frame: Option<&str>) -> SecurityHeaders {
        SecurityHeaders {
            strict_transport_security: hsts.map(str::to_owned),
            content_type_options: nosniff.then(|| "nosniff".to_owned()),
            frame_options: frame.map(str::to_owned),
            content_security_policy: None,
        }
    }

    fn good() -> SecurityHeaders {
        headers(
            Some("max-age=31536000; includeSubDomains"),
            true,
            Some("DENY"),
        )
    }

    fn dist(behaviors: &[(&str, Option<&str>)]) -> Distribution {
        Distribution {
            id: "E1".into(),
            arn: format!("arn:aws:cloudfront::{ACCOUNT}:distribution/E1"),
            domain_name: "d1.cloudfront.net".into(),
            enabled: true,
            viewer_protocol_policies: vec![],
            minimum_protocol_version: None,
            default_certificate: true,
            web_acl_id: None,
            response_headers_policies: behaviors
                .iter()
                .map(|(p, id)| ((*p).to_owned(), id.map(str::to_owned)))
                .collect(),
        }
    }

    /// A snapshot with `dists` and their `policies`, and one internet-facing ALB whose HTTPS
    /// listener adds `alb` (`None`: no load balancer).
    fn run(
        dists: Vec<Distribution>,
        policies: &[(&str, crate::facts::Fact<SecurityHeaders>)],
        alb: Option<crate::facts::Fact<SecurityHeaders>>,
    ) -> Vec<Verdict> {
        let mut s = snapshot();
        s.cloudfront = Ok(dists);
        s.response_headers_policies = Ok(policies
            .iter()
            .map(|(id, h)| ((*id).to_owned(), h.clone()))
            .collect());
        let r = s.regional.get_mut(REGION).unwrap();
        let listener =
            format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/web/1/2");
        r.load_balancers = Ok(alb
            .iter()
            .map(|_| LoadBalancer {
                arn: format!(
                    "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web/1"
                ),
                name: "web".into(),
                kind: "application".into(),
                scheme: "internet-facing".into(),
                listeners: Ok(vec![Listener {
                    arn: listener.clone(),
                    port: Some(443),
                    protocol: "HTTPS".into(),
                    ssl_policy: None,
                    default_actions: vec![],
                    rules: Err(FactError::not_collected(
                        "elasticloadbalancing",
                        "DescribeRules",
                    )),
                }]),
            })
            .collect());
        r.listener_headers = Ok(alb.into_iter().map(|h| (listener.clone(), h)).collect());
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_edges_that_add_the_headers() {
        let v = run(
            vec![dist(&[("*", Some("managed")), ("/api/*", Some("custom"))])],
            &[("managed", Ok(good())), ("custom", Ok(good()))],
            Some(Ok(good())),
        );
        assert_eq!(v.len(), 2);
        assert!(v.iter().all(|v| v.status == Status::Pass), "{v:#?}");
        assert!(
            v[1].reason
                .starts_with("HTTPS listener 443 of load balancer web adds"),
            "{}",
            v[1].reason
        );
        // Content-Security-Policy frame-ancestors stands for X-Frame-Options.
        let mut csp = headers(Some("max-age=63072000"), true, None);
        csp.content_security_policy = Some("default-src 'self'; frame-ancestors 'none'".into());
        assert_eq!(run(vec![], &[], Some(Ok(csp)))[0].status, Status::Pass);
    }

    #[test]
    fn fails_missing_or_weak_headers_and_behaviors_without_a_policy() {
        let v = run(
            vec![dist(&[("*", Some("weak")), ("/img/*", None)])],
            &[(
                "weak",
                Ok(headers(
                    Some("max-age=86400"),
                    false,
                    Some("ALLOW-FROM https://x"),
                )),
            )],
            Some(Ok(SecurityHeaders::default())),
        );
        assert!(v.iter().all(|v| v.status == Status::Fail), "{v:#?}");
        assert_eq!(
            v[0].reason,
            "Distribution E1 (d1.cloudfront.net) does not add the security headers: the default behavior lacks Strict-Transport-Security max-age of a year, X-Content-Type-Options: nosniff, X-Frame-Options (DENY or SAMEORIGIN); behavior /img/* has no response headers policy."
        );
        assert!(v[1].reason.ends_with("the listener lacks Strict-Transport-Security, X-Content-Type-Options: nosniff, X-Frame-Options (DENY or SAMEORIGIN)."), "{}", v[1].reason);
    }

    #[test]
    fn unknown_when_headers_cannot_be_read_and_not_applicable_without_edges() {
        let v = run(
            vec![dist(&[("*", Some("p"))])],
            &[(
                "p",
                Err(denied("cloudfront", "GetResponseHeadersPolicy", None)),
            )],
            Some(Err(denied(
                "elasticloadbalancing",
                "DescribeListenerAttributes",
                Some(REGION),
            ))),
        );
        assert_eq!(
            v.iter().map(|v| v.status).collect::<Vec<_>>(),
            [Status::Unknown, Status::Unknown]
        );
        let mut off = dist(&[("*", None)]);
        off.enabled = false;
        let v = run(vec![off], &[], None);
        assert_eq!((v.len(), v[0].status), (1, Status::NotApplicable));
        let mut s = snapshot();
        s.cloudfront = Err(denied("cloudfront", "ListDistributions", None));
        let v = evaluate(&s, &Settings::default());
        assert!(v.iter().all(|v| v.status == Status::Unknown), "{v:#?}");
    }
}
