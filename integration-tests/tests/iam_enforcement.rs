//! The generated least-privilege policy is enough, and every action of it counts, proven against moto
//! with IAM enforcement on. The demo organization is seeded first (without credentials), then moto
//! enforces IAM (`INITIAL_NO_AUTH_ACTION_COUNT` = 0, see `Moto::enforce_iam`): every request must be
//! signed by credentials moto knows and be allowed by their policies.
//!
//! The agent runs as an IAM user of the management account holding what
//! `deploy/cloudformation/agent-role.yaml` grants (`sts:AssumeRole` and the Organizations statement of
//! `maturity-agent iam-policy`), and audits production through a role holding exactly the audit
//! statement of `iam-policy` (`audit-role.yaml`). moto has no AWS-managed policies, so the seeded
//! demo role `maturity-agent-audit` carries an inline list of the checks' actions; the roles here
//! carry the very `iam-policy` output instead.
//!
//! moto 5.2.5's enforcement has two gaps, both measured here rather than assumed:
//! - it refuses every signed request to GuardDuty, Backup, Security Hub, CloudFront, Lambda, Route 53 and FIS, whatever the
//!   policy allows (its signature check fails for their requests): a role allowed `*` is denied
//!   them too ([`MOTO_REFUSES`]);
//! - for Budgets and the S3 public access block and encryption calls it checks the API operation's
//!   name instead of the IAM action AWS checks ([`MOTO_MISNAMED`]): the generated policy, which
//!   names the IAM actions, is denied those calls, and adding moto's names clears them.
//!
//! The operations the test harness's shim serves itself because moto lacks them (Access Analyzer,
//! CloudWatch `DescribeAlarms` and `ListDashboards`, Backup selections, Security Hub standards,
//! Cost Anomaly Detection, CloudFormation's drift information; see
//! `integration_tests::shim`) are not authorized against IAM, so their permissions are not judged.

use integration_tests::agent;
use integration_tests::moto::Moto;
use integration_tests::seed::{self, Profile};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

/// Calls moto refuses once IAM is enforced whatever the policy: `(service, operation)`.
const MOTO_REFUSES: [(&str, &str); 7] = [
    ("backup", "ListBackupPlans"),
    ("cloudfront", "ListDistributions"),
    ("fis", "ListExperiments"),
    ("guardduty", "ListDetectors"),
    ("lambda", "ListFunctions"),
    ("route53", "ListHealthChecks"),
    ("securityhub", "DescribeHub"),
];

/// Calls for which moto checks another action than AWS: `(service, operation, the IAM action AWS
/// checks, which the generated policy holds, the action moto checks)`.
/// moto's S3 maps a bucket GET whose sub-resource it does not know (`?encryption`,
/// `?publicAccessBlock`) to `s3:ListBucket`.
const MOTO_MISNAMED: [(&str, &str, &str, &str); 5] = [
    (
        "budgets",
        "DescribeBudgets",
        "budgets:ViewBudget",
        "budgets:DescribeBudgets",
    ),
    (
        "budgets",
        "DescribeNotificationsForBudget",
        "budgets:ViewBudget",
        "budgets:DescribeNotificationsForBudget",
    ),
    (
        "s3",
        "GetBucketEncryption",
        "s3:GetEncryptionConfiguration",
        "s3:ListBucket",
    ),
    (
        "s3",
        "GetPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
        "s3:ListBucket",
    ),
    (
        "s3control",
        "GetPublicAccessBlock",
        "s3:GetAccountPublicAccessBlock",
        "s3:GetPublicAccessBlock",
    ),
];

/// The action taken out of the policy to prove that moto enforces what the role holds.
const DROPPED: &str = "iam:GetAccountPasswordPolicy";

/// The statement `sid` of an `iam-policy` document.
fn statement(policy: &Value, sid: &str) -> Value {
    policy["Statement"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["Sid"] == sid))
        .unwrap_or_else(|| panic!("no statement {sid} in {policy}"))
        .clone()
}

