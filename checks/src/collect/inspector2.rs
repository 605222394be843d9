//! Amazon Inspector: the account's scan status per resource type in one region
//! (`BatchGetAccountStatus` for the audited account itself).

use super::{call, wants, Collector};
use crate::facts::{ErrorKind, Fact, FactError};
use crate::snapshot::{Inspector2Status, Need};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Inspector2Status>> {
    if !wants(needs, &[Need::Inspector2AccountStatus]) {
        return None;
    }
    let client = aws_sdk_inspector2::Client::new(&c.in_region(region));
    let out = call(
        c.recorder,
        "inspector2",
        "BatchGetAccountStatus",
        Some(region),
        client
            .batch_get_account_status()
            .account_ids(c.account_id)
            .send(),
    )
    .await;
    Some(out.and_then(|o| {
        let err = |why: String| {
            FactError::new(
                "inspector2",
                "BatchGetAccountStatus",
                Some(region),
                ErrorKind::Other,
                why,
            )
        };
        if let Some(f) = o
            .failed_accounts()
            .iter()
            .find(|f| f.account_id() == c.account_id)
        {
            return Err(err(format!(
                "{}: {}",
                f.error_code().as_str(),
                f.error_message()
            )));
        }
        let account = o
            .accounts()
            .iter()
            .find(|a| a.account_id() == c.account_id)
            .ok_or_else(|| {
                err(format!(
                    "the answer has no status of account {}",
                    c.account_id
                ))
            })?;
        let status = |s: Option<&aws_sdk_inspector2::types::State>| {
            s.map(|s| s.status().as_str().to_owned())
                .unwrap_or_else(|| "DISABLED".to_owned())
        };
        let r = account.resource_state();
        Ok(Inspector2Status {
            ec2: status(r.and_then(|r| r.ec2())),
            ecr: status(r.and_then(|r| r.ecr())),
            lambda: status(r.and_then(|r| r.lambda())),
        })
    }))
}
