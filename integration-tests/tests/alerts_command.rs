//! `maturity-agent alerts test` against real sinks: Debian's Alertmanager and a local receiver as the
//! signed webhook and Slack; and a sink that is down, which the command reports by name.

use integration_tests::agent::binary;
use integration_tests::alertmanager::Alertmanager;
use integration_tests::free_port;
use integration_tests::receiver::Receiver;
use std::process::Command;

/// Each sink gets the test alert and is reported delivered; a sink that cannot be reached is
/// reported FAILED with the error (not its URL) and the command exits 1; a missing secret is a
/// config error naming the sink and the variable.
#[tokio::test(flavor = "multi_thread")]
async fn alerts_test_reports_each_sink() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start("k3y").await;
    let am = Alertmanager::start(
        dir.path(),
        "route:\n  receiver: none\nreceivers:\n  - name: none\n",
    );
    let down = free_port();
    let config = dir.path().join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "[[accounts]]\nid = \"111111111111\"\nname = \"prod\"\n\n\
             [[alerts.sinks]]\ntype = \"alertmanager\"\nurls = [\"{am}\"]\n\n\
             [[alerts.sinks]]\ntype = \"webhook\"\nurl = \"{hook}/hook\"\nsecret_env = \"TEST_KEY\"\n\n\
             [[alerts.sinks]]\ntype = \"slack\"\nurl_env = \"TEST_SLACK\"\n\n\
             [[alerts.sinks]]\ntype = \"webhook\"\nname = \"down\"\nurl_file = \"{file}\"\ntimeout_seconds = 2\n",
            am = am.url,
            hook = receiver.url,
            file = dir.path().join("down-url").display(),
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("down-url"),
        format!("http://127.0.0.1:{down}/secret-path\n"),
    )
    .unwrap();
    let slack = format!("{}/slack", receiver.url);
    let out = tokio::task::spawn_blocking({
        let config = config.clone();
        move || {
            Command::new(binary())
                .args(["alerts", "test", "--config"])
                .arg(&config)
                .env("TEST_KEY", "k3y")
                .env("TEST_SLACK", &slack)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_eq!(
        lines[0],
        format!("alertmanager alertmanager {}: delivered", am.url)
    );
    assert_eq!(lines[1], "webhook webhook (url from config): delivered");
    assert_eq!(lines[2], "slack slack (url from config): delivered");
    assert!(
        lines[3].starts_with("down webhook (url from config): FAILED: "),
        "{stdout}"
    );
    assert!(
        !stdout.contains("secret-path"),
        "a sink's URL is never printed"
    );
    assert!(am
        .alerts()
        .iter()
        .any(|a| a["labels"]["alertname"] == "MaturityAgentTest"));
    let hook = receiver.received("hook");
    assert_eq!(hook.len(), 1);
    assert_eq!(hook[0].signature_ok, Some(true));
    assert_eq!(receiver.received("slack").len(), 1);

    let missing = Command::new(binary())
        .args(["alerts", "test", "--config"])
        .arg(&config)
        .env_remove("TEST_KEY")
        .env("TEST_SLACK", "http://127.0.0.1:1/x")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(64));
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr).trim(),
        "maturity-agent: alerts sink \"webhook\" secret: environment variable TEST_KEY is not set"
    );
}
