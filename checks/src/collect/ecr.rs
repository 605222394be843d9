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

/// An image reference in an ECR private registry, parsed from a container's `image`:
/// `ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]/REPOSITORY[:TAG][@DIGEST]` (or the dual-stack
/// `ACCOUNT.dkr-ecr.REGION.on.aws/…`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct EcrImage {
    pub registry: String,
    pub region: String,
    pub repository: String,
    /// The tag the reference names (`latest` when it names neither a tag nor a digest).
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl EcrImage {
    /// The reference's parts, or `None` when it is not in an ECR private registry.
    pub(super) fn parse(image: &str) -> Option<EcrImage> {
        let (host, path) = image.split_once('/')?;
        let (registry, rest) = host.split_once('.')?;
        let region = rest
            .strip_prefix("dkr.ecr.")
            .and_then(|r| {
                r.strip_suffix(".amazonaws.com")
                    .or_else(|| r.strip_suffix(".amazonaws.com.cn"))
            })
            .or_else(|| {
                rest.strip_prefix("dkr-ecr.")
                    .and_then(|r| r.strip_suffix(".on.aws"))
            })?;
        if registry.len() != 12 || !registry.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (name, digest) = match path.split_once('@') {
            Some((n, d)) => (n, Some(d.to_owned())),
            None => (path, None),
        };
        // A tag follows the last `:` of the last path segment.
        let (repository, tag) = match name.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t.to_owned())),
            _ => (name, None),
        };
        let tag = match (&tag, &digest) {
            (None, None) => Some("latest".to_owned()),
            _ => tag,
        };
        Some(EcrImage {
            registry: registry.to_owned(),
            region: region.to_owned(),
            repository: repository.to_owned(),
            tag,
            digest,
        })
    }
}

/// What ECR says of one image: when it was pushed and its digest; `None` when ECR has no such
/// image (or repository).
pub(super) type Pushed = Option<(chrono::DateTime<chrono::Utc>, String)>;

/// At most this many image ids per `DescribeImages` call (AWS's limit).
const IMAGE_BATCH: usize = 100;

/// When each of `images` was pushed (`DescribeImages` with the image ids, per repository, a
/// hundred ids at a time; by digest when known, else by tag). ECR refuses a whole batch when one
/// of its images or the repository is gone (`ImageNotFoundException`,
/// `RepositoryNotFoundException`): such a batch is asked again one image at a time.
pub(super) async fn pushed_at(
    c: &Collector<'_>,
    images: BTreeSet<EcrImage>,
) -> std::collections::BTreeMap<EcrImage, Fact<Pushed>> {
    use aws_sdk_ecr::types::ImageIdentifier;
    let mut by_repo: std::collections::BTreeMap<(String, String, String), Vec<EcrImage>> =
        Default::default();
    for i in images {
        by_repo
            .entry((i.registry.clone(), i.region.clone(), i.repository.clone()))
            .or_default()
            .push(i);
    }
    let id = |i: &EcrImage| match &i.digest {
        Some(d) => ImageIdentifier::builder().image_digest(d).build(),
        None => ImageIdentifier::builder()
            .set_image_tag(i.tag.clone())
            .build(),
    };
    let mut out = std::collections::BTreeMap::new();
    for ((registry, region, repository), images) in by_repo {
        let client = aws_sdk_ecr::Client::new(&c.in_region(&region));
        let describe = |batch: &[EcrImage]| {
            let request = client
                .describe_images()
                .registry_id(&registry)
                .repository_name(&repository)
                .set_image_ids(Some(batch.iter().map(id).collect()));
            let region = region.clone();
            async move {
                let answer = call_or_absent(
                    c.recorder,
                    "ecr",
                    "DescribeImages",
                    Some(&region),
                    &["ImageNotFoundException", "RepositoryNotFoundException"],
                    request.send(),
                )
                .await?;
                Ok::<_, FactError>(answer.map(|o| o.image_details().to_vec()))
            }
        };
        let find = |details: &[aws_sdk_ecr::types::ImageDetail], i: &EcrImage| -> Pushed {
            details
                .iter()
                .find(|d| match (&i.digest, &i.tag) {
                    (Some(digest), _) => d.image_digest() == Some(digest.as_str()),
                    (None, Some(tag)) => d.image_tags().iter().any(|t| t == tag),
                    (None, None) => false,
                })
                .and_then(|d| {
                    let at = d.image_pushed_at()?;
                    let at = chrono::DateTime::from_timestamp(at.secs(), at.subsec_nanos())?;
                    Some((at, d.image_digest().unwrap_or_default().to_owned()))
                })
        };
        for batch in images.chunks(IMAGE_BATCH) {
            match describe(batch).await {
                Err(e) => out.extend(batch.iter().map(|i| (i.clone(), Err(e.clone())))),
                Ok(Some(details)) => {
                    out.extend(batch.iter().map(|i| (i.clone(), Ok(find(&details, i)))))
                }
                Ok(None) => {
                    for i in batch {
                        let one = describe(std::slice::from_ref(i)).await;
                        let pushed = one.map(|d| d.and_then(|d| find(&d, i)));
                        out.insert(i.clone(), pushed);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::EcrImage;

    #[test]
    fn parses_ecr_references_only() {
        let i =
            EcrImage::parse("111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.4").unwrap();
        assert_eq!(
            (
                i.registry.as_str(),
                i.region.as_str(),
                i.repository.as_str()
            ),
            ("111122223333", "eu-west-1", "team/api")
        );
        assert_eq!((i.tag.as_deref(), i.digest.as_deref()), (Some("1.4"), None));
        let i = EcrImage::parse("111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/api@sha256:ab")
            .unwrap();
        assert_eq!(
            (i.region.as_str(), i.tag, i.digest.as_deref()),
            ("cn-north-1", None, Some("sha256:ab"))
        );
        let i = EcrImage::parse("111122223333.dkr-ecr.us-east-1.on.aws/api").unwrap();
        assert_eq!(i.tag.as_deref(), Some("latest"));
        let i = EcrImage::parse("111122223333.dkr.ecr.us-east-1.amazonaws.com/api:v1@sha256:cd")
            .unwrap();
        assert_eq!(
            (i.tag.as_deref(), i.digest.as_deref()),
            (Some("v1"), Some("sha256:cd"))
        );
        for other in [
            "nginx:1.25",
            "public.ecr.aws/nginx/nginx:1.25",
            "docker.io/library/nginx",
            "registry.example.com:5000/api:1",
            "abc.dkr.ecr.us-east-1.amazonaws.com/api",
        ] {
            assert_eq!(EcrImage::parse(other), None, "{other}");
        }
    }
}
