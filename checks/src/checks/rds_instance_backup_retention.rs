//! Every RDS instance keeps automated backups for at least the configured number of days.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "rds_instance_backup_retention",
        title: "RDS instances and DB clusters keep automated backups long enough",
        practice: Practice::Backups,
        severity: Severity::Medium,
        activity: dsomm::BACKUP,
        remediation: "Set the backup retention period to at least the configured minimum where AWS \
                      keeps it: on the cluster for Aurora, Multi-AZ DB clusters, Neptune and \
                      DocumentDB (aws rds modify-db-cluster --backup-retention-period N), on the \
                      instance otherwise (aws rds modify-db-instance --backup-retention-period N); \
                      or cover the database with an AWS Backup plan.",
        needs: &[Need::RdsInstances],
        notes: "**Judges** `BackupRetentionPeriod` of every DB cluster (`DescribeDBClusters`: Aurora, \
Multi-AZ DB clusters, Neptune, DocumentDB) and of every DB instance that keeps its own backups \
(`DescribeDBInstances`), against `rds_min_backup_retention_days` (default 7); 0 is \"disabled\".\n\n\
**Edge cases**: cluster members are not judged as instances (AWS refuses `modify-db-instance` retention \
on them: the cluster's setting holds); read replicas of RDS for PostgreSQL, Oracle and SQL Server are \
not judged (RDS keeps no automated backups of such replicas; their source's backups hold the data), \
MySQL, MariaDB and Db2 replicas are; a region whose instance or cluster listing fails is `unknown`.\n\n\
**Differs from Prowler** `rds_instance_backup_enabled` (which fails PostgreSQL replicas and Aurora \
members one by one) and Security Hub RDS.11 (instances only): ours judges retention where AWS keeps \
it, with the remediation AWS accepts.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    let min = i32::from(settings.rds_min_backup_retention_days);
    let verdicts = super::per_database(
        snap,
        "RDS instances",
        |i| i.backups_judged_elsewhere().is_none(),
        |db, region| {
            let (kind, id, days) = (db.kind, db.id, db.backup_retention_days);
            if days >= min {
                Verdict::pass(
                    db.arn,
                    Some(region),
                    format!("{kind} {id} keeps automated backups for {days} days."),
                )
            } else if days == 0 {
                Verdict::fail(
                    db.arn,
                    Some(region),
                    format!("{kind} {id} has automated backups disabled."),
                )
            } else {
                Verdict::fail(
                    db.arn,
                    Some(region),
                    format!("{kind} {id} keeps automated backups for {days} days; at least {min} are required."),
                )
            }
        },
    );
    super::or_not_applicable(
        snap,
        verdicts,
        "RDS instances or DB clusters that keep their own automated backups in the audited regions",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::DbInstance;

    fn db(id: &str, days: i32) -> DbInstance {
        DbInstance {
            id: id.into(),
            arn: format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:{id}"),
            engine: "postgres".into(),
            backup_retention_days: days,
            storage_encrypted: true,
            cluster_id: None,
            replica_source: None,
            ..Default::default()
        }
    }

    fn run(dbs: crate::facts::Fact<Vec<DbInstance>>) -> Vec<Verdict> {
        let mut s = snapshot();
        let r = s.regional.get_mut(REGION).unwrap();
        r.db_instances = dbs;
        r.db_clusters = Ok(vec![]);
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_at_the_minimum() {
        let v = run(Ok(vec![db("orders", 7)]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:rds:eu-west-1:111122223333:db:orders",
                Some(REGION),
                "DB instance orders keeps automated backups for 7 days."
            )]
        );
    }

    #[test]
    fn fails_below_the_minimum_and_when_disabled() {
        let v = run(Ok(vec![db("short", 3), db("none", 0)]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "DB instance short keeps automated backups for 3 days; at least 7 are required."
        );
        assert_eq!(
            v[1].reason,
            "DB instance none has automated backups disabled."
        );
    }

    /// Aurora members are judged on their cluster (with the cluster's ARN); PostgreSQL replicas
    /// are not judged, MySQL replicas are.
    #[test]
    fn clusters_and_replicas() {
        let mut member = db("aurora-1", 1);
        member.engine = "aurora-postgresql".into();
        member.cluster_id = Some("orders".into());
        let mut pg_replica = db("pg-replica", 0);
        pg_replica.replica_source = Some("pg".into());
        let mut my_replica = db("my-replica", 0);
        my_replica.engine = "mysql".into();
        my_replica.replica_source = Some("my".into());
        let mut s = snapshot();
        let r = s.regional.get_mut(REGION).unwrap();
        r.db_instances = Ok(vec![member, pg_replica, my_replica]);
        r.db_clusters = Ok(vec![crate::snapshot::DbCluster {
            id: "orders".into(),
            arn: format!("arn:aws:rds:{REGION}:{ACCOUNT}:cluster:orders"),
            engine: "aurora-postgresql".into(),
            backup_retention_days: 1,
            storage_encrypted: true,
        }]);
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v.len(), 2, "{v:#?}");
        assert_eq!(
            v[0].resource,
            "arn:aws:rds:eu-west-1:111122223333:cluster:orders"
        );
        assert_eq!(
            v[0].reason,
            "DB cluster orders keeps automated backups for 1 days; at least 7 are required."
        );
        assert_eq!(
            v[1].reason,
            "DB instance my-replica has automated backups disabled."
        );
    }

    #[test]
    fn not_applicable_without_instances() {
        let v = run(Ok(vec![]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no RDS instances or DB clusters that keep their own automated backups in the audited regions."
        );
    }

    #[test]
    fn unknown_when_not_supported() {
        let e = crate::facts::FactError::new(
            "rds",
            "DescribeDBInstances",
            Some(REGION),
            crate::facts::ErrorKind::NotSupported,
            "HTTP 404 without an AWS error code",
        );
        let v = run(Err(e));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge RDS instances of eu-west-1: rds:DescribeDBInstances in eu-west-1 not supported by the endpoint (HTTP 404 without an AWS error code)."
        );
    }
}
