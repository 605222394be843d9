//! Every RDS DB instance and DB cluster encrypts its storage (and so its snapshots and automated
//! backups); a cluster member is judged once, on its cluster.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "rds_instance_storage_encrypted",
        title: "RDS DB instances and clusters encrypt their storage",
        practice: Practice::DataProtection,
        severity: Severity::High,
        activity: dsomm::ENCRYPTION_AT_REST,
        remediation: "Encryption cannot be turned on in place: snapshot the instance (or cluster), copy \
                      the snapshot with --kms-key-id, restore a new instance (or cluster) from the \
                      encrypted copy and switch over.",
        needs: &[Need::RdsInstances],
        notes: "**Judges** `StorageEncrypted` of every DB cluster (`DescribeDBClusters`: Aurora, \
Multi-AZ DB clusters, Neptune, DocumentDB) and of every DB instance outside a cluster.\n\n\
**Edge cases**: a cluster member is not judged as an instance (encryption is the cluster's, and the \
remediation restores the cluster); a region whose listing fails is `unknown`.\n\n\
**Agrees with Prowler** `rds_instance_storage_encrypted` and Security Hub RDS.3 on instances; unlike \
them it reports an unencrypted Aurora cluster once, on the cluster, rather than once per member.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    // A cluster member's storage is the cluster's, judged once on the cluster.
    let verdicts = super::per_database(
        snap,
        "DB instances",
        |i| i.cluster_id.is_none(),
        |db, region| {
            let (kind, id) = (db.kind, db.id);
            if db.storage_encrypted {
                Verdict::pass(
                    db.arn,
                    Some(region),
                    format!("{kind} {id} encrypts its storage."),
                )
            } else {
                Verdict::fail(
                    db.arn,
                    Some(region),
                    format!("{kind} {id} stores its data unencrypted."),
                )
            }
        },
    );
    super::or_not_applicable(
        snap,
        verdicts,
        "RDS DB instances or clusters in the audited regions",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::DbInstance;

    fn db(encrypted: bool) -> DbInstance {
        DbInstance {
            id: "orders".into(),
            arn: format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:orders"),
            engine: "postgres".into(),
            backup_retention_days: 7,
            storage_encrypted: encrypted,
            cluster_id: None,
            replica_source: None,
            ..Default::default()
        }
    }

    fn run(d: crate::facts::Fact<Vec<DbInstance>>) -> Vec<Verdict> {
        let mut s = snapshot();
        let r = s.regional.get_mut(REGION).unwrap();
        r.db_instances = d;
        r.db_clusters = Ok(vec![]);
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_encrypted() {
        let v = run(Ok(vec![db(true)]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:rds:eu-west-1:111122223333:db:orders",
                Some(REGION),
                "DB instance orders encrypts its storage."
            )]
        );
    }

    #[test]
    fn fails_unencrypted() {
        let v = run(Ok(vec![db(false)]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "DB instance orders stores its data unencrypted."
        );
    }

    #[test]
    fn not_applicable_without_instances() {
        let v = run(Ok(vec![]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no RDS DB instances or clusters in the audited regions."
        );
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied("rds", "DescribeDBInstances", Some(REGION))));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge DB instances of eu-west-1: rds:DescribeDBInstances in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
