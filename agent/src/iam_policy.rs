//! The least-privilege IAM policy the agent needs, derived from what it calls rather than written by
//! hand: the operations of the facts the enabled checks need ([`Need::operations`]), the calls the
//! session makes around them, and the Organizations calls of account discovery.
//!
//! The document has one statement for the audit role of every audited account (`AuditReadOnly`); one
//! for the organization-level facts when an enabled check needs them (`OrganizationFacts`); and,
//! when `[organization] discover = true`, one for discovery (`OrganizationsDiscovery`); and, when
//! `[events]` names a queue, the consumer's SQS calls on that queue (`EventsQueue`, the agent's
//! own role). The two Organizations statements belong to whoever makes the Organizations calls: the agent's own role, or `management_role_arn`. `deploy/cloudformation/`
//! embeds the audit statement of the default policy (every check enabled), and a test proves it.

use crate::config::Config;
use maturity_checks::catalog::{self, Check};
use maturity_checks::snapshot::Operation;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The calls an audit makes besides the checks' facts, in every audited account.
pub const SESSION_OPERATIONS: &[Operation] = &[
    // `regions = ["all"]` lists the account's enabled regions once per account.
    Operation {
        service: "ec2",
        operation: "DescribeRegions",
        iam_action: "ec2:DescribeRegions",
    },
    // An account without `role_arn` is audited with the agent's own credentials, verified first.
    Operation {
        service: "sts",
        operation: "GetCallerIdentity",
        iam_action: "sts:GetCallerIdentity",
    },
];

/// The Organizations calls of account discovery (`collect/organizations.rs`), without the tags.
pub const DISCOVERY_OPERATIONS: &[Operation] = &[
    Operation {
        service: "organizations",
        operation: "ListRoots",
        iam_action: "organizations:ListRoots",
    },
    Operation {
        service: "organizations",
        operation: "ListAccountsForParent",
        iam_action: "organizations:ListAccountsForParent",
    },
    Operation {
        service: "organizations",
        operation: "ListOrganizationalUnitsForParent",
        iam_action: "organizations:ListOrganizationalUnitsForParent",
    },
];

/// The discovery call that reads an account's tags, made only when tag rules are configured.
pub const DISCOVERY_TAGS_OPERATION: Operation = Operation {
    service: "organizations",
    operation: "ListTagsForResource",
    iam_action: "organizations:ListTagsForResource",
};

/// The statement id of the audit role's permissions.
pub const AUDIT_SID: &str = "AuditReadOnly";
/// The statement id of the Organizations discovery permissions.
pub const DISCOVERY_SID: &str = "OrganizationsDiscovery";

/// The statement id of the organization-level facts (read once per run by the agent's own role or
/// `management_role_arn`, never through an account's audit role).
pub const ORGANIZATION_SID: &str = "OrganizationFacts";

/// The IAM actions the audit role needs for `checks`: sorted and unique. Organization-level facts
/// are not read through the audit role and are left out ([`organization_actions`]).
pub fn audit_actions(checks: &[&Check]) -> BTreeSet<&'static str> {
    catalog::needs_of(checks)
        .into_iter()
        .filter(|n| !n.is_organization())
        .flat_map(|n| n.operations().iter())
        .chain(SESSION_OPERATIONS)
        .map(|o| o.iam_action)
        .collect()
}

/// The IAM actions of the organization-level facts `checks` need (AWS Organizations, read once per
/// run by the agent's own role or `management_role_arn`); empty when no enabled check needs them.
pub fn organization_actions(checks: &[&Check]) -> BTreeSet<&'static str> {
    catalog::needs_of(checks)
        .into_iter()
        .filter(|n| n.is_organization())
        .flat_map(|n| n.operations().iter())
        .map(|o| o.iam_action)
        .collect()
}

/// The IAM actions of account discovery; empty when discovery is off.
pub fn discovery_actions(config: &Config) -> BTreeSet<&'static str> {
    let org = &config.organization;
    if !org.discover {
        return BTreeSet::new();
    }
    let tags = !org.include_tags.is_empty() || !org.exclude_tags.is_empty();
    DISCOVERY_OPERATIONS
        .iter()
        .chain(tags.then_some(&DISCOVERY_TAGS_OPERATION))
        .map(|o| o.iam_action)
        .collect()
}

fn statement(sid: &str, actions: &BTreeSet<&'static str>) -> Value {
    json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": "*" })
}

