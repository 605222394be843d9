//! ECR: the private repositories of one region (`DescribeRepositories`), each repository's policy
//! (`GetRepositoryPolicy`, only when a check needs it: AWS has no call that lists policies) and
//! the registry's scanning configuration.

use super::{call, call_or_absent, pages, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::{Fact, FactError};
use crate::snapshot::{EcrRepository, Need, RegistryScanning, ScanningRule};
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;

/// The repositories (with their policies when [`Need::EcrRepositoryPolicies`] is wanted) and the
/// registry scanning configuration of one region; `None` where no check needs them.
#[allow(clippy::type_complexity)]
pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> (
    Option<Fact<Vec<EcrRepository>>>,
    Option<Fact<RegistryScanning>>,
) {
    let want_repos = wants(needs, &[Need::EcrRepositories, Need::EcrRepositoryPolicies]);
    let want_scanning = wants(needs, &[Need::EcrRegistryScanning]);
    if !want_repos && !want_scanning {
        return (None, None);
    }
    let client = aws_sdk_ecr::Client::new(&c.in_region(region));
    let with_policies = needs.contains(&Need::EcrRepositoryPolicies);
    let (repos, scanning) = tokio::join!(
        async {
            if want_repos {
                Some(repositories(c, &client, region, with_policies).await)
            } else {
                None
            }
        },
        async {
            if want_scanning {
                Some(registry_scanning(c, &client, region).await)
            } else {
                None
            }
        }
    );
    (repos, scanning)
}

async fn repositories(
    c: &Collector<'_>,
    client: &aws_sdk_ecr::Client,
    region: &str,
    with_policies: bool,
) -> Fact<Vec<EcrRepository>> {
    let rec = c.recorder;
    let listing = pages(
        rec,
        "ecr",
        "DescribeRepositories",
        Some(region),
        client.describe_repositories().into_paginator().send(),
    )
    .await?;
    let repos: Vec<EcrRepository> = listing
        .iter()
        .flat_map(|p| p.repositories())
        .map(|r| EcrRepository {
            name: r.repository_name().unwrap_or_default().to_owned(),
            arn: r.repository_arn().unwrap_or_default().to_owned(),
            tag_mutability: r
                .image_tag_mutability()
                .map(|m| m.as_str().to_owned())
                .unwrap_or_else(|| "MUTABLE".to_owned()),
            tag_mutability_exclusions: r
                .image_tag_mutability_exclusion_filters()
                .iter()
                .map(|f| f.filter().to_owned())
                .collect(),
            scan_on_push: r
                .image_scanning_configuration()
                .is_some_and(|c| c.scan_on_push()),
            policy: Err(FactError::not_collected("ecr", "GetRepositoryPolicy")),
        })
        .collect();
    if !with_policies {
        return Ok(repos);
    }
    Ok(stream::iter(repos)
        .map(|mut repo| async move {
            repo.policy = call_or_absent(
                rec,
                "ecr",
                "GetRepositoryPolicy",
                Some(region),
                &["RepositoryPolicyNotFoundException"],
                client
                    .get_repository_policy()
                    .repository_name(&repo.name)
                    .send(),
            )
            .await
            .map(|o| o.and_then(|o| o.policy_text().map(str::to_owned)));
            repo
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await)
}

async fn registry_scanning(
    c: &Collector<'_>,
    client: &aws_sdk_ecr::Client,
    region: &str,
) -> Fact<RegistryScanning> {
    let out = call(
        c.recorder,
        "ecr",
        "GetRegistryScanningConfiguration",
        Some(region),
        client.get_registry_scanning_configuration().send(),
    )
    .await?;
    let Some(conf) = out.scanning_configuration() else {
        // No configuration is the registry's default: basic scanning, no rule.
        return Ok(RegistryScanning {
            scan_type: "BASIC".to_owned(),
            rules: vec![],
        });
    };
    Ok(RegistryScanning {
        scan_type: conf
            .scan_type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_else(|| "BASIC".to_owned()),
        rules: conf
            .rules()
            .iter()
            .map(|r| ScanningRule {
                frequency: r.scan_frequency().as_str().to_owned(),
                filters: r
                    .repository_filters()
                    .iter()
                    .map(|f| f.filter().to_owned())
                    .collect(),
            })
            .collect(),
    })
}
