//! Which accounts a run audits: the static `[[accounts]]` list, plus the accounts discovered through
//! AWS Organizations filtered by the include/exclude rules. A static entry wins over a discovered one
//! with the same id (its name, role and external id are kept).

use crate::config::{Config, OrganizationConfig};
use maturity_checks::audit::{MemberRole, Reach, Target};
use maturity_checks::collect::organizations::{self, OrgAccount};
use maturity_checks::collect::session;
use maturity_checks::facts::CallRecorder;

/// Whether a discovered account passes the rules.
pub fn selected(rules: &OrganizationConfig, a: &OrgAccount) -> bool {
    let on_path = |ous: &[String]| {
        ous.iter()
            .any(|o| a.ou_path.contains(o) || a.ou_names.contains(o))
    };
    if a.status != "ACTIVE" {
        return false;
    }
    if !rules.include_account_ids.is_empty()
        && !rules.include_account_ids.iter().any(|i| i.0 == a.id)
    {
        return false;
    }
    if rules.exclude_account_ids.iter().any(|i| i.0 == a.id) {
        return false;
    }
    if !rules.include_ous.is_empty() && !on_path(&rules.include_ous) {
        return false;
    }
    if on_path(&rules.exclude_ous) {
        return false;
    }
    if !rules
        .include_tags
        .iter()
        .all(|(k, v)| a.tags.get(k) == Some(v))
    {
        return false;
    }
    !rules
        .exclude_tags
        .iter()
        .any(|(k, v)| a.tags.get(k) == Some(v))
}

/// The `[[accounts]]` of the config.
fn static_targets(config: &Config) -> Vec<Target> {
    config
        .accounts
        .iter()
        .map(|a| {
            let a = a.get_ref();
            Target {
                account_id: a.id.get_ref().0.clone(),
                account_name: a.name.clone(),
                role_arn: a.role_arn.as_ref().map(|r| r.get_ref().0.clone()),
                external_id: a.external_id.clone(),
            }
        })
        .collect()
}

/// The targets of a run. Discovery failing is an error for the run (the caller keeps the previous
/// state); the static accounts alone never fail here.
pub async fn resolve(
    config: &Config,
    base: &aws_config::SdkConfig,
    rec: &CallRecorder,
) -> Result<Vec<Target>, String> {
    let mut targets = static_targets(config);
    let org = &config.organization;
    if !org.discover {
        return Ok(targets);
    }
    let mgmt = match &org.management_role_arn {
        None => base.clone(),
        Some(role) => {
            let role = role.get_ref();
            session::account_config(
                base,
                role.account(),
                Some(&role.0),
                org.external_id.as_deref(),
                rec,
            )
            .await
            .map_err(|e| format!("cannot reach the organization: {e}"))?
        }
    };
    let with_tags = !org.include_tags.is_empty() || !org.exclude_tags.is_empty();
    let accounts = organizations::list_accounts(&mgmt, rec, with_tags)
        .await
        .map_err(|e| format!("cannot list the organization's accounts: {e}"))?;
    let partition = partition_of(config);
    for a in accounts.iter().filter(|a| selected(org, a)) {
        if targets.iter().any(|t| t.account_id == a.id) {
            continue;
        }
        targets.push(Target {
            account_id: a.id.clone(),
            account_name: a.name.clone(),
            role_arn: Some(format!(
                "arn:{partition}:iam::{}:role/{}",
                a.id, org.role_name
            )),
            external_id: org.external_id.clone(),
        });
    }
    Ok(targets)
}

/// How a run reaches an account it was not given (a holder of organization-level facts): the
/// static accounts, and the members' role when the organization is discovered.
pub fn reach(config: &Config) -> Reach {
    let org = &config.organization;
    Reach {
        accounts: static_targets(config),
        member_role: org.discover.then(|| MemberRole {
            name: org.role_name.clone(),
            external_id: org.external_id.clone(),
            partition: partition_of(config).to_owned(),
        }),
    }
}

/// The ARN partition of the configured regions (`aws`, `aws-cn`, `aws-us-gov`).
pub(crate) fn partition_of(config: &Config) -> &'static str {
    let first = config.home_region();
    if first.starts_with("cn-") {
        "aws-cn"
    } else if first.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AccountId;

    fn account(id: &str, ous: &[&str], tags: &[(&str, &str)]) -> OrgAccount {
        OrgAccount {
            id: id.into(),
            name: format!("acct-{id}"),
            status: "ACTIVE".into(),
            ou_path: ous.iter().map(|s| s.to_string()).collect(),
            ou_names: ous.iter().map(|s| format!("name-{s}")).collect(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// Ids, OUs (by id or name) and tags include and exclude; suspended accounts are never audited.
    #[test]
    fn rules_filter_discovered_accounts() {
        let prod = account(
            "111111111111",
            &["r-1", "ou-prod"],
            &[("Environment", "production")],
        );
        let dev = account(
            "222222222222",
            &["r-1", "ou-dev"],
            &[("Environment", "dev")],
        );
        let all = OrganizationConfig::default();
        assert!(selected(&all, &prod) && selected(&all, &dev));

        let only_prod_ou = OrganizationConfig {
            include_ous: vec!["ou-prod".into()],
            ..Default::default()
        };
        assert!(selected(&only_prod_ou, &prod) && !selected(&only_prod_ou, &dev));
        let not_dev_by_name = OrganizationConfig {
            exclude_ous: vec!["name-ou-dev".into()],
            ..Default::default()
        };
        assert!(selected(&not_dev_by_name, &prod) && !selected(&not_dev_by_name, &dev));
        let tagged = OrganizationConfig {
            include_tags: [("Environment".to_string(), "production".to_string())].into(),
            ..Default::default()
        };
        assert!(selected(&tagged, &prod) && !selected(&tagged, &dev));
        let no_mgmt = OrganizationConfig {
            exclude_account_ids: vec![AccountId("111111111111".into())],
            ..Default::default()
        };
        assert!(!selected(&no_mgmt, &prod) && selected(&no_mgmt, &dev));
        let mut suspended = dev.clone();
        suspended.status = "SUSPENDED".into();
        assert!(!selected(&all, &suspended));
    }
}
