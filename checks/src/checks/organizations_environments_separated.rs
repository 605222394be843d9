//! The account serves exactly one known environment, as its AWS Organizations environment tag says:
//! production workloads never share an account with non-production ones.
//!
//! The tag key is `environment_tag_key` (matched without regard to case); a value is known when it
//! is one of `production_environments`, `non_production_environments` or `security_environments`.
//! A missing tag, an unknown value, or a value naming several environments (`prod,dev`) fails.
//! Organizations is read once per run; when it cannot be read, or does not list the account, the
//! verdict is unknown.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "organizations_environments_separated",
        title: "Each account serves one environment, named by its environment tag",
        practice: Practice::Environments,
        severity: Severity::Medium,
        activity: dsomm::TEST_AND_PRODUCTION_ENVIRONMENTS,
        remediation: "Give production and non-production workloads separate AWS accounts, and tag \
                      each account in AWS Organizations with the one environment it serves \
                      (aws organizations tag-resource --resource-id ACCOUNT --tags \
                      Key=environment,Value=production); the key and the known values are the \
                      environment settings of [checks.settings].",
        needs: &[Need::OrganizationAccounts],
        notes: "**Judges** the audited account's AWS Organizations tags (`ListTagsForResource`, read once \
per run): every tag whose key is `environment_tag_key` (any case), values split on `, ; / | + &` \
and spaces. Pass with exactly one value from `production_environments`, \
`non_production_environments` or `security_environments`; fail with none, an unknown value or \
several; unknown when Organizations or the tags cannot be read or do not list the account.

**Edge cases**: `prod,dev` names two environments and fails; one value under two keys that \
differ only in case counts once. The management account is judged \
like any other: it should host no workload, and naming it needs a value in one of the lists.

**Differs from Prowler / Security Hub**: neither has an equivalent control; AWS's multi-account \
guidance (separate accounts per environment) is what it proves.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    let (_, _, me) = match super::org_member(snap) {
        Ok(m) => m,
        Err(unknown) => return vec![unknown],
    };
    let account = snap.account_resource();
    let key = &settings.environment_tag_key;
    let envs = match super::environments(me, key) {
        Ok(e) => e,
        Err(e) => return vec![super::unknown(&account, None, e)],
    };
    let label = format!("Account {} ({})", me.id, me.name);
    let verdict = match envs.as_slice() {
        [] => Verdict::fail(
            &account,
            None,
            format!("{label} has no {key} tag naming the environment it serves."),
        ),
        [one] => match settings.environment_kind(one) {
            Some(kind) => Verdict::pass(
                &account,
                None,
                format!("{label} serves one {} environment: {key}={one}.", kind.as_str()),
            ),
            None => Verdict::fail(
                &account,
                None,
                format!(
                    "{label} has {key}={one}, which is not a known environment (production: {}; non-production: {}; security: {}).",
                    settings.production_environments.join(", "),
                    settings.non_production_environments.join(", "),
                    settings.security_environments.join(", ")
                ),
            ),
        },
        several => Verdict::fail(
            &account,
            None,
            format!(
                "{label} has {key} tags naming several environments ({}): one account serves one environment.",
                several.join(", ")
            ),
        ),
    };
    vec![verdict]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use std::sync::Arc;

    fn run(tags: &[(&str, &str)]) -> Vec<Verdict> {
        let mut s = snapshot();
        s.organization = Ok(Arc::new(organization(&[(ACCOUNT, "shop", tags)], &[])));
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_with_one_known_environment() {
        assert_eq!(
            run(&[("Environment", "Prod"), ("team", "shop")]),
            vec![Verdict::pass(
                "account 111122223333",
                None,
                "Account 111122223333 (shop) serves one production environment: environment=Prod."
            )]
        );
        assert_eq!(
            run(&[("environment", "sandbox")])[0].reason,
            "Account 111122223333 (shop) serves one non-production environment: environment=sandbox."
        );
    }

    /// A missing tag, several environments in one value or across tags, and an unknown value fail.
    #[test]
    fn fails_without_one_known_environment() {
        let v = run(&[("team", "shop")]);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 (shop) has no environment tag naming the environment it serves."
        );
        let v = run(&[("Environment", "prod,dev")]);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 (shop) has environment tags naming several environments (prod, dev): one account serves one environment."
        );
        let v = run(&[("Environment", "prod"), ("environment", "staging")]);
        assert_eq!(v[0].status, Status::Fail);
        let v = run(&[("environment", "shared")]);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 (shop) has environment=shared, which is not a known environment (production: production, prod; non-production: staging, test, development, dev, qa, sandbox; security: security)."
        );
        // The same environment written twice is one environment.
        assert_eq!(
            run(&[("environment", "prod, PROD")])[0].status,
            Status::Pass
        );
    }

    /// The tag key comes from the settings.
    #[test]
    fn tag_key_is_configurable() {
        let mut s = snapshot();
        s.organization = Ok(Arc::new(organization(
            &[(ACCOUNT, "shop", &[("stage", "test")])],
            &[],
        )));
        let settings = Settings {
            environment_tag_key: "Stage".into(),
            ..Settings::default()
        };
        assert_eq!(
            evaluate(&s, &settings)[0].reason,
            "Account 111122223333 (shop) serves one non-production environment: Stage=test."
        );
    }

    /// Never not_applicable: every account of an organization serves some environment. An account
    /// the organization does not list is unknown, not a failure.
    #[test]
    fn unknown_when_the_organization_cannot_tell() {
        let mut s = snapshot();
        s.organization = Err(denied("organizations", "DescribeOrganization", None));
        assert_eq!(
            evaluate(&s, &Settings::default()),
            vec![Verdict::unknown(
                "account 111122223333",
                None,
                "Cannot judge account 111122223333: organizations:DescribeOrganization access denied (AccessDenied: not authorized)."
            )]
        );
        s.organization = Ok(Arc::new(organization(
            &[("444455556666", "other", &[])],
            &[],
        )));
        assert_eq!(
            evaluate(&s, &Settings::default())[0].reason,
            "Cannot judge account 111122223333: organization o-demo does not list it among its accounts."
        );
        let org = tags_denied(organization(&[(ACCOUNT, "shop", &[])], &[]), ACCOUNT);
        s.organization = Ok(Arc::new(org));
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: organizations:ListTagsForResource access denied (AccessDenied: not authorized)."
        );
    }
}
