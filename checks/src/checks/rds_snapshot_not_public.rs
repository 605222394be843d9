//! No manual RDS snapshot is shared with everyone: a `restore` attribute of `all` lets any AWS
//! account copy the database.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "rds_snapshot_not_public",
        title: "No RDS snapshot is shared publicly",
        practice: Practice::DataProtection,
        severity: Severity::Critical,
        activity: dsomm::TEST_FOR_EXPOSED_SERVICES,
        remediation: "Stop sharing the snapshot with everyone (aws rds modify-db-snapshot-attribute \
                      --attribute-name restore --values-to-remove all, or \
                      modify-db-cluster-snapshot-attribute for cluster snapshots); share it with named \
                      accounts if it must be shared.",
        needs: &[Need::RdsSnapshots],
        notes: "**Judges** every manual DB snapshot and DB cluster snapshot of `DescribeDBSnapshots` / \
`DescribeDBClusterSnapshots` per audited region by its `restore` attribute \
(`DescribeDBSnapshotAttributes` / `DescribeDBClusterSnapshotAttributes`, one call per snapshot: RDS \
has no listing that says which are public): `all` fails; sharing with named accounts passes (and the \
reason names how many). An attribute that cannot be read is `unknown`.\n\n\
**Edge cases**: automated snapshots cannot be shared and are not listed; encrypted snapshots cannot be \
made public by RDS, so they pass by construction; a snapshot shared with a foreign account is a \
deliberate cross-account copy, not exposure.\n\n\
**Differs from Prowler** (`rds_snapshots_public_access`) and Security Hub RDS.1: the same question, \
for instance and cluster snapshots alike.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let mut verdicts = super::per_region(
        snap,
        "DB snapshots",
        |r| &r.db_snapshots,
        |region, s| {
            let who = format!(
                "{} {}",
                if s.cluster {
                    "DB cluster snapshot"
                } else {
                    "DB snapshot"
                },
                s.id
            );
            vec![match &s.restore_shared_with {
                Err(e) => super::unknown(&s.arn, Some(region), e),
                Ok(with) if with.iter().any(|a| a == "all") => Verdict::fail(
                    &s.arn,
                    Some(region),
                    format!("{who} is public: any AWS account can restore it."),
                ),
                Ok(with) if with.is_empty() => {
                    Verdict::pass(&s.arn, Some(region), format!("{who} is not shared."))
                }
                Ok(with) => Verdict::pass(
                    &s.arn,
                    Some(region),
                    format!("{who} is shared with {} named account(s) only.", with.len()),
                ),
            }]
        },
    );
    if verdicts.is_empty() {
        verdicts.push(Verdict::not_applicable(
            snap.account_resource(),
            None,
            "The account has no manual RDS snapshot in the audited regions.",
        ));
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::DbSnapshot;

    fn snap_of(id: &str, cluster: bool, with: crate::facts::Fact<Vec<String>>) -> DbSnapshot {
        DbSnapshot {
            id: id.into(),
            arn: format!("arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:{id}"),
            cluster,
            restore_shared_with: with,
        }
    }

    #[test]
    fn all_fails_named_and_none_pass() {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().db_snapshots = Ok(vec![
            snap_of("open", false, Ok(vec!["all".into()])),
            snap_of("copy", true, Ok(vec!["444455556666".into()])),
            snap_of("private", false, Ok(vec![])),
            snap_of(
                "odd",
                false,
                Err(denied("rds", "DescribeDBSnapshotAttributes", Some(REGION))),
            ),
        ]);
        let v = evaluate(&s, &Settings::default());
        let got: Vec<(Status, &str)> = v.iter().map(|v| (v.status, v.reason.as_str())).collect();
        assert_eq!(
            got[0],
            (
                Status::Fail,
                "DB snapshot open is public: any AWS account can restore it."
            )
        );
        assert_eq!(
            got[1],
            (
                Status::Pass,
                "DB cluster snapshot copy is shared with 1 named account(s) only."
            )
        );
        assert_eq!(got[2].0, Status::Pass);
        assert_eq!(got[3].0, Status::Unknown);
    }
}
