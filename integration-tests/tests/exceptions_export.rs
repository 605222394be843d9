//! Exceptions and the DSOMM export through the binary, against the demo organization on moto.

use integration_tests::agent;
use integration_tests::moto::Moto;
use integration_tests::seed::{self, Profile};
use maturity_checks::model::Status;
use maturity_checks::report::Report;
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;

/// The activity uuids of the DSOMM model (vendored in `checks/data/dsomm/`).
fn model_uuids() -> HashSet<String> {
    include_str!("../../checks/data/dsomm/activities.tsv")
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').nth(3))
        .map(str::to_owned)
        .collect()
}

/// A file read as YAML 1.1 by PyYAML (`scripts/yaml11`), as JSON with dates tagged.
fn yaml11(path: &Path) -> Value {
    let out = std::process::Command::new("bash")
        .arg(integration_tests::project_root().join("scripts/yaml11"))
        .arg("load")
        .arg(path)
        .output()
        .expect("run scripts/yaml11");
    assert!(
        out.status.success(),
        "PyYAML could not read {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("yaml11 prints JSON")
}

/// The demo audited with an exception for legacy's console user without MFA: that check becomes
/// `accepted` in legacy (and counts as passing), not in sandbox, which the exception does not name.
/// The DSOMM export of the same config (team "Legacy & Sandbox" owning both, production on its own)
/// reads as YAML 1.1 with real dates, only model uuids, and the progress the rule gives.
#[tokio::test(flavor = "multi_thread")]
async fn accepted_findings_and_dsomm_export() {
    let moto = Moto::start();
    let org = seed::seed_demo(&moto.endpoint)
        .await
        .expect("seed the demo organization");
    let (prod, legacy, sandbox) = (
        org.account(Profile::Production),
        org.account(Profile::Legacy),
        org.account(Profile::Sandbox),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("demo.toml");
    let toml = format!(
        "{}\n[state]\npath = \"{}\"\n\n\
         [[teams]]\nname = \"Legacy & Sandbox\"\naccounts = [\"{}\", \"{}\"]\n\n\
         [[exceptions]]\ncheck = \"iam_console_users_mfa_enabled\"\nresources = \"arn:aws:iam::*:user/legacy-*\"\n\
         accounts = [\"{}\"]\nreason = \"shared console login, retired with the legacy stack\"\nowner = \"platform-team\"\nexpires = 2999-12-31\n",
        org.config_toml(),
        dir.path().join("state.db").display(),
        legacy.id,
        sandbox.id,
        legacy.id
    );
    std::fs::write(&config, toml).unwrap();

    let out = agent::run(&[
        "audit",
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Report = serde_json::from_slice(&out.stdout).expect("JSON report");
    let mfa = |id: &str| {
        report
            .account(id)
            .and_then(|a| a.check("iam_console_users_mfa_enabled"))
            .cloned()
            .expect("check result")
    };
    let accepted = mfa(&legacy.id);
    assert_eq!(accepted.status, Status::Accepted, "{:?}", accepted.verdicts);
    let v = accepted
        .verdicts
        .iter()
        .find(|v| v.resource == format!("arn:aws:iam::{}:user/legacy-admin", legacy.id))
        .expect("legacy-admin verdict");
    assert_eq!(v.status, Status::Accepted);
    assert_eq!(
        v.exception.as_ref().map(|n| n.message.as_str()),
        Some("accepted by platform-team until 2999-12-31: shared console login, retired with the legacy stack")
    );
    let identity = report
        .account(&legacy.id)
        .and_then(|a| {
            a.practices
                .iter()
                .find(|p| p.practice.as_str() == "identity")
        })
        .unwrap();
    assert_eq!(identity.accepted, 1);
    assert_eq!(
        mfa(&sandbox.id).status,
        Status::Fail,
        "the exception names legacy only"
    );
    assert_eq!(mfa(&prod.id).status, Status::Pass);

    // No state database yet: `--from auto` audits.
    let out_dir = dir.path().join("dsomm");
    let out = agent::run(&[
        "export",
        "dsomm",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("team-progress.yaml (2 teams;"));

    let uuids = model_uuids();
    let progress = yaml11(&out_dir.join("team-progress.yaml"));
    let progress = progress["progress"].as_object().expect("progress mapping");
    assert!(!progress.is_empty());
    let titles = ["Started", "Partly implemented", "Fully implemented"];
    let mut dates = HashSet::new();
    for (uuid, teams) in progress {
        assert!(uuids.contains(uuid), "{uuid} is not a DSOMM activity");
        for (team, reached) in teams.as_object().unwrap() {
            assert!(
                ["production", "Legacy & Sandbox"].contains(&team.as_str()),
                "{team}"
            );
            for (title, date) in reached.as_object().unwrap() {
                assert!(titles.contains(&title.as_str()), "{title}");
                let day = date["$date"].as_str().unwrap_or_else(|| {
                    panic!("{uuid}/{team}/{title}: {date} is not a YAML 1.1 date")
                });
                dates.insert(day.to_owned());
            }
        }
    }
    assert_eq!(dates.len(), 1, "every title is dated with the run's day");
    // MFA (only iam_console_users_mfa_enabled): production passes; the team's legacy is accepted
    // and sandbox fails, one passing pair against one failing: partly implemented.
    let mfa_activity = &progress["598e9f13-1ac8-4a01-b85e-8fab93ee81de"];
    let reached = |team: &str| -> HashSet<&str> {
        mfa_activity[team]
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default()
    };
    assert_eq!(reached("production"), HashSet::from(titles));
    assert_eq!(
        reached("Legacy & Sandbox"),
        HashSet::from(["Started", "Partly implemented"])
    );

    let evidence = yaml11(&out_dir.join("team-evidence.yaml"));
    let evidence = evidence["evidence"].as_object().expect("evidence mapping");
    let mut ids = HashSet::new();
    for (uuid, entries) in evidence {
        assert!(uuids.contains(uuid), "{uuid} is not a DSOMM activity");
        for e in entries.as_array().unwrap() {
            assert!(
                ids.insert(e["id"].as_str().unwrap().to_owned()),
                "ids are unique"
            );
            assert!(e["teams"].as_array().unwrap()[0].is_string());
            assert!(e["title"].is_string());
            assert!(
                e["evidenceRecorded"].is_string(),
                "evidenceRecorded is an ISO string, not a date: {}",
                e["evidenceRecorded"]
            );
        }
    }
    let team_mfa = evidence["598e9f13-1ac8-4a01-b85e-8fab93ee81de"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["teams"][0] == "Legacy & Sandbox")
        .expect("the team's MFA evidence");
    let text = team_mfa["description"].as_str().unwrap();
    assert!(
        text.starts_with("Partly implemented according to"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "  - accepted arn:aws:iam::{}:user/legacy-admin: ",
            legacy.id
        )) && text.contains("[accepted by platform-team until 2999-12-31"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "sandbox ({}) iam_console_users_mfa_enabled: fail",
            sandbox.id
        )),
        "{text}"
    );
}

/// An exception whose expiry date has passed makes the config invalid: `validate` exits 64 and
/// names the line.
#[test]
fn expired_exception_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        "[[accounts]]\nid = \"111111111111\"\nname = \"prod\"\n\n[[exceptions]]\ncheck = \"iam_console_users_mfa_enabled\"\n\
         resources = \"*\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2020-01-01\n",
    )
    .unwrap();
    let out = agent::run(&["validate", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 10: exceptions[0].expires 2020-01-01 is not after today"),
        "{err}"
    );
}
