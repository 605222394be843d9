//! The OWASP DevSecOps Maturity Model (DSOMM 4.3.1) activities that our checks prove.
//!
//! Each check points at one of these constants; a test (`tests::every_activity_is_in_the_model`)
//! reads the vendored model data (`checks/data/dsomm/activities.tsv`, its source in `SOURCE.md`
//! beside it) and proves that every uuid exists there with the same name and level, so a typo or a model update cannot silently mis-score an account.

use serde::Serialize;

/// One activity of the vendored DSOMM model (`checks/data/dsomm/activities.tsv`), with where the
/// DSOMM app shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelActivity {
    pub dimension: &'static str,
    pub subdimension: &'static str,
    pub name: &'static str,
    pub uuid: &'static str,
    pub level: u8,
}

/// Every activity of the vendored model, in its order (dimension, sub-dimension, level).
pub fn model() -> &'static [ModelActivity] {
    static M: std::sync::OnceLock<Vec<ModelActivity>> = std::sync::OnceLock::new();
    M.get_or_init(|| {
        include_str!("../data/dsomm/activities.tsv")
            .lines()
            .skip(1)
            .filter_map(|l| {
                let c: Vec<&'static str> = l.split('\t').collect();
                Some(ModelActivity {
                    dimension: c.first()?,
                    subdimension: c.get(1)?,
                    name: c.get(2)?,
                    uuid: c.get(3)?,
                    level: c.get(4)?.trim().parse().ok()?,
                })
            })
            .collect()
    })
}

