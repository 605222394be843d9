//! No EBS snapshot is public: a snapshot everyone may restore gives any AWS account a copy of the
//! volume's data.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ec2_ebs_snapshot_not_public",
        title: "No EBS snapshot is public",
        practice: Practice::DataProtection,
        severity: Severity::Critical,
        activity: dsomm::TEST_FOR_EXPOSED_SERVICES,
        remediation: "Remove the public permission (aws ec2 modify-snapshot-attribute --snapshot-id ID \
                      --attribute createVolumePermission --operation-type remove --group-names all) \
                      and turn on block public access for snapshots in the region (aws ec2 \
                      enable-snapshot-block-public-access --state block-all-sharing).",
        needs: &[Need::Ec2EbsSnapshots],
        notes: "**Judges** the account's own EBS snapshots per audited region from two listings, \
`DescribeSnapshots` with `OwnerIds` `self`, and the same with `RestorableByUserIds` `all` (the snapshots \
everyone may restore): a snapshot in the second fails, every other passes. No per-snapshot call is made, \
so an account with thousands of backup snapshots costs a few pages. Snapshots of other owners in an \
answer are not judged. A listing that fails makes the region `unknown`.\n\n\
**Edge cases**: a snapshot shared with named accounts passes (a deliberate copy); encrypted snapshots \
cannot be made public, so they pass by construction; the region's snapshot block-public-access setting \
is not read (with `block-all-sharing` nothing is listed as public anyway).\n\n\
**Differs from Prowler** (`ec2_ebs_public_snapshot`) and Security Hub EC2.1: Prowler reads \
`DescribeSnapshotAttribute` per snapshot; ours lists the public ones in one paged call.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let mut verdicts = super::per_region(
        snap,
        "EBS snapshots",
        |r| &r.ebs_snapshots,
        |region, s| {
            vec![if s.public {
                Verdict::fail(
                    &s.arn,
                    Some(region),
                    format!(
                        "EBS snapshot {} is public: any AWS account can create a volume from it.",
                        s.id
                    ),
                )
            } else {
                Verdict::pass(
                    &s.arn,
                    Some(region),
                    format!("EBS snapshot {} is not public.", s.id),
                )
            }]
        },
    );
    if verdicts.is_empty() {
        verdicts.push(Verdict::not_applicable(
            snap.account_resource(),
            None,
            "The account has no EBS snapshot in the audited regions.",
        ));
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::EbsSnapshot;

    #[test]
    fn public_fails_private_passes() {
        let mut s = snapshot();
        let snap = |id: &str, public| EbsSnapshot {
            id: id.into(),
            arn: format!("arn:aws:ec2:{REGION}::snapshot/{id}"),
            public,
        };
        s.regional.get_mut(REGION).unwrap().ebs_snapshots =
            Ok(vec![snap("snap-1", true), snap("snap-2", false)]);
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "EBS snapshot snap-1 is public: any AWS account can create a volume from it."
        );
        assert_eq!(v[1].status, Status::Pass);
        s.regional.get_mut(REGION).unwrap().ebs_snapshots = Ok(vec![]);
        assert_eq!(
            evaluate(&s, &Settings::default())[0].status,
            Status::NotApplicable
        );
    }
}
