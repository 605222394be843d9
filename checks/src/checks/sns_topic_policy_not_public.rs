//! No SNS topic policy lets anyone publish to or subscribe to the topic: a resource policy statement whose principal is everyone and that no condition pins to
//! concrete accounts, an organization, source ARNs or a VPC ([`crate::policy::public`]).

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "sns_topic_policy_not_public",
        title: "No SNS topic policy lets anyone publish to or subscribe to the topic",
        practice: Practice::LeastPrivilege,
        severity: Severity::Critical,
        activity: dsomm::TEST_FOR_EXPOSED_SERVICES,
        remediation: "Remove the `*` principal from the topic policy (aws sns set-topic-attributes --attribute-name Policy), name the publishing accounts or services, and pin service principals with aws:SourceArn or aws:SourceAccount.",
        needs: &[Need::SnsTopics],
        notes: super::public_policy_notes!(
            "`ListTopics` per audited region and `GetTopicAttributes` (`Policy`) per topic",
            "Prowler (`sns_topics_not_publicly_accessible`) accepts `aws:SourceOwner`/`aws:SourceArn` conditions of any value; ours requires concrete values (an `aws:SourceArn` with a wildcard account is public)."
        ),
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_policy_resource(snap, "SNS topic", |r| &r.sns_topics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_statements_fail_pinned_and_absent_pass() {
        crate::checks::fixtures::resource_policy_cases(evaluate, "SNS topic", |r, items| {
            r.sns_topics = items
        });
    }
}
