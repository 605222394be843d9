//! IAM: account summary, credential report, authorization details. IAM is global: read once.

use super::{call, call_or_absent, pages, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::{ErrorKind, Fact, FactError};
use crate::policy::is_aws_managed;
use crate::snapshot::{
    AccountSummary, AuthorizationDetails, CredentialReportRow, IamFacts, IamGroup, IamRole,
    IamUser, InlinePolicy, ManagedPolicy, Need, PasswordPolicy, UserSignIn,
};
use aws_sdk_iam::types::{
    AttachedPolicy, EntityType, PolicyDetail, ReportStateType, SummaryKeyType,
};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// How often and how long to wait for IAM to generate the credential report: the first poll comes
/// soon (small accounts take well under a second), later ones back off to a few seconds.
const REPORT_POLLS: u32 = 15;
const REPORT_FIRST_POLL: Duration = Duration::from_millis(250);
const REPORT_MAX_POLL_INTERVAL: Duration = Duration::from_secs(4);

pub(super) async fn collect(c: &Collector<'_>, needs: &BTreeSet<Need>) -> IamFacts {
    let mut facts = IamFacts::default();
    if !wants(
        needs,
        &[
            Need::IamAccountSummary,
            Need::IamCredentialReport,
            Need::IamAuthorizationDetails,
            Need::IamPasswordPolicy,
            Need::IamServiceLastAccessed,
        ],
    ) {
        return facts;
    }
    let client = aws_sdk_iam::Client::new(c.config);
    let (summary, report, details, password) = tokio::join!(
        async {
            needs
                .contains(&Need::IamAccountSummary)
                .then_some(account_summary(c, &client).await)
        },
        async {
            if !needs.contains(&Need::IamCredentialReport) {
                return None;
            }
            let report = credential_report(c, &client).await;
            // The devices are listed per user of the report: they wait for it.
            let devices = match (&report, needs.contains(&Need::IamSignIn)) {
                (_, false) => None,
                (Ok((rows, _)), true) => Some(sign_in(c, &client, rows).await),
                (Err(e), true) => Some(Err(e.clone())),
            };
            Some((report, devices))
        },
        async {
            if !needs.contains(&Need::IamAuthorizationDetails) {
                return None;
            }
            let details = authorization(c, &client).await;
            // The jobs are per principal: they wait for the principals' listing.
            let access = if needs.contains(&Need::IamServiceLastAccessed) {
                Some(match &details {
                    Ok(d) => Ok(super::last_accessed::collect(c, &client, d).await),
                    Err(e) => Err(e.clone()),
                })
            } else {
                None
            };
            Some((details, access))
        },
        async {
            needs
                .contains(&Need::IamPasswordPolicy)
                .then_some(password_policy(c, &client).await)
        },
    );
    if let Some(p) = password {
        facts.password_policy = p;
    }
    if let Some(s) = summary {
        facts.account_summary = s;
    }
    if let Some((report, devices)) = report {
        match report {
            Ok((rows, generated)) => {
                facts.credential_report = Ok(rows);
                facts.credential_report_generated = generated;
            }
            Err(e) => facts.credential_report = Err(e),
        }
        if let Some(d) = devices {
            facts.sign_in = d;
        }
    }
    if let Some((d, access)) = details {
        facts.authorization = d;
        if let Some(a) = access {
            facts.service_last_accessed = a;
        }
    }
    facts
}

async fn account_summary(c: &Collector<'_>, client: &aws_sdk_iam::Client) -> Fact<AccountSummary> {
    let out = call(
        c.recorder,
        "iam",
        "GetAccountSummary",
        None,
        client.get_account_summary().send(),
    )
    .await?;
    let map = out.summary_map();
    let get = |k: SummaryKeyType| map.and_then(|m| m.get(&k)).copied().unwrap_or(0);
    Ok(AccountSummary {
        account_mfa_enabled: get(SummaryKeyType::AccountMfaEnabled) > 0,
        account_access_keys_present: get(SummaryKeyType::AccountAccessKeysPresent) > 0,
        account_password_present: get(SummaryKeyType::AccountPasswordPresent) > 0,
    })
}

/// The password policy; IAM answers `NoSuchEntity` when the account has none.
async fn password_policy(
    c: &Collector<'_>,
    client: &aws_sdk_iam::Client,
) -> Fact<Option<PasswordPolicy>> {
    let out = call_or_absent(
        c.recorder,
        "iam",
        "GetAccountPasswordPolicy",
        None,
        &["NoSuchEntity"],
        client.get_account_password_policy().send(),
    )
    .await?;
    Ok(out.and_then(|o| {
        o.password_policy().map(|p| PasswordPolicy {
            minimum_length: p.minimum_password_length().unwrap_or(0),
            require_symbols: p.require_symbols(),
            require_numbers: p.require_numbers(),
            require_uppercase: p.require_uppercase_characters(),
            require_lowercase: p.require_lowercase_characters(),
            reuse_prevention: p.password_reuse_prevention(),
        })
    }))
}

/// Asks IAM to generate the report (it answers COMPLETE at once when a report under four hours old
/// exists), polls until it is ready, then reads it. Generation is asynchronous, so polling
/// `GenerateCredentialReport` is the one operation that may be repeated; the polls are bounded.
async fn credential_report(
    c: &Collector<'_>,
    client: &aws_sdk_iam::Client,
) -> Fact<(Vec<CredentialReportRow>, Option<DateTime<Utc>>)> {
    let mut polls = 0;
    let mut wait = REPORT_FIRST_POLL;
    loop {
        let out = call(
            c.recorder,
            "iam",
            "GenerateCredentialReport",
            None,
            client.generate_credential_report().send(),
        )
        .await?;
        if out.state() == Some(&ReportStateType::Complete) {
            break;
        }
        polls += 1;
        if polls >= REPORT_POLLS {
            return Err(FactError::new(
                "iam",
                "GenerateCredentialReport",
                None,
                ErrorKind::Timeout,
                format!("the report was not ready after {polls} polls"),
            ));
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(REPORT_MAX_POLL_INTERVAL);
    }
    let out = call_or_absent(
        c.recorder,
        "iam",
        "GetCredentialReport",
        None,
        &[],
        client.get_credential_report().send(),
    )
    .await?
    .ok_or_else(|| {
        FactError::new(
            "iam",
            "GetCredentialReport",
            None,
            ErrorKind::Other,
            "no report",
        )
    })?;
    let content = out.content().map(|b| b.as_ref()).unwrap_or_default();
    let rows = parse_credential_report(content).map_err(|e| {
        FactError::new(
            "iam",
            "GetCredentialReport",
            None,
            ErrorKind::Other,
            format!("malformed report: {e}"),
        )
    })?;
    Ok((rows, out.generated_time().and_then(utc)))
}

/// Every user as IAM lists it now, with its console password and, where it holds a credential
/// (a password, or an active access key by the report), its MFA devices: the report can be four
/// hours old, and a device deactivated or a console user created since must show at once.
async fn sign_in(
    c: &Collector<'_>,
    client: &aws_sdk_iam::Client,
    rows: &[CredentialReportRow],
) -> Fact<BTreeMap<String, UserSignIn>> {
    let listing = pages(
        c.recorder,
        "iam",
        "ListUsers",
        None,
        client.list_users().into_paginator().send(),
    )
    .await?;
    let with_keys: BTreeSet<&str> = rows
        .iter()
        .filter(|r| !r.active_keys().is_empty())
        .map(|r| r.user.as_str())
        .collect();
    let users: Vec<(String, String, bool)> = listing
        .iter()
        .flat_map(|p| p.users())
        .map(|u| {
            let keys = with_keys.contains(u.user_name());
            (u.user_name().to_owned(), u.arn().to_owned(), keys)
        })
        .collect();
    Ok(stream::iter(users)
        .map(|(user, arn, keys)| async move {
            // No login profile (`NoSuchEntity`): no console password.
            let password = call_or_absent(
                c.recorder,
                "iam",
                "GetLoginProfile",
                None,
                &["NoSuchEntity"],
                client.get_login_profile().user_name(&user).send(),
            )
            .await
            .map(|o| o.is_some());
            let mfa_devices = if keys || password.as_ref().map_or(true, |p| *p) {
                // A user has at most eight devices: one page holds them all.
                call_or_absent(
                    c.recorder,
                    "iam",
                    "ListMFADevices",
                    None,
                    &["NoSuchEntity"],
                    client.list_mfa_devices().user_name(&user).send(),
                )
                .await
                .map(|o| o.map_or(0, |o| o.mfa_devices().len()))
            } else {
                Err(FactError::not_collected("iam", "ListMFADevices"))
            };
            (
                user,
                UserSignIn {
                    arn,
                    password,
                    mfa_devices,
                },
            )
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await)
}

fn flag(s: &str) -> bool {
    s.eq_ignore_ascii_case("true")
}

/// An SDK timestamp as a UTC time.
fn utc(t: &aws_sdk_iam::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

fn date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Parses the credential report CSV by column name (AWS may add columns).
pub(crate) fn parse_credential_report(content: &[u8]) -> Result<Vec<CredentialReportRow>, String> {
    let mut reader = csv::Reader::from_reader(content);
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or(format!("no column {name}"))
    };
    let (user, arn, pw, mfa) = (
        col("user")?,
        col("arn")?,
        col("password_enabled")?,
        col("mfa_active")?,
    );
    let pw_used = col("password_last_used")?;
    let (k1, k1r, k2, k2r) = (
        col("access_key_1_active")?,
        col("access_key_1_last_rotated")?,
        col("access_key_2_active")?,
        col("access_key_2_last_rotated")?,
    );
    // Columns read when present: the checks that need them say so when a date is missing.
    let optional = |name: &str| headers.iter().position(|h| h == name);
    let (created, changed, k1u, k2u) = (
        optional("user_creation_time"),
        optional("password_last_changed"),
        optional("access_key_1_last_used_date"),
        optional("access_key_2_last_used_date"),
    );
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let r = record.map_err(|e| format!("line {}: {e}", i + 2))?;
        let f = |c: usize| r.get(c).unwrap_or_default();
        let opt = |c: Option<usize>| c.and_then(|c| date(f(c)));
        rows.push(CredentialReportRow {
            user: f(user).to_owned(),
            arn: f(arn).to_owned(),
            is_root: f(user) == "<root_account>",
            password_enabled: flag(f(pw)),
            mfa_active: flag(f(mfa)),
            password_last_used: date(f(pw_used)),
            password_last_changed: opt(changed),
            user_creation_time: opt(created),
            access_key_1_active: flag(f(k1)),
            access_key_1_last_rotated: date(f(k1r)),
            access_key_1_last_used: opt(k1u),
            access_key_2_active: flag(f(k2)),
            access_key_2_last_rotated: date(f(k2r)),
            access_key_2_last_used: opt(k2u),
        });
    }
    Ok(rows)
}

fn attached(list: &[AttachedPolicy]) -> Vec<String> {
    list.iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect()
}

fn inline(list: &[PolicyDetail]) -> Vec<InlinePolicy> {
    list.iter()
        .map(|p| InlinePolicy {
            name: p.policy_name().unwrap_or_default().to_owned(),
            document: p.policy_document().unwrap_or_default().to_owned(),
        })
        .collect()
}

async fn authorization(
    c: &Collector<'_>,
    client: &aws_sdk_iam::Client,
) -> Fact<AuthorizationDetails> {
    let stream = client
        .get_account_authorization_details()
        .filter(EntityType::User)
        .filter(EntityType::Group)
        .filter(EntityType::Role)
        .filter(EntityType::LocalManagedPolicy)
        .into_paginator()
        .send();
    let pages = pages(
        c.recorder,
        "iam",
        "GetAccountAuthorizationDetails",
        None,
        stream,
    )
    .await?;
    let mut d = AuthorizationDetails::default();
    for page in pages {
        for u in page.user_detail_list() {
            d.users.push(IamUser {
                name: u.user_name().unwrap_or_default().to_owned(),
                arn: u.arn().unwrap_or_default().to_owned(),
                created: u.create_date().and_then(utc),
                groups: u.group_list().to_vec(),
                attached_policy_arns: attached(u.attached_managed_policies()),
                inline_policies: inline(u.user_policy_list()),
                permissions_boundary: u
                    .permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn())
                    .map(str::to_owned),
            });
        }
        for g in page.group_detail_list() {
            d.groups.push(IamGroup {
                name: g.group_name().unwrap_or_default().to_owned(),
                arn: g.arn().unwrap_or_default().to_owned(),
                attached_policy_arns: attached(g.attached_managed_policies()),
                inline_policies: inline(g.group_policy_list()),
            });
        }
        for r in page.role_detail_list() {
            d.roles.push(IamRole {
                name: r.role_name().unwrap_or_default().to_owned(),
                arn: r.arn().unwrap_or_default().to_owned(),
                trust_policy: r.assume_role_policy_document().map(str::to_owned),
                attached_policy_arns: attached(r.attached_managed_policies()),
                inline_policies: inline(r.role_policy_list()),
                permissions_boundary: r
                    .permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn())
                    .map(str::to_owned),
                in_instance_profile: !r.instance_profile_list().is_empty(),
                created: r.create_date().and_then(utc),
                last_used: r
                    .role_last_used()
                    .and_then(|u| u.last_used_date())
                    .and_then(utc),
            });
        }
        for p in page.policies() {
            let arn = p.arn().unwrap_or_default().to_owned();
            let default_document = p
                .policy_version_list()
                .iter()
                .find(|v| v.is_default_version() || v.version_id() == p.default_version_id())
                .and_then(|v| v.document().map(str::to_owned));
            // Some endpoints omit PolicyName here; the ARN's last segment is the name.
            let name = p
                .policy_name()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or_default())
                .to_owned();
            let other_versions = p
                .policy_version_list()
                .iter()
                .filter(|v| !(v.is_default_version() || v.version_id() == p.default_version_id()))
                .filter_map(|v| v.document().map(str::to_owned))
                .collect();
            d.policies.push(ManagedPolicy {
                name,
                other_versions,
                customer_managed: !is_aws_managed(&arn),
                arn,
                attachment_count: p.attachment_count().unwrap_or(0),
                permissions_boundary_usage_count: p.permissions_boundary_usage_count().unwrap_or(0),
                default_document,
                document_error: None,
            });
        }
    }
    // AWS-managed policies are not in the customer-managed listing: read the ones a principal
    // holds (attached or as its boundary), each once. Asking the listing for every AWS-managed
    // policy instead would move over a thousand documents per account.
    let listed: BTreeSet<&str> = d.policies.iter().map(|p| p.arn.as_str()).collect();
    let wanted: BTreeSet<String> = d
        .users
        .iter()
        .flat_map(|u| u.attached_policy_arns.iter().chain(&u.permissions_boundary))
        .chain(d.groups.iter().flat_map(|g| g.attached_policy_arns.iter()))
        .chain(
            d.roles
                .iter()
                .flat_map(|r| r.attached_policy_arns.iter().chain(&r.permissions_boundary)),
        )
        .filter(|a| is_aws_managed(a) && !listed.contains(a.as_str()))
        .cloned()
        .collect();
    for arn in wanted {
        // A policy that cannot be read leaves only the principals holding it unjudged.
        let policy = aws_managed_policy(c, client, &arn)
            .await
            .unwrap_or_else(|e| ManagedPolicy {
                name: crate::policy::principal::policy_name(&arn).to_owned(),
                arn: arn.clone(),
                document_error: Some(e.to_string()),
                ..Default::default()
            });
        d.policies.push(policy);
    }
    Ok(d)
}