/// The policy document for `config`; without a config, every check is enabled and discovery is off.
pub fn policy(config: Option<&Config>) -> Value {
    let disabled = config.map(Config::disabled).unwrap_or_default();
    let enabled = catalog::enabled(&disabled);
    let mut statements = vec![statement(AUDIT_SID, &audit_actions(&enabled))];
    let organization = organization_actions(&enabled);
    if !organization.is_empty() {
        statements.push(statement(ORGANIZATION_SID, &organization));
    }
    let discovery = config.map(discovery_actions).unwrap_or_default();
    if !discovery.is_empty() {
        statements.push(statement(DISCOVERY_SID, &discovery));
    }
    if let Some(queue) = config.and_then(crate::events::queue_statement) {
        statements.push(queue);
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// The audit role's policy alone (its `AuditReadOnly` statement): what every audited account's role
/// holds, and what `deploy/cloudformation/audit-role.yaml` embeds.
pub fn audit_role_policy(config: Option<&Config>) -> Value {
    let disabled = config.map(Config::disabled).unwrap_or_default();
    let enabled = catalog::enabled(&disabled);
    json!({ "Version": "2012-10-17", "Statement": [statement(AUDIT_SID, &audit_actions(&enabled))] })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions_of(policy: &Value, sid: &str) -> Vec<String> {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("no statement {sid} in {policy}"))["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect()
    }

    /// The default policy covers every operation of every need of the catalog and the session calls,
    /// sorted, unique, read-only (no action that writes), with no discovery statement; the
    /// organization-level facts are in their own statement, not in the audit role's.
    #[test]
    fn default_policy_covers_every_operation_and_only_reads() {
        let p = policy(None);
        assert_eq!(p["Version"], "2012-10-17");
        assert_eq!(p["Statement"].as_array().unwrap().len(), 2);
        assert_eq!(p["Statement"][0]["Effect"], "Allow");
        assert_eq!(p["Statement"][0]["Resource"], "*");
        let actions = actions_of(&p, AUDIT_SID);
        let organization = actions_of(&p, ORGANIZATION_SID);
        let mut sorted = actions.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(actions, sorted, "sorted and unique");
        let needs = catalog::needs_of(catalog::CATALOG);
        let per_account: BTreeSet<&str> = (needs.iter().filter(|n| !n.is_organization()))
            .flat_map(|n| n.operations().iter().map(|o| o.iam_action))
            .collect();
        for need in &needs {
            let (here, other) = if need.is_organization() {
                (&organization, &actions)
            } else {
                (&actions, &organization)
            };
            for op in need.operations() {
                assert!(here.iter().any(|a| a == op.iam_action), "{op:?}");
                // Only what an account's own facts read is in the audit role.
                if need.is_organization() && !per_account.contains(op.iam_action) {
                    assert!(
                        !other.iter().any(|a| a == op.iam_action),
                        "{op:?} in the audit role"
                    );
                }
            }
        }
        // The organization's facts: Organizations, IAM's organization features (centralized root
        // access), and the organization analyzers and Detective graphs of the management account,
        // read with the organization's credentials (a delegated administrator's through its audit
        // role).
        assert!(organization.iter().all(|a| a.starts_with("organizations:")
            || [
                "iam:ListOrganizationsFeatures",
                "access-analyzer:ListAnalyzers",
                "detective:ListGraphs",
                "detective:ListMembers"
            ]
            .contains(&a.as_str())));
        assert!(actions.iter().any(|a| a == "ec2:DescribeRegions"));
        assert!(actions.iter().any(|a| a == "sts:GetCallerIdentity"));
        // Generating the credential report and a principal's service last-accessed report are the
        // only calls that are not a List/Get/Describe/View (or BatchGet, a read of several at
        // once): IAM builds those reports asynchronously and the agent only reads them (both are
        // `Read` in AWS's Service Authorization Reference).
        let writes: Vec<_> = actions
            .iter()
            .filter(|a| {
                let verb = a.split(':').nth(1).unwrap();
                !["List", "Get", "Describe", "View", "BatchGet"]
                    .iter()
                    .any(|p| verb.starts_with(p))
            })
            .collect();
        assert_eq!(
            writes,
            [
                "iam:GenerateCredentialReport",
                "iam:GenerateServiceLastAccessedDetails"
            ]
        );
        let catalog = maturity_checks::policy::actions::catalog();
        for a in writes {
            let i = catalog.index(a).expect("a known action");
            assert_eq!(
                catalog.actions[i].level,
                maturity_checks::policy::actions::AccessLevel::Read,
                "{a}"
            );
        }
    }

    /// Disabling checks removes the actions only they need and keeps those others still need.
    #[test]
    fn disabled_checks_shrink_the_policy() {
        let all = actions_of(&policy(None), AUDIT_SID);
        let config = Config::parse(
            r#"
[[accounts]]
id = "111111111111"
name = "prod"
[checks]
disabled = ["guardduty_enabled", "guardduty_malware_protection_enabled", "guardduty_runtime_monitoring_enabled", "s3_bucket_versioning_enabled"]
"#,
        )
        .unwrap();
        let some = actions_of(&policy(Some(&config)), AUDIT_SID);
        assert!(all.iter().any(|a| a == "guardduty:ListDetectors"));
        assert!(
            !some.iter().any(|a| a.starts_with("guardduty:")),
            "{some:?}"
        );
        assert!(!some.iter().any(|a| a == "s3:GetBucketVersioning"));
        assert!(some.iter().any(|a| a == "s3:ListAllMyBuckets"));
        assert_eq!(all.len() - some.len(), 3, "{all:?} vs {some:?}");
        assert_eq!(
            policy(Some(&config))["Statement"].as_array().unwrap().len(),
            2
        );
        let no_org = Config::parse(
            "[[accounts]]\nid = \"111111111111\"\nname = \"prod\"\n[checks]\ndisabled = [\"organizations_environments_separated\", \"organizations_security_account_delegated\", \"iam_root_mfa_enabled\", \"iam_role_trust_no_foreign_accounts\", \"accessanalyzer_enabled\", \"detective_graph_covers_account\"]\n",
        )
        .unwrap();
        assert_eq!(
            policy(Some(&no_org))["Statement"].as_array().unwrap().len(),
            1,
            "no organization statement without the checks that read the organization"
        );
    }

    /// Discovery adds its own statement; the tags call only when tag rules are configured.
    #[test]
    fn discovery_adds_organizations_actions() {
        let base = r#"
[organization]
discover = true
"#;
        let p = policy(Some(&Config::parse(base).unwrap()));
        assert_eq!(
            actions_of(&p, DISCOVERY_SID),
            [
                "organizations:ListAccountsForParent",
                "organizations:ListOrganizationalUnitsForParent",
                "organizations:ListRoots",
            ]
        );
        let tagged = format!("{base}include_tags = {{ audit = \"yes\" }}\n");
        let p = policy(Some(&Config::parse(&tagged).unwrap()));
        assert!(actions_of(&p, DISCOVERY_SID)
            .iter()
            .any(|a| a == "organizations:ListTagsForResource"));
    }

    /// The hand-kept lists name exactly the operations the engine calls: every
    /// `"<Operation>"` passed to the call helpers in `organizations.rs` is in the discovery lists, and
    /// the session operations are called where the comments say.
    #[test]
    fn hand_kept_operations_match_the_engine_source() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../checks/src/collect/");
        // Organizations, and the organization analyzers and Detective graphs read in their holders.
        let org = ["organizations.rs", "accessanalyzer.rs", "detective.rs"]
            .map(|f| std::fs::read_to_string(format!("{root}{f}")).unwrap())
            .join("\n");
        let called: BTreeSet<&str> = org
            .split(['(', ',', ' ', '\n'])
            .filter_map(|t| t.strip_prefix('"')?.strip_suffix('"'))
            .filter(|t| t.starts_with(|c: char| c.is_ascii_uppercase()))
            .collect();
        // The file makes the discovery calls and reads the organization-level facts.
        let facts = catalog::needs_of(catalog::CATALOG)
            .into_iter()
            .filter(|n| n.is_organization())
            .flat_map(|n| n.operations().iter());
        let listed: BTreeSet<&str> = DISCOVERY_OPERATIONS
            .iter()
            .chain([&DISCOVERY_TAGS_OPERATION])
            .chain(facts)
            .map(|o| o.operation)
            .collect();
        assert_eq!(called, listed);
        let module = std::fs::read_to_string(format!("{root}mod.rs")).unwrap();
        let session = std::fs::read_to_string(format!("{root}session.rs")).unwrap();
        assert!(module.contains("\"DescribeRegions\""));
        assert!(session.contains("\"GetCallerIdentity\""));
    }
}
