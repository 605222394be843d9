//! AWS Organizations: the accounts of the organization with their organizational unit path and
//! tags, read once per run from the management (or a delegated administrator) account.
//!
//! The OU tree is walked from the root (`ListRoots`, then per parent `ListOrganizationalUnitsForParent`
//! and `ListAccountsForParent`), which costs one call per OU rather than one `ListParents` per
//! account. Tags cost one `ListTagsForResource` per account and are read only when asked for.
//!
//! [`read_organization`] reads the facts of the `environments` checks once per run: the organization,
//! its accounts, the tags of the audited accounts, and the delegated administrators.

use super::{call, call_or_absent, pages};
use crate::facts::{CallRecorder, ErrorKind, Fact, FactError};
use crate::snapshot::{Need, OrgMember, Organization};
use aws_config::SdkConfig;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A member account as Organizations describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`.
    pub status: String,
    /// OU ids from the root down to the account's parent (the root id first).
    pub ou_path: Vec<String>,
    /// OU names along the same path (the root is `Root`).
    pub ou_names: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// Lists every account of the organization. `with_tags` adds one call per account.
pub async fn list_accounts(
    config: &SdkConfig,
    rec: &CallRecorder,
    with_tags: bool,
) -> Fact<Vec<OrgAccount>> {
    let org = aws_sdk_organizations::Client::new(config);
    let svc = "organizations";
    let roots = pages(
        rec,
        svc,
        "ListRoots",
        None,
        org.list_roots().into_paginator().send(),
    )
    .await?;
    // (parent id, path of ids, path of names)
    let mut queue: Vec<(String, Vec<String>, Vec<String>)> = roots
        .iter()
        .flat_map(|p| p.roots())
        .filter_map(|r| {
            r.id()
                .map(|id| (id.to_owned(), vec![id.to_owned()], vec!["Root".to_owned()]))
        })
        .collect();
    let mut accounts = Vec::new();
    while let Some((parent, ids, names)) = queue.pop() {
        let listing = org
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        for page in pages(rec, svc, "ListAccountsForParent", None, listing).await? {
            for a in page.accounts() {
                accounts.push(OrgAccount {
                    id: a.id().unwrap_or_default().to_owned(),
                    name: a.name().unwrap_or_default().to_owned(),
                    status: a
                        .status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    ou_path: ids.clone(),
                    ou_names: names.clone(),
                    tags: BTreeMap::new(),
                });
            }
        }
        let ous = org
            .list_organizational_units_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        for page in pages(rec, svc, "ListOrganizationalUnitsForParent", None, ous).await? {
            for ou in page.organizational_units() {
                let (Some(id), name) = (ou.id(), ou.name().unwrap_or_default()) else {
                    continue;
                };
                let mut child_ids = ids.clone();
                child_ids.push(id.to_owned());
                let mut child_names = names.clone();
                child_names.push(name.to_owned());
                queue.push((id.to_owned(), child_ids, child_names));
            }
        }
    }
    if with_tags {
        for a in &mut accounts {
            let listing = org
                .list_tags_for_resource()
                .resource_id(&a.id)
                .into_paginator()
                .send();
            for page in pages(rec, svc, "ListTagsForResource", None, listing).await? {
                for t in page.tags() {
                    a.tags.insert(t.key().to_owned(), t.value().to_owned());
                }
            }
        }
    }
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(accounts)
}

/// Reads what the organization-level needs ask for, once per run: the organization
/// (`DescribeOrganization`), its accounts (`ListAccounts`) with the tags of `tagged` accounts and of
/// every delegated administrator (`ListTagsForResource` each), and the delegated administrators
/// (`ListDelegatedAdministrators` without a service filter, then `ListDelegatedServicesForAccount`
/// per administrator: two calls per administrator rather than one per service of interest, and what
/// emulators answer for every service).
pub async fn read_organization(
    config: &SdkConfig,
    rec: &CallRecorder,
    needs: &BTreeSet<Need>,
    tagged: &[String],
) -> Fact<Organization> {
    let org = aws_sdk_organizations::Client::new(config);
    let svc = "organizations";
    // An account that belongs to no organization is a definite answer, not an error.
    let Some(described) = call_or_absent(
        rec,
        svc,
        "DescribeOrganization",
        None,
        &["AWSOrganizationsNotInUseException"],
        org.describe_organization().send(),
    )
    .await?
    else {
        return Ok(Organization::not_in_use());
    };
    let o = described
        .organization()
        .ok_or_else(|| incomplete("DescribeOrganization", "no organization"))?;
    let mut out = Organization {
        in_use: true,
        id: o.id().unwrap_or_default().to_owned(),
        management_account_id: o
            .master_account_id()
            .ok_or_else(|| incomplete("DescribeOrganization", "no management account id"))?
            .to_owned(),
        accounts: Err(FactError::not_collected(svc, "ListAccounts")),
        delegated_administrators: Err(FactError::not_collected(svc, "ListDelegatedAdministrators")),
        root_credentials_management: Err(FactError::not_collected(
            "iam",
            "ListOrganizationsFeatures",
        )),
        analyzers: Err(FactError::not_collected("access-analyzer", "ListAnalyzers")),
        detective: Err(FactError::not_collected("detective", "ListGraphs")),
    };
    if needs.contains(&Need::OrganizationRootCredentialsManagement) {
        let iam = aws_sdk_iam::Client::new(config);
        out.root_credentials_management = call(
            rec,
            "iam",
            "ListOrganizationsFeatures",
            None,
            iam.list_organizations_features().send(),
        )
        .await
        .map(|o| {
            o.enabled_features()
                .iter()
                .any(|f| f.as_str() == "RootCredentialsManagement")
        });
    }
    if needs.contains(&Need::OrganizationDelegatedAdministrators) {
        out.delegated_administrators = delegated_administrators(&org, rec).await;
    }
    if needs.contains(&Need::OrganizationAccounts) {
        let mut want_tags: BTreeSet<&str> = tagged.iter().map(String::as_str).collect();
        if let Ok(d) = &out.delegated_administrators {
            want_tags.extend(d.values().flatten().map(String::as_str));
        }
        out.accounts = members(&org, rec, &want_tags).await;
    }
    Ok(out)
}

/// Reads the tags of those of `accounts` that are members of `org` and whose tags it lacks (not
/// read, or a read that failed): a later part of a run reuses the organization read by an earlier
/// one and reads only the tags it adds.
pub async fn tag_members(
    config: &SdkConfig,
    rec: &CallRecorder,
    org: &mut Organization,
    accounts: &[String],
) {
    let Ok(members) = &mut org.accounts else {
        return;
    };
    let client = aws_sdk_organizations::Client::new(config);
    for id in accounts {
        if let Some(m) = members.get_mut(id).filter(|m| m.tags.is_err()) {
            m.tags = tags_of(&client, rec, id).await;
        }
    }
}

/// Whether `org` holds what a part of a run over `accounts` needs: every member among them has its
/// tags.
pub fn has_tags(org: &Organization, accounts: &[String]) -> bool {
    match &org.accounts {
        Ok(members) => accounts
            .iter()
            .all(|id| members.get(id).is_none_or(|m| m.tags.is_ok())),
        Err(_) => true,
    }
}

fn incomplete(operation: &str, what: &str) -> FactError {
    FactError::new("organizations", operation, None, ErrorKind::Other, what)
}

async fn members(
    org: &aws_sdk_organizations::Client,
    rec: &CallRecorder,
    want_tags: &BTreeSet<&str>,
) -> Fact<BTreeMap<String, OrgMember>> {
    let listing = pages(
        rec,
        "organizations",
        "ListAccounts",
        None,
        org.list_accounts().into_paginator().send(),
    )
    .await?;
    let mut members = BTreeMap::new();
    for a in listing.iter().flat_map(|p| p.accounts()) {
        let Some(id) = a.id() else { continue };
        let tags = if want_tags.contains(id) {
            tags_of(org, rec, id).await
        } else {
            Err(FactError::not_collected(
                "organizations",
                "ListTagsForResource",
            ))
        };
        members.insert(
            id.to_owned(),
            OrgMember {
                id: id.to_owned(),
                name: a.name().unwrap_or_default().to_owned(),
                status: a
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                tags,
            },
        );
    }
    Ok(members)
}

async fn tags_of(
    org: &aws_sdk_organizations::Client,
    rec: &CallRecorder,
    id: &str,
) -> Fact<BTreeMap<String, String>> {
    let listing = org
        .list_tags_for_resource()
        .resource_id(id)
        .into_paginator()
        .send();
    Ok(
        pages(rec, "organizations", "ListTagsForResource", None, listing)
            .await?
            .iter()
            .flat_map(|p| p.tags())
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect(),
    )
}

async fn delegated_administrators(
    org: &aws_sdk_organizations::Client,
    rec: &CallRecorder,
) -> Fact<BTreeMap<String, Vec<String>>> {
    let svc = "organizations";
    let admins = pages(
        rec,
        svc,
        "ListDelegatedAdministrators",
        None,
        org.list_delegated_administrators().into_paginator().send(),
    )
    .await?;
    let mut by_service: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for id in admins
        .iter()
        .flat_map(|p| p.delegated_administrators())
        .filter_map(|a| a.id())
    {
        let services = org
            .list_delegated_services_for_account()
            .account_id(id)
            .into_paginator()
            .send();
        for page in pages(rec, svc, "ListDelegatedServicesForAccount", None, services).await? {
            for s in page
                .delegated_services()
                .iter()
                .filter_map(|s| s.service_principal())
            {
                by_service
                    .entry(s.to_owned())
                    .or_default()
                    .push(id.to_owned());
            }
        }
    }
    Ok(by_service)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, tags: Fact<BTreeMap<String, String>>) -> (String, OrgMember) {
        let m = OrgMember {
            id: id.into(),
            name: id.into(),
            status: "ACTIVE".into(),
            tags,
        };
        (id.into(), m)
    }

    /// A kept organization serves a batch whose members all have their tags; a member not tagged
    /// yet, or whose tags could not be read, needs a read; accounts outside it need none.
    #[test]
    fn kept_organization_serves_batches_whose_tags_it_holds() {
        let mut org = Organization::not_in_use();
        org.in_use = true;
        org.accounts = Ok(BTreeMap::from([
            member("111", Ok(BTreeMap::new())),
            member(
                "222",
                Err(FactError::not_collected(
                    "organizations",
                    "ListTagsForResource",
                )),
            ),
            member(
                "333",
                Err(FactError::new(
                    "organizations",
                    "ListTagsForResource",
                    None,
                    ErrorKind::Throttled,
                    "slow",
                )),
            ),
        ]));
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(has_tags(&org, &ids(&["111", "999"])));
        assert!(!has_tags(&org, &ids(&["111", "222"])));
        assert!(!has_tags(&org, &ids(&["333"])));
        org.accounts = Err(FactError::not_collected("organizations", "ListAccounts"));
        assert!(has_tags(&org, &ids(&["222"])), "no members: nothing to tag");
    }
}