/// The model's activity with this uuid.
pub fn find(uuid: &str) -> Option<&'static ModelActivity> {
    model().iter().find(|a| a.uuid == uuid)
}

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
pub const HARDENING_OF_THE_ENVIRONMENT: Activity = Activity {
    uuid: "dcf9601b-b4f2-4e25-9143-e39af75f7c33",
    name: "Hardening of the Environment",
    level: 4,
};
pub const DEFINITION_OF_CHANGE_MANAGEMENT: Activity = Activity {
    uuid: "b4193d32-3948-47e2-a326-3748c48019a1",
    name: "Definition of a change management process",
    level: 3,
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

pub const HANDOVER_OF_CONFIDENTIAL_PARAMETERS: Activity = Activity {
    uuid: "94a96f79-8bd6-4904-97c0-994ff88f176a",
    name: "Handover of confidential parameters",
    level: 3,
};
pub const TEST_FOR_UNUSED_RESOURCES: Activity = Activity {
    uuid: "6532c1fe-9d23-4228-8722-558ddabca7d4",
    name: "Test for unused Resources",
    level: 5,
};
pub const TEST_FOR_EXPOSED_SERVICES: Activity = Activity {
    uuid: "a6c4cefb-a0b7-4787-8cc7-a0f96b4b00d8",
    name: "Test for exposed services",
    level: 2,
};
pub const INTERNAL_ENCRYPTION_IN_TRANSIT: Activity = Activity {
    uuid: "ecb0184c-6bc9-45da-bbbb-a983797ffc93",
    name: "Usage of internal encryption at transit",
    level: 3,
};
pub const INVENTORY_OF_PRODUCTION_COMPONENTS: Activity = Activity {
    uuid: "2a44b708-734f-4463-b0cb-86dc46344b2f",
    name: "Inventory of production components",
    level: 1,
};
pub const LOGGING_OF_SECURITY_EVENTS: Activity = Activity {
    uuid: "ccfdd0a8-991e-4269-ad77-c0a54ca655cb",
    name: "Logging of security events",
    level: 2,
};
pub const SIMPLE_BUDGET_METRICS: Activity = Activity {
    uuid: "f08a3219-6941-43ec-8762-4aff739f4664",
    name: "Simple budget metrics",
    level: 1,
};
pub const ALERTING: Activity = Activity {
    uuid: "8a442d8e-0eb1-4793-a513-571aef982edd",
    name: "Alerting",
    level: 2,
};
pub const VISUALIZED_METRICS: Activity = Activity {
    uuid: "ded39bcf-4eaa-4c5f-9c94-09acde0a4734",
    name: "Visualized metrics",
    level: 2,
};
pub const ADVANCED_AVAILABILITY_METRICS: Activity = Activity {
    uuid: "ed715b38-c34b-40cd-83fd-ce807f306fc1",
    name: "Advanced availability and stability metrics",
    level: 3,
};
pub const AUDIT_OF_SYSTEM_EVENTS: Activity = Activity {
    uuid: "1cd5e4b8-be36-4726-adc7-d8f843f47ac8",
    name: "Audit of system events",
    level: 3,
};
pub const TEST_THE_CLOUD_CONFIGURATION: Activity = Activity {
    uuid: "46d6a2a8-f9dc-4c15-9fc8-1723cfecbddc",
    name: "Test the cloud configuration",
    level: 2,
};
pub const CORRELATION_OF_SECURITY_EVENTS: Activity = Activity {
    uuid: "ccf4561d-253f-4762-adcb-bc4622fd6fc5",
    name: "Correlation of security events",
    level: 5,
};
pub const ANALYZE_LOGS: Activity = Activity {
    uuid: "b217c8bb-5d61-4b41-a675-1083993f83b1",
    name: "Analyze logs",
    level: 3,
};
pub const FILTER_OUTGOING_TRAFFIC: Activity = Activity {
    uuid: "6df508ef-86fc-4c22-bd9f-646c3127ce7d",
    name: "Filter outgoing traffic",
    level: 3,
};
pub const WAF_BASELINE: Activity = Activity {
    uuid: "f0e01814-3b88-4bd0-a3a9-f91db001d20b",
    name: "WAF baseline",
    level: 3,
};
pub const SECURITY_BY_DEFAULT: Activity = Activity {
    uuid: "11b3848e-e931-4146-a35d-35409ada24ee",
    name: "Usage of security by default for components",
    level: 3,
};
pub const TEST_AND_PRODUCTION_ENVIRONMENTS: Activity = Activity {
    uuid: "bfdacb52-1e3f-431d-ae72-d844a5e86415",
    name: "Usage of test and production environments",
    level: 2,
};
pub const SECURITY_ACCOUNT: Activity = Activity {
    uuid: "746025a6-dbfb-4087-a000-e46acab64ee1",
    name: "Usage of an security account",
    level: 2,
};

pub const NIGHTLY_BUILD_OF_IMAGES: Activity = Activity {
    uuid: "34869eaf-f2e1-4926-b0bd-28c43402f057",
    name: "Nightly build of images (base images)",
    level: 2,
};
pub const MONITORING_OF_COSTS: Activity = Activity {
    uuid: "10e23a8c-22ff-4487-a706-87ccc9d0798e",
    name: "Monitoring of costs",
    level: 2,
};
pub const CHAOS_TECHNOLOGY: Activity = Activity {
    uuid: "f8e80f18-2503-4e3e-b3bc-7f67bb28defe",
    name: "Usage of a chaos technology",
    level: 4,
};
pub const WAF_MEDIUM: Activity = Activity {
    uuid: "f0e01814-3b88-4bd0-a3a9-f91db001d20b-medium",
    name: "WAF medium",
    level: 4,
};
pub const SECURE_HEADERS: Activity = Activity {
    uuid: "29318d60-18ce-4526-80ea-f5928e49f639",
    name: "Secure headers",
    level: 3,
};
pub const INFRASTRUCTURE_AS_CODE: Activity = Activity {
    uuid: "8b994601-575e-4ea5-b228-accb18c8e514",
    name: "Infrastructure as Code",
    level: 3,
};
pub const MAXIMUM_IMAGE_LIFETIME: Activity = Activity {
    uuid: "485a3383-7f2e-4dba-bb84-479377070904",
    name: "Usage of a maximum lifetime for images",
    level: 2,
};
pub const SHORT_MAXIMUM_IMAGE_LIFETIME: Activity = Activity {
    uuid: "6b96e5a0-ce34-4ea4-a88f-469d3b84546e",
    name: "Usage of a short maximum lifetime for images",
    level: 4,
};
pub const PINNING_OF_ARTIFACTS: Activity = Activity {
    uuid: "f3c4971e-9f4d-4e59-8ed0-f0bdb6262477",
    name: "Pinning of artifacts",
    level: 2,
};
pub const CONTAINERS_NON_ROOT: Activity = Activity {
    uuid: "a86c1fbc-28fd-4610-89a3-a7f73acfe45f",
    name: "Containers are running as non-root",
    level: 2,
};
pub const VIRTUAL_ENVIRONMENTS_LIMITED: Activity = Activity {
    uuid: "760f1056-b0ee-4f22-a35b-f65446f944ca",
    name: "Virtual environments are limited",
    level: 2,
};
pub const ENVIRONMENT_CONFIGURATION_PARAMETERS: Activity = Activity {
    uuid: "df428c9d-efa0-4226-9f47-a15bb53f822b",
    name: "Environment depending configuration parameters (secrets)",
    level: 2,
};
pub const ROLLING_UPDATE: Activity = Activity {
    uuid: "85d52588-f542-4225-a338-20dc22a5508d",
    name: "Rolling update on deployment",
    level: 3,
};
pub const CANARY_DEPLOYMENT: Activity = Activity {
    uuid: "c4204a32-2545-4424-b524-d1cc52b46abd",
    name: "Canary deployment",
    level: 4,
};
pub const BLUE_GREEN_DEPLOYMENT: Activity = Activity {
    uuid: "0cb2626b-fb0d-4a0f-9688-57f787310d97",
    name: "Blue/Green Deployment",
    level: 5,
};
pub const TEST_OF_VIRTUALIZED_ENVIRONMENTS: Activity = Activity {
    uuid: "58825d22-1ce6-4748-af81-0ec9956e4129",
    name: "Test of virtualized environments",
    level: 2,
};
pub const REGULAR_AUTOMATED_TESTS: Activity = Activity {
    uuid: "598897a2-358e-441f-984c-e12ec4f6110a",
    name: "Regular automated tests",
    level: 2,
};
pub const TEST_FOR_MALWARE: Activity = Activity {
    uuid: "837f8f90-adc2-4e6b-9ebb-60c2ee29494d",
    name: "Test for malware",
    level: 3,
};
pub const SOFTWARE_COMPOSITION_ANALYSIS: Activity = Activity {
    uuid: "26e1c6d5-5632-4ec7-80d2-e564b98732ad",
    name: "Software Composition Analysis",
    level: 4,
};
pub const TEST_INFRASTRUCTURE_KNOWN_VULNERABILITIES: Activity = Activity {
    uuid: "13367d8f-e37f-4197-a610-9ffca4fde261",
    name: "Test of infrastructure components for known vulnerabilities",
    level: 4,
};
pub const SIMPLE_SYSTEM_METRICS: Activity = Activity {
    uuid: "3d1f4c3b-f713-46d9-933a-54a014a26c03",
    name: "Simple system metrics",
    level: 1,
};
pub const CENTRALIZED_APPLICATION_LOGGING: Activity = Activity {
    uuid: "fe875e17-ae4a-45f8-a359-244aa4fcbc04",
    name: "Centralized application logging",
    level: 2,
};
pub const USAGE_OF_VULNERABILITY_MANAGEMENT_SYSTEM: Activity = Activity {
    uuid: "85ba5623-84be-4219-8892-808837be582d",
    name: "Usage of a vulnerability management system",
    level: 3,
};

#[cfg(test)]
mod tests {
    use crate::catalog::CATALOG;

    /// Every check's activity exists in the shipped DSOMM model with the same name and level.
    #[test]
    fn every_activity_is_in_the_model() {
        let tsv = include_str!("../data/dsomm/activities.tsv");
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
