//! The deploy kit (`deploy/`) agrees with the code: the CloudFormation audit role embeds exactly the
//! policy `maturity-agent iam-policy` generates, the agent role grants exactly the discovery calls,
//! the PrometheusRule holds exactly `prometheus/rules.yml`, the dashboard and the rules read only
//! metrics the agent exports, and the shipped configs are valid and match the manifests.
//! `deploy/regenerate` rewrites the derived parts; `scripts/lint-deploy` runs the external linters.

use integration_tests::deploy::{alert_rules, dashboard_queries, metric_names, yaml_file};
use integration_tests::project_root;
use maturity_agent::config::Config;
use maturity_agent::iam_policy;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Metrics that regression alerting (issue #5) adds; the dashboard and the rules already use them.
/// Once they are in the golden file this list can go.
fn actions(statement: &Value) -> BTreeSet<String> {
    match &statement["Action"] {
        Value::String(a) => [a.clone()].into(),
        Value::Array(a) => a.iter().map(|a| a.as_str().unwrap().to_owned()).collect(),
        other => panic!("no actions in {other}"),
    }
}

fn statement<'a>(document: &'a Value, sid: &str) -> &'a Value {
    document["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("no statement {sid} in {document}"))
}

/// The audit role's policy document is the default `iam-policy --audit-role` output, action for action; its trust
/// policy admits only the agent's role, with the external id.
#[test]
fn audit_role_embeds_exactly_the_generated_policy() {
    let template = yaml_file("deploy/cloudformation/audit-role.yaml");
    let role = &template["Resources"]["AuditRole"];
    assert_eq!(role["Type"], "AWS::IAM::Role");
    let policies = role["Properties"]["Policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1, "one inline policy");
    let embedded = &policies[0]["PolicyDocument"];
    let generated = iam_policy::audit_role_policy(None);
    let (e, g) = (
        actions(statement(embedded, iam_policy::AUDIT_SID)),
        actions(statement(&generated, iam_policy::AUDIT_SID)),
    );
    assert_eq!(
        e.symmetric_difference(&g).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "actions differ: run deploy/regenerate"
    );
    assert_eq!(embedded, &generated, "run deploy/regenerate");

    let trust = &role["Properties"]["AssumeRolePolicyDocument"]["Statement"];
    assert_eq!(trust.as_array().unwrap().len(), 1);
    assert_eq!(trust[0]["Effect"], "Allow");
    assert_eq!(trust[0]["Action"], "sts:AssumeRole");
    assert_eq!(trust[0]["Principal"], json!({ "AWS": "AgentRoleArn" }));
    assert_eq!(
        trust[0]["Condition"]["StringEquals"]["sts:ExternalId"],
        "ExternalId"
    );
}

/// The `iam-policy` command prints the policy of the module, for every check without a config and
/// with the discovery statement for a config that discovers; a bad config exits 64.
#[test]
fn iam_policy_command_prints_the_policy() {
    let out = integration_tests::agent::run(&["iam-policy"]);
    assert!(out.status.success(), "{out:?}");
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, iam_policy::policy(None));

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[organization]\ndiscover = true\n").unwrap();
    let out = integration_tests::agent::run(&["iam-policy", "--config", config.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(statement(&printed, iam_policy::DISCOVERY_SID)["Action"]
        .as_array()
        .unwrap()
        .contains(&json!("organizations:ListRoots")));

    std::fs::write(&config, "[organization]\ndiscover = 1\n").unwrap();
    let out = integration_tests::agent::run(&["iam-policy", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(64), "{out:?}");
}

/// The agent's role may assume the audit role and make exactly the Organizations calls of discovery
/// (tags included), nothing else.
#[test]
fn agent_role_grants_assume_and_exactly_the_discovery_calls() {
    let template = yaml_file("deploy/cloudformation/agent-role.yaml");
    let document =
        &template["Resources"]["AgentRole"]["Properties"]["Policies"][0]["PolicyDocument"];
    let discovery: BTreeSet<String> = iam_policy::DISCOVERY_OPERATIONS
        .iter()
        .chain([&iam_policy::DISCOVERY_TAGS_OPERATION])
        .map(|o| o.iam_action.to_owned())
        .collect();
    assert_eq!(
        actions(statement(document, iam_policy::DISCOVERY_SID)),
        discovery
    );
    assert_eq!(
        actions(statement(document, "AssumeAuditRole")),
        BTreeSet::from(["sts:AssumeRole".to_owned()])
    );
    let organization: BTreeSet<String> =
        iam_policy::organization_actions(maturity_checks::catalog::CATALOG)
            .into_iter()
            .map(str::to_owned)
            .collect();
    assert_eq!(
        actions(statement(document, iam_policy::ORGANIZATION_SID)),
        organization
    );
    assert_eq!(document["Statement"].as_array().unwrap().len(), 3);
}

/// The PrometheusRule of the Kubernetes manifests holds the very groups of `prometheus/rules.yml`.
#[test]
fn prometheus_rule_holds_exactly_the_rules_file() {
    let rule = yaml_file("deploy/kubernetes/prometheusrule.yaml");
    let rules = yaml_file("deploy/prometheus/rules.yml");
    assert_eq!(rule["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(rule["kind"], "PrometheusRule");
    assert!(rules["groups"].as_array().is_some_and(|g| !g.is_empty()));
    assert_eq!(
        rule["spec"]["groups"], rules["groups"],
        "run deploy/regenerate"
    );
}

/// Every `maturity_*` metric a dashboard query or an alert rule reads is one the agent exports (the
/// golden exposition) or one regression alerting adds; and the dashboard covers the core series.
#[test]
fn dashboard_and_rules_read_exported_metrics() {
    let golden =
        std::fs::read_to_string(project_root().join("agent/tests/golden/metrics.prom")).unwrap();
    let exported: BTreeSet<String> = golden
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert!(exported.contains("maturity_level"), "{exported:?}");
    let known = |m: &String| exported.contains(m);

    let queries = dashboard_queries();
    assert!(queries.len() >= 15, "{queries:?}");
    let mut read = BTreeSet::new();
    for q in &queries {
        let names = metric_names(&q.expr);
        assert!(
            !names.is_empty(),
            "{} {}: reads no maturity_ metric",
            q.panel,
            q.ref_id
        );
        for m in &names {
            assert!(known(m), "panel {:?} reads unknown metric {m}", q.panel);
        }
        assert!(!q.promql().contains('$'), "unfilled variable: {}", q.expr);
        read.extend(names);
    }
    for core in [
        "maturity_level",
        "maturity_score_ratio",
        "maturity_check_status",
        "maturity_regressions_total",
        "maturity_audit_last_success_timestamp_seconds",
        "maturity_audit_duration_seconds",
        "maturity_aws_api_errors_total",
        "maturity_alert_queue_depth",
    ] {
        assert!(read.contains(core), "the dashboard does not show {core}");
    }

    let rules = alert_rules();
    assert!(rules.len() >= 6, "{rules:?}");
    for r in &rules {
        for m in metric_names(&r.expr) {
            assert!(known(&m), "rule {} reads unknown metric {m}", r.alert);
        }
    }
}

/// The configs shipped in deploy/ are valid configs, and agree with the manifests and the image:
/// the listen port is the container's port, the state lies on the state volume, the config sits
/// where the image and the Deployment read it.
#[test]
fn shipped_configs_are_valid_and_match_the_manifests() {
    let root = project_root();
    let deployment = yaml_file("deploy/kubernetes/deployment.yaml");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let port = container["ports"][0]["containerPort"].as_i64().unwrap();
    let mount = |volume: &str| {
        container["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == volume)
            .and_then(|m| m["mountPath"].as_str())
            .unwrap_or_else(|| panic!("no mount of volume {volume}"))
            .to_owned()
    };
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let config_path = format!("{}/config.toml", mount("config"));
    assert!(args
        .windows(2)
        .any(|w| w == ["--config", config_path.as_str()]));

    let dockerfile = std::fs::read_to_string(root.join("deploy/Dockerfile")).unwrap();
    assert!(dockerfile.contains(&format!("EXPOSE {port}\n")));
    assert!(dockerfile.contains(&format!("\"--config\", \"{config_path}\"]")));
    assert!(dockerfile.contains(&format!("VOLUME [\"{}\"]", mount("state"))));

    for file in ["deploy/kubernetes/config.toml", "deploy/compose/agent.toml"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let config = Config::parse(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(
            config
                .server
                .listen
                .get_ref()
                .ends_with(&format!(":{port}")),
            "{file}: listen"
        );
        assert!(
            config.state.sqlite_path().starts_with(mount("state")),
            "{file}: state outside the volume"
        );
    }
}

/// The replicas' configs (Kubernetes overlay, compose trial) are valid configs with the state in
/// PostgreSQL, and read the password (and CA) from where their Secret is mounted.
#[test]
fn replica_configs_are_valid_and_read_the_mounted_secret() {
    let root = project_root();
    let overlay = yaml_file("deploy/kubernetes-replicas/deployment.yaml");
    let container = &overlay["spec"]["template"]["spec"]["containers"][0];
    let secret_mount = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "state-secret")
        .and_then(|m| m["mountPath"].as_str())
        .expect("the Secret is mounted")
        .to_owned();
    let secret = yaml_file("deploy/kubernetes-replicas/state-secret.yaml");
    for (file, dir) in [
        (
            "deploy/kubernetes-replicas/config.toml",
            secret_mount.as_str(),
        ),
        ("deploy/compose/agent-replicas.toml", "/run/secrets"),
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let config = Config::parse(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(
            config.state.url.is_some() && config.state.path.is_none(),
            "{file}"
        );
        let pw = config.state.password_file.as_ref().expect("password_file");
        assert!(pw.starts_with(dir), "{file}: {pw:?} outside {dir}");
        if file.starts_with("deploy/kubernetes") {
            for key in [pw, config.state.ca_file.as_ref().expect("ca_file")] {
                let name = key.file_name().unwrap().to_str().unwrap();
                assert!(
                    secret["stringData"][name].is_string(),
                    "{file}: the Secret has no key {name}"
                );
            }
        }
    }
}
