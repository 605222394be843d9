//! Every RDS instance keeps automated backups for at least the configured number of days.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "rds_instance_backup_retention",
        title: "RDS instances keep automated backups long enough",
        practice: Practice::Backups,
        severity: Severity::Medium,
        activity: dsomm::BACKUP,
        remediation: "Set the instance's backup retention period (aws rds modify-db-instance \
                      --backup-retention-period N) to at least the configured minimum, or cover it with an \
                      AWS Backup plan.",
        needs: &[Need::RdsInstances],
        notes: "",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    let min = i32::from(settings.rds_min_backup_retention_days);
    let verdicts = super::per_region(
        snap,
        "RDS instances",
        |r| &r.db_instances,
        |region, db| {
            let days = db.backup_retention_days;
            vec![if days >= min {
                Verdict::pass(
                    &db.arn,
                    Some(region),
                    format!(
                        "DB instance {} keeps automated backups for {days} days.",
                        db.id
                    ),
                )
            } else if days == 0 {
                Verdict::fail(
                    &db.arn,
                    Some(region),
                    format!("DB instance {} has automated backups disabled.", db.id),
                )
            } else {
                Verdict::fail(
                &db.arn,
                Some(region),
                format!("DB instance {} keeps automated backups for {days} days; at least {min} are required.", db.id),
            )
            }]
        },
    );
    super::or_not_applicable(snap, verdicts, "RDS instances in the audited regions")
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
        }
    }

    fn run(dbs: crate::facts::Fact<Vec<DbInstance>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().db_instances = dbs;
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

    #[test]
    fn not_applicable_without_instances() {
        let v = run(Ok(vec![]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no RDS instances in the audited regions."
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
