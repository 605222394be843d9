//! How the collectors treat an endpoint that fails: through the real AWS SDK over HTTP, every fact
//! keeps its error, and every check comes out `unknown` naming the call — never `pass` or `fail`.

use integration_tests::fault::{Answer, FaultServer};
use maturity_checks::audit::evaluate;
use maturity_checks::catalog::{self, CATALOG};
use maturity_checks::collect::session::{base_config, AwsOptions};
use maturity_checks::collect::Collector;
use maturity_checks::facts::{CallRecorder, ErrorKind};
use maturity_checks::model::Status;
use maturity_checks::settings::Settings;
use std::time::Duration;

async fn collect_against(
    answer: Answer,
) -> (Vec<maturity_checks::report::CheckResult>, CallRecorder) {
    let server = FaultServer::start(answer).await;
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    let opts = AwsOptions {
        home_region: "us-east-1".into(),
        endpoint_url: Some(server.endpoint.clone()),
        call_timeout: Duration::from_secs(10),
        max_attempts: 1,
    };
    let config = base_config(&opts).await;
    let recorder = CallRecorder::new();
    let regions = vec!["us-east-1".to_owned(), "eu-west-1".to_owned()];
    let budget = maturity_checks::last_accessed::Budget::of(&Default::default(), None);
    let collector = Collector {
        config: &config,
        account_id: "111122223333",
        regions: &regions,
        s3_path_style: true,
        recorder: &recorder,
        last_accessed: &budget,
    };
    let needs = catalog::needs_of(CATALOG);
    let mut snapshot = collector.collect(&needs).await;
    // The organization-level facts are read once per run (audit_all), here against the same endpoint.
    snapshot.organization = maturity_checks::collect::organizations::read_organization(
        &config,
        &recorder,
        &needs,
        &["111122223333".to_owned()],
    )
    .await
    .map(std::sync::Arc::new);
    (evaluate(&snapshot, CATALOG, &Settings::default()), recorder)
}

/// An endpoint that answers HTML 500 to everything (as moto does for operations it lacks): every
/// check is unknown, "not supported by the endpoint", and every call is counted as such.
#[tokio::test]
async fn unimplemented_operations_are_unknown_not_supported() {
    let (results, recorder) = collect_against(Answer::NotImplementedHtml).await;
    for r in &results {
        assert_eq!(r.status, Status::Unknown, "{}: {:?}", r.id, r.verdicts);
        for v in &r.verdicts {
            assert!(
                v.reason
                    .contains("not supported by the endpoint (HTTP 500 without an AWS error code)"),
                "{}: {}",
                r.id,
                v.reason
            );
        }
    }
    let errors = recorder.errors();
    assert!(!errors.is_empty());
    assert!(
        errors.iter().all(|e| e.kind == ErrorKind::NotSupported),
        "{errors:?}"
    );
    assert!(
        recorder
            .counts()
            .iter()
            .all(|c| c.outcome == "not_supported"),
        "{:?}",
        recorder.counts()
    );
}

/// An endpoint that denies everything: every check is unknown, "access denied", naming the call.
#[tokio::test]
async fn denied_operations_are_unknown_access_denied() {
    let (results, recorder) = collect_against(Answer::AccessDeniedXml).await;
    for r in &results {
        assert_eq!(r.status, Status::Unknown, "{}: {:?}", r.id, r.verdicts);
        for v in &r.verdicts {
            assert!(v.reason.contains("access denied"), "{}: {}", r.id, v.reason);
        }
    }
    let iam = results
        .iter()
        .find(|r| r.id == "iam_root_access_keys_absent")
        .unwrap();
    assert!(
        iam.verdicts[0].reason.starts_with(
            "Cannot judge arn:aws:iam::111122223333:root: iam:GetAccountSummary access denied ("
        ),
        "{}",
        iam.verdicts[0].reason
    );
    assert!(
        recorder
            .errors()
            .iter()
            .all(|e| e.kind == ErrorKind::AccessDenied),
        "{:?}",
        recorder.errors()
    );
}
