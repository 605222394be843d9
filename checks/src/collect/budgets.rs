//! Budgets: the account's budgets and their notifications. Budgets is global: read once per
//! account; notifications once per budget, bounded by `PER_RESOURCE_CONCURRENCY`.

use super::{call, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::Fact;
use crate::snapshot::{Budget, Need};
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<Budget>>> {
    if !wants(needs, &[Need::Budgets]) {
        return None;
    }
    Some(budgets(c).await)
}

async fn budgets(c: &Collector<'_>) -> Fact<Vec<Budget>> {
    let client = &aws_sdk_budgets::Client::new(c.config);
    // Paginated by hand: the SDK has no paginator for DescribeBudgets.
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = call(
            c.recorder,
            "budgets",
            "DescribeBudgets",
            None,
            client
                .describe_budgets()
                .account_id(c.account_id)
                .set_next_token(token.clone())
                .send(),
        )
        .await?;
        for b in out.budgets() {
            names.push((
                b.budget_name().to_owned(),
                b.budget_type().as_str().to_owned(),
            ));
        }
        match out.next_token() {
            Some(t) if !t.is_empty() && Some(t) != token.as_deref() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    let budgets = stream::iter(names)
        .map(|(name, kind)| async move {
            let out = call(
                c.recorder,
                "budgets",
                "DescribeNotificationsForBudget",
                None,
                client
                    .describe_notifications_for_budget()
                    .account_id(c.account_id)
                    .budget_name(&name)
                    .max_results(100)
                    .send(),
            )
            .await;
            Budget {
                name,
                kind,
                notifications: out.map(|o| o.notifications().len()),
            }
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await;
    Ok(budgets)
}
