//! No SQS queue policy lets anyone use the queue: a resource policy statement whose principal is everyone and that no condition pins to
//! concrete accounts, an organization, source ARNs or a VPC ([`crate::policy::public`]).

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "sqs_queue_policy_not_public",
        title: "No SQS queue policy lets anyone use the queue",
        practice: Practice::LeastPrivilege,
        severity: Severity::Critical,
        activity: dsomm::TEST_FOR_EXPOSED_SERVICES,
        remediation: "Remove the statement with the `*` principal from the queue policy (aws sqs set-queue-attributes --attributes Policy=…), name the accounts or services that send, and pin service principals with aws:SourceArn or aws:SourceAccount.",
        needs: &[Need::SqsQueues],
        notes: super::public_policy_notes!(
            "`ListQueues` per audited region and `GetQueueAttributes` (`Policy`) per queue",
            "Prowler (`sqs_queues_not_publicly_accessible`) treats any condition on the `*` statement as restricting; ours requires a condition that pins the caller to concrete accounts, an organization, source ARNs in a concrete account or a VPC (a wildcard account in `aws:SourceArn` pins nothing)."
        ),
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_policy_resource(snap, "SQS queue", |r| &r.sqs_queues)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_statements_fail_pinned_and_absent_pass() {
        crate::checks::fixtures::resource_policy_cases(evaluate, "SQS queue", |r, items| {
            r.sqs_queues = items
        });
    }
}
