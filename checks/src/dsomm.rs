//! The OWASP DevSecOps Maturity Model (DSOMM 4.3.1) activities that our checks prove.
//!
//! Each check points at one of these constants; a test (`tests::every_activity_is_in_the_model`)
//! reads `../shared/dsomm/activities.tsv` and proves that every uuid exists there with the same name
//! and level, so a typo or a model update cannot silently mis-score an account.

use serde::Serialize;

/// One DSOMM activity: the unit of the maturity model that a check provides evidence for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Activity {
    /// The activity's uuid in the model (stable across model versions).
    pub uuid: &'static str,
    /// The activity's name as the model spells it.
    pub name: &'static str,
    /// The activity's level, 1 (basic) to 5 (advanced); a check's level is its activity's level.
    pub level: u8,
}

pub const MFA_FOR_ADMINS: Activity = Activity {
    uuid: "8098e416-e1ed-4ae4-a561-83efbe76bf57",
    name: "MFA for admins",
    level: 1,
};
pub const SIMPLE_ACCESS_CONTROL: Activity = Activity {
    uuid: "82e499d1-f463-4a4b-be90-68812a874af6",
    name: "Simple access control for systems",
    level: 1,
};
pub const EDGE_ENCRYPTION_IN_TRANSIT: Activity = Activity {
    uuid: "ad23be9c-5661-4f1f-81a3-5a5dc7061629",
    name: "Usage of edge encryption at transit",
    level: 1,
};
pub const CENTRALIZED_SYSTEM_LOGGING: Activity = Activity {
    uuid: "4eced38a-7904-4c45-adb0-50b663065540",
    name: "Centralized system logging",
    level: 1,
};
pub const MFA: Activity = Activity {
    uuid: "598e9f13-1ac8-4a01-b85e-8fab93ee81de",
    name: "MFA",
    level: 2,
};
pub const BACKUP: Activity = Activity {
    uuid: "5c61fd6b-8106-4c68-ac28-a8a42f1c67dc",
    name: "Backup",
    level: 2,
};
pub const BASELINE_HARDENING: Activity = Activity {
    uuid: "5992c38c-8597-4035-89db-d15820d81c3a",
    name: "Baseline Hardening of the environment",
    level: 2,
};
pub const ISOLATED_NETWORKS: Activity = Activity {
    uuid: "4ce24abd-8ba6-494c-828d-4d193e28e4a1",
    name: "Isolated networks for virtual environments",
    level: 2,
};
pub const ENCRYPTION_AT_REST: Activity = Activity {
    uuid: "0ff45fb8-7eef-46ed-9b3a-84c955cd7060",
    name: "Usage of encryption at rest",
    level: 2,
};
pub const ROLE_BASED_AUTHORIZATION: Activity = Activity {
    uuid: "070bb14b-e04a-4f3d-896a-a08eba7a35f9",
    name: "Role based authentication and authorization",
    level: 3,
};

#[cfg(test)]
mod tests {
    use crate::catalog::CATALOG;

    /// Every check's activity exists in the shipped DSOMM model with the same name and level.
    #[test]
    fn every_activity_is_in_the_model() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/dsomm/activities.tsv"
        );
        let tsv = std::fs::read_to_string(path).unwrap_or_else(|e| {
            panic!("cannot read {path}: {e} (shared/ must sit beside the project)")
        });
        let rows: Vec<Vec<&str>> = tsv
            .lines()
            .skip(1)
            .map(|l| l.split('\t').collect())
            .collect();
        assert!(rows.len() > 100, "activities.tsv looks truncated");
        for check in CATALOG {
            let a = check.meta.activity;
            let row = rows
                .iter()
                .find(|r| r.get(3) == Some(&a.uuid))
                .unwrap_or_else(|| {
                    panic!(
                        "{}: DSOMM uuid {} is not in activities.tsv",
                        check.meta.id, a.uuid
                    )
                });
            assert_eq!(
                row[2], a.name,
                "{}: activity name differs from the model",
                check.meta.id
            );
            assert_eq!(
                row[4],
                a.level.to_string(),
                "{}: activity level differs from the model",
                check.meta.id
            );
        }
    }
}
