//! Every ECR repository is scanned continuously by Amazon Inspector (enhanced scanning): its
//! images' OS and language packages are re-checked whenever a new vulnerability is published.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ecr_registry_continuous_scanning",
        title: "ECR images are scanned continuously for vulnerable components",
        practice: Practice::Monitoring,
        severity: Severity::Medium,
        activity: dsomm::SOFTWARE_COMPOSITION_ANALYSIS,
        remediation: "Turn on enhanced scanning with a continuous rule for every repository \
                      (aws ecr put-registry-scanning-configuration --scan-type ENHANCED --rules \
                      '[{\"scanFrequency\":\"CONTINUOUS_SCAN\",\"repositoryFilters\":[{\"filter\":\"*\",\"filterType\":\"WILDCARD\"}]}]').",
        needs: &[Need::EcrRegistryScanning, Need::EcrRepositories],
        notes: "**Judges** each repository of `DescribeRepositories` against the region's \
`GetRegistryScanningConfiguration`: it passes when the registry's `scanType` is `ENHANCED` and a \
`CONTINUOUS_SCAN` rule's filter matches its name; it fails with basic scanning (operating-system \
packages only, once per push: no composition analysis of language dependencies) or when only a \
scan-on-push rule or none matches. A region whose configuration or repositories cannot be read \
is unknown; no repository is not_applicable.

**Edge cases**: enhanced scanning is Amazon Inspector's; turning it on in the registry enables \
Inspector's ECR scanning (whose account status `inspector2_scanning_enabled` judges). Inspector \
stops re-scanning images older than its configured re-scan duration; that duration is not judged.

**Differs from Prowler / Security Hub**: Prowler's `ecr_registry_scan_images_on_push_enabled` \
accepts any scan-on-push rule; this check asks for continuous composition analysis, DSOMM's \
level-4 activity, and leaves scan-on-push to `ecr_registry_scan_on_push`.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::ecr_registry_scan_on_push::per_scanned_repository(snap, |region, repo, scanning| {
        let name = &repo.name;
        let continuous = scanning.rule_for(name, &["CONTINUOUS_SCAN"]);
        match (scanning.scan_type.as_str(), continuous) {
                ("ENHANCED", Some((_, filter))) => Verdict::pass(
                    &repo.arn,
                    Some(region),
                    format!("Repository {name} is scanned continuously by Amazon Inspector (rule for {filter})."),
                ),
                ("ENHANCED", None) => Verdict::fail(
                    &repo.arn,
                    Some(region),
                    format!("Repository {name} has enhanced scanning but no continuous rule matches it: its images are not re-checked for newly published vulnerabilities."),
                ),
                (kind, _) => Verdict::fail(
                    &repo.arn,
                    Some(region),
                    format!("Repository {name} has {kind} scanning only: its images' language packages are not analysed."),
                ),
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::ecr_registry_scan_on_push::tests::{repo, scanning};
    use crate::checks::fixtures::*;
    use crate::model::Status;

    fn run(sc: crate::snapshot::RegistryScanning) -> Vec<Verdict> {
        let mut s = snapshot();
        let r = s.regional.get_mut(REGION).unwrap();
        r.ecr_registry_scanning = Ok(sc);
        r.ecr_repositories = Ok(vec![repo("api", true)]);
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_enhanced_continuous() {
        let v = run(scanning("ENHANCED", &[("CONTINUOUS_SCAN", "a*")]));
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[0].reason,
            "Repository api is scanned continuously by Amazon Inspector (rule for a*)."
        );
    }

    #[test]
    fn fails_basic_or_push_only() {
        let v = run(scanning("BASIC", &[("SCAN_ON_PUSH", "*")]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Repository api has BASIC scanning only: its images' language packages are not analysed."
        );
        let v = run(scanning("ENHANCED", &[("SCAN_ON_PUSH", "*")]));
        assert_eq!(v[0].status, Status::Fail);
        assert!(v[0].reason.contains("no continuous rule"));
    }
}