/// One AWS-managed policy with its default version's document.
async fn aws_managed_policy(
    c: &Collector<'_>,
    client: &aws_sdk_iam::Client,
    arn: &str,
) -> Fact<ManagedPolicy> {
    let policy = call(
        c.recorder,
        "iam",
        "GetPolicy",
        None,
        client.get_policy().policy_arn(arn).send(),
    )
    .await?;
    let p = policy.policy();
    let version = p.and_then(|p| p.default_version_id()).unwrap_or("v1");
    let out = call(
        c.recorder,
        "iam",
        "GetPolicyVersion",
        None,
        client
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send(),
    )
    .await?;
    Ok(ManagedPolicy {
        name: p
            .and_then(|p| p.policy_name())
            .unwrap_or_else(|| crate::policy::principal::policy_name(arn))
            .to_owned(),
        arn: arn.to_owned(),
        customer_managed: false,
        attachment_count: p.and_then(|p| p.attachment_count()).unwrap_or(0),
        permissions_boundary_usage_count: p
            .and_then(|p| p.permissions_boundary_usage_count())
            .unwrap_or(0),
        default_document: out
            .policy_version()
            .and_then(|v| v.document())
            .map(str::to_owned),
        document_error: None,
        other_versions: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report is read by column name; root's `not_supported` password counts as not enabled.
    #[test]
    fn parses_credential_report_by_column() {
        let csv = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated\n\
<root_account>,arn:aws:iam::1:root,2020-01-01T00:00:00+00:00,not_supported,2024-01-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A\n\
bob,arn:aws:iam::1:user/bob,2020-01-01T00:00:00+00:00,true,no_information,2020-01-01T00:00:00+00:00,N/A,false,true,2023-05-01T10:00:00+00:00,N/A,N/A,N/A,false,N/A\n";
        let rows = parse_credential_report(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].is_root && !rows[0].password_enabled && rows[0].mfa_active);
        assert_eq!(rows[1].user, "bob");
        assert!(rows[1].password_enabled && !rows[1].mfa_active && rows[1].access_key_1_active);
        assert_eq!(
            rows[1].access_key_1_last_rotated.unwrap().to_rfc3339(),
            "2023-05-01T10:00:00+00:00"
        );
        assert_eq!(rows[1].password_last_used, None);
        assert_eq!(
            rows[1].password_last_changed.unwrap().to_rfc3339(),
            "2020-01-01T00:00:00+00:00"
        );
        assert_eq!(
            rows[1].user_creation_time.unwrap().to_rfc3339(),
            "2020-01-01T00:00:00+00:00"
        );
        assert_eq!(rows[1].access_key_1_last_used, None);
    }

    /// A report without a required column is an error naming the column.
    #[test]
    fn malformed_report_names_the_missing_column() {
        assert_eq!(
            parse_credential_report(b"user,arn\nx,y\n").unwrap_err(),
            "no column password_enabled"
        );
    }
}