/// Writes the config auditing `account` through `role_arn`.
fn config(dir: &Path, endpoint: &str, account: &str, role_arn: &str) -> String {
    let path = dir.join("agent.toml");
    std::fs::write(
        &path,
        format!(
            "[aws]\nregions = [\"{}\", \"{}\"]\nendpoint_url = \"{endpoint}\"\ncall_timeout_seconds = 20\nmax_attempts = 2\n\n\
             [[accounts]]\nid = \"{account}\"\nname = \"production\"\nrole_arn = \"{role_arn}\"\nexternal_id = \"{}\"\n\n\
             [checks]\ndisabled = [\"iam_root_mfa_enabled\"]\n",
            seed::REGIONS[0],
            seed::REGIONS[1],
            seed::EXTERNAL_ID,
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

/// `audit --format json` with the access key `key`: the report.
fn audit(config: &str, key: (&str, &str)) -> Value {
    let out = agent::run_as(&["audit", "--config", config, "--format", "json"], key);
    assert!(
        matches!(out.status.code(), Some(0 | 2)),
        "{out:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

/// Every failed read of the report (accounts' and the organization's) as `(service, operation,
/// kind)`.
fn errors(report: &Value) -> Vec<(String, String, String)> {
    let accounts = report["accounts"].as_array().into_iter().flatten();
    accounts
        .map(|a| &a["errors"])
        .chain([&report["organization"]["errors"]])
        .flat_map(|e| e.as_array().cloned().unwrap_or_default())
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (s("service"), s("operation"), s("kind"))
        })
        .collect()
}

/// The calls of the report denied access, as `(service, operation)`.
fn denied(report: &Value) -> BTreeSet<(String, String)> {
    errors(report)
        .into_iter()
        .filter(|(_, _, kind)| kind == "access_denied")
        .map(|(s, o, _)| (s, o))
        .collect()
}

fn calls<'a>(list: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeSet<(String, String)> {
    list.into_iter()
        .map(|(s, o)| (s.to_owned(), o.to_owned()))
        .collect()
}

/// The audit statement with `actions` added and `removed` taken out, as a policy document.
fn audit_policy(statement: &Value, added: &[&str], removed: &[&str]) -> Value {
    let mut statement = statement.clone();
    let actions = statement["Action"].as_array_mut().expect("actions");
    for r in removed {
        let before = actions.len();
        actions.retain(|a| a != r);
        assert_eq!(actions.len(), before - 1, "{r} is in the generated policy");
    }
    actions.extend(added.iter().map(|a| json!(a)));
    json!({"Version": "2012-10-17", "Statement": [statement]})
}

/// With IAM enforced, a full audit through a role holding exactly the generated policy is denied
/// nothing but moto's measured gaps; with moto's names of the misnamed actions added it is denied
/// only what moto refuses to everyone; taking one action out denies exactly that call; and the
/// emulator's default credentials are refused.
#[tokio::test(flavor = "multi_thread")]
async fn generated_policy_is_enough_under_iam_enforcement() {
    let moto = Moto::start();
    let org = seed::seed_demo(&moto.endpoint).await.expect("seed");
    let prod = org.account(Profile::Production).clone();
    let mgmt = seed::management_config(&moto.endpoint).await;
    let dir = tempfile::tempdir().unwrap();
    let config_for = |role: &str| config(dir.path(), &moto.endpoint, &prod.id, role);

    let printed = agent::run(&["iam-policy", "--config", &config_for(&prod.role_arn)]);
    assert!(printed.status.success(), "{printed:?}");
    let policy: Value = serde_json::from_slice(&printed.stdout).unwrap();
    let audit_statement = statement(&policy, maturity_agent::iam_policy::AUDIT_SID);
    let organizations = statement(&policy, maturity_agent::iam_policy::ORGANIZATION_SID);

    // The agent's own principal, as agent-role.yaml grants it.
    let iam = aws_sdk_iam::Client::new(&mgmt);
    iam.create_user()
        .user_name("maturity-agent")
        .send()
        .await
        .unwrap();
    let own = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "AssumeAuditRole", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
        organizations,
    ]});
    iam.put_user_policy()
        .user_name("maturity-agent")
        .policy_name("maturity-agent")
        .policy_document(own.to_string())
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("maturity-agent")
        .send()
        .await
        .unwrap()
        .access_key()
        .map(|k| {
            (
                k.access_key_id().to_owned(),
                k.secret_access_key().to_owned(),
            )
        })
        .unwrap();
    let key = (key.0.as_str(), key.1.as_str());

    // The audit roles in production.
    let member = seed::member_config(&mgmt, &prod.id).await.unwrap();
    let mut moto_names: Vec<&str> = MOTO_MISNAMED.iter().map(|m| m.3).collect();
    moto_names.dedup();
    let roles = [
        ("audit-generated", audit_policy(&audit_statement, &[], &[])),
        (
            "audit-everything",
            json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        ),
        (
            "audit-moto-names",
            audit_policy(&audit_statement, &moto_names, &[]),
        ),
        (
            "audit-missing-one",
            audit_policy(&audit_statement, &moto_names, &[DROPPED]),
        ),
    ];
    let mut arns = Vec::new();
    for (name, document) in &roles {
        arns.push(
            seed::role_with_policy(&member, name, &org.management_account_id, document)
                .await
                .unwrap(),
        );
    }
    for iam_action in MOTO_MISNAMED.iter().map(|m| m.2) {
        assert!(
            audit_statement["Action"]
                .as_array()
                .unwrap()
                .contains(&json!(iam_action)),
            "{iam_action} is no longer in the generated policy"
        );
    }

    moto.enforce_iam();

    // Enforcement is on: the emulator's default key, which no IAM user holds, is refused.
    let refused = audit(&config_for(&arns[0]), ("testing", "testing"));
    assert_eq!(refused["accounts"][0]["status"], "failed", "{refused}");

    let reports: Vec<Value> = arns
        .iter()
        .map(|arn| audit(&config_for(arn), key))
        .collect();
    for (report, (name, _)) in reports.iter().zip(&roles) {
        assert_eq!(
            report["accounts"][0]["status"], "audited",
            "{name}: {report}"
        );
    }
    let refuses = calls(MOTO_REFUSES);
    let misnamed = calls(MOTO_MISNAMED.iter().map(|m| (m.0, m.1)));
    // Every denial of the generated policy is one of moto's gaps (a misnamed call may go unmade:
    // budget notifications are read only for the budgets moto lists).
    let generated = denied(&reports[0]);
    assert!(
        generated.is_superset(&refuses) && generated.is_subset(&(&refuses | &misnamed)),
        "generated policy: {:?}",
        errors(&reports[0])
    );
    assert_eq!(
        denied(&reports[1]),
        refuses,
        "`*`: {:?}",
        errors(&reports[1])
    );
    assert_eq!(
        denied(&reports[2]),
        refuses,
        "with moto's names: {:?}",
        errors(&reports[2])
    );
    let (service, operation) = DROPPED.split_once(':').unwrap();
    assert_eq!(
        denied(&reports[3]),
        &refuses | &calls([(service, operation)]),
        "without {DROPPED}: {:?}",
        errors(&reports[3])
    );
    // The calls were made and answered: the audit is a full one.
    let ok = reports[0]["accounts"][0]["api_calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "ok")
        .count();
    assert!(ok >= 30, "only {ok} operations answered");
    // The organization is read with the agent's own credentials, never denied.
    for report in &reports {
        assert_eq!(report["organization"]["errors"], json!([]), "{report}");
    }
}
