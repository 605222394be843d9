//! AWS Organizations: the accounts of the organization with their organizational unit path and
//! tags, read once per run from the management (or a delegated administrator) account.
//!
//! The OU tree is walked from the root (`ListRoots`, then per parent `ListOrganizationalUnitsForParent`
//! and `ListAccountsForParent`), which costs one call per OU rather than one `ListParents` per
//! account. Tags cost one `ListTagsForResource` per account and are read only when asked for.

use super::pages;
use crate::facts::{CallRecorder, Fact};
use aws_config::SdkConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
