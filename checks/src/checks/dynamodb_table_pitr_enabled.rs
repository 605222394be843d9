//! Every DynamoDB table has point-in-time recovery enabled (continuous backups for 35 days).

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "dynamodb_table_pitr_enabled",
        title: "DynamoDB tables have point-in-time recovery enabled",
        practice: Practice::Backups,
        severity: Severity::Medium,
        activity: dsomm::BACKUP,
        remediation: "Enable point-in-time recovery (aws dynamodb update-continuous-backups \
                      --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true).",
        needs: &[Need::DynamoDbTables],
        notes:
            "**Judges** `ListTables` per audited region and `DescribeContinuousBackups` per table: \
`PointInTimeRecoveryStatus` `ENABLED` passes, anything else fails; an unreadable table is \
unknown; a region whose listing fails is unknown; no table is not_applicable.

**Edge cases**: each replica of a global table is a table of its region and is judged there. A \
table being created or deleted answers an error and is unknown, never a failure. AWS Backup \
coverage of the table is not a substitute: PITR restores to the second, backups to the schedule.

**Differs from Prowler / Security Hub**: agrees with Prowler's `dynamodb_tables_pitr_enabled` and \
Security Hub DynamoDB.2.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let verdicts = super::per_region(
        snap,
        "DynamoDB tables",
        |r| &r.dynamodb_tables,
        |region, t| {
            vec![match &t.pitr_enabled {
                Err(e) => super::unknown(&t.arn, Some(region), e),
                Ok(true) => Verdict::pass(
                    &t.arn,
                    Some(region),
                    format!("Table {} has point-in-time recovery enabled.", t.name),
                ),
                Ok(false) => Verdict::fail(
                    &t.arn,
                    Some(region),
                    format!("Table {} has point-in-time recovery disabled.", t.name),
                ),
            }]
        },
    );
    super::or_not_applicable(snap, verdicts, "DynamoDB tables in the audited regions")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::DynamoDbTable;

    fn table(pitr: crate::facts::Fact<bool>) -> DynamoDbTable {
        DynamoDbTable {
            name: "orders".into(),
            arn: format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"),
            pitr_enabled: pitr,
        }
    }

    fn run(t: crate::facts::Fact<Vec<DynamoDbTable>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().dynamodb_tables = t;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_pitr() {
        let v = run(Ok(vec![table(Ok(true))]));
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[0].reason,
            "Table orders has point-in-time recovery enabled."
        );
    }

    #[test]
    fn fails_without_pitr() {
        let v = run(Ok(vec![table(Ok(false))]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].resource,
            "arn:aws:dynamodb:eu-west-1:111122223333:table/orders"
        );
        assert_eq!(
            v[0].reason,
            "Table orders has point-in-time recovery disabled."
        );
    }

    #[test]
    fn not_applicable_without_tables() {
        let v = run(Ok(vec![]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no DynamoDB tables in the audited regions."
        );
    }

    #[test]
    fn unknown_when_backups_unreadable() {
        let v = run(Ok(vec![table(Err(denied(
            "dynamodb",
            "DescribeContinuousBackups",
            Some(REGION),
        )))]));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge arn:aws:dynamodb:eu-west-1:111122223333:table/orders: dynamodb:DescribeContinuousBackups in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
