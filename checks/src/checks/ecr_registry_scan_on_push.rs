//! Every ECR repository's images are scanned for vulnerabilities automatically, on push or
//! continuously.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, EcrRepository, Need, RegistryScanning};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ecr_registry_scan_on_push",
        title: "ECR images are scanned automatically",
        practice: Practice::Monitoring,
        severity: Severity::Medium,
        activity: dsomm::REGULAR_AUTOMATED_TESTS,
        remediation: "Add a registry scanning rule for every repository (aws ecr \
                      put-registry-scanning-configuration --scan-type ENHANCED --rules \
                      '[{\"scanFrequency\":\"CONTINUOUS_SCAN\",\"repositoryFilters\":[{\"filter\":\"*\",\"filterType\":\"WILDCARD\"}]}]').",
        needs: &[Need::EcrRegistryScanning, Need::EcrRepositories],
        notes: "**Judges** each repository of `DescribeRepositories` against the region's \
`GetRegistryScanningConfiguration`: a repository passes when a rule with `scanFrequency` \
`SCAN_ON_PUSH` or `CONTINUOUS_SCAN` has a repository filter that matches its name (ECR's `*` \
wildcards), or, while the registry has basic scanning and no rule at all, when the repository's \
own `imageScanningConfiguration.scanOnPush` is on (the only case in which ECR still applies it). \
Otherwise it fails: its images are scanned only when someone asks. A region whose configuration or \
repositories cannot be read is unknown; no repository is not_applicable.

**Edge cases**: scanning on push tests each image once, automatically, which is what DSOMM's \
regular automated tests ask of an artifact store; whether new vulnerabilities in old images are \
found is the level-4 question of `ecr_registry_continuous_scanning`. Matching is case-blind \
(repository names are lower case).

**Differs from Prowler / Security Hub**: Prowler's `ecr_repositories_scan_images_on_push_enabled` \
reads the repository's `scanOnPush` flag, which registry rules supersede; ours reads the rule that \
applies, as Security Hub ECR.1 does, and falls back to the flag only where ECR uses it.",
        module: module_path!(),
    },
    evaluate,
};

/// Whether the registry scans the repository automatically, and how.
pub(crate) fn automatic(scanning: &RegistryScanning, repo: &EcrRepository) -> Option<String> {
    if let Some((rule, filter)) =
        scanning.rule_for(&repo.name, &["SCAN_ON_PUSH", "CONTINUOUS_SCAN"])
    {
        return Some(format!(
            "{} {} scanning by the rule for {filter}",
            rule.frequency, scanning.scan_type
        ));
    }
    (scanning.scan_type == "BASIC" && scanning.rules.is_empty() && repo.scan_on_push)
        .then(|| "its own scan-on-push setting".to_owned())
}

/// Judges every repository of every audited region with its region's registry scanning
/// configuration: `judge(region, repository, scanning)`; `unknown` for the repositories of a
/// region whose configuration, and for the region whose repositories, could not be read;
/// `not_applicable` without repositories.
pub(crate) fn per_scanned_repository(
    snap: &AccountSnapshot,
    judge: impl Fn(&str, &EcrRepository, &RegistryScanning) -> Verdict,
) -> Vec<Verdict> {
    let verdicts = super::per_region(
        snap,
        "ECR repositories",
        |r| &r.ecr_repositories,
        |region, repo| {
            vec![match &snap.regional[region].ecr_registry_scanning {
                Err(e) => super::unknown(&repo.arn, Some(region), e),
                Ok(scanning) => judge(region, repo, scanning),
            }]
        },
    );
    super::or_not_applicable(snap, verdicts, "ECR repositories in the audited regions")
}

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    per_scanned_repository(snap, |region, repo, scanning| {
        let name = &repo.name;
        match automatic(scanning, repo) {
                Some(how) => Verdict::pass(
                    &repo.arn,
                    Some(region),
                    format!("Repository {name} is scanned automatically ({how})."),
                ),
                None => Verdict::fail(
                    &repo.arn,
                    Some(region),
                    format!(
                        "Repository {name} is scanned only on request: no scan-on-push or continuous rule of the registry ({} scanning) matches it.",
                        scanning.scan_type
                    ),
                ),
            }
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::ScanningRule;

    pub(crate) fn scanning(kind: &str, rules: &[(&str, &str)]) -> RegistryScanning {
        RegistryScanning {
            scan_type: kind.into(),
            rules: rules
                .iter()
                .map(|(f, filter)| ScanningRule {
                    frequency: f.to_string(),
                    filters: vec![filter.to_string()],
                })
                .collect(),
        }
    }

    pub(crate) fn repo(name: &str, scan_on_push: bool) -> EcrRepository {
        EcrRepository {
            name: name.into(),
            arn: format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}"),
            tag_mutability: "MUTABLE".into(),
            tag_mutability_exclusions: vec![],
            scan_on_push,
            policy: Ok(None),
        }
    }

    fn run(sc: crate::facts::Fact<RegistryScanning>, repos: Vec<EcrRepository>) -> Vec<Verdict> {
        let mut s = snapshot();
        let r = s.regional.get_mut(REGION).unwrap();
        r.ecr_registry_scanning = sc;
        r.ecr_repositories = Ok(repos);
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_matching_rules_or_the_legacy_flag() {
        let v = run(
            Ok(scanning("ENHANCED", &[("CONTINUOUS_SCAN", "*")])),
            vec![repo("api", false)],
        );
        assert_eq!(
            v[0].reason,
            "Repository api is scanned automatically (CONTINUOUS_SCAN ENHANCED scanning by the rule for *)."
        );
        let v = run(
            Ok(scanning("BASIC", &[("SCAN_ON_PUSH", "prod-*")])),
            vec![repo("prod-api", false)],
        );
        assert_eq!(v[0].status, Status::Pass);
        let v = run(Ok(scanning("BASIC", &[])), vec![repo("api", true)]);
        assert_eq!(
            v[0].reason,
            "Repository api is scanned automatically (its own scan-on-push setting)."
        );
    }

    #[test]
    fn fails_unmatched_or_manual() {
        let v = run(
            Ok(scanning("BASIC", &[("SCAN_ON_PUSH", "prod-*")])),
            vec![repo("dev-api", true)],
        );
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Repository dev-api is scanned only on request: no scan-on-push or continuous rule of the registry (BASIC scanning) matches it."
        );
        let v = run(
            Ok(scanning("BASIC", &[("MANUAL", "*")])),
            vec![repo("api", true)],
        );
        assert_eq!(v[0].status, Status::Fail);
    }

    #[test]
    fn unknown_and_not_applicable() {
        let v = run(
            Err(denied(
                "ecr",
                "GetRegistryScanningConfiguration",
                Some(REGION),
            )),
            vec![repo("api", true)],
        );
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            run(Ok(scanning("BASIC", &[])), vec![])[0].status,
            Status::NotApplicable
        );
    }
}
