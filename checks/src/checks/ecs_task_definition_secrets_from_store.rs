//! The containers that ECS services run receive secrets from Secrets Manager or Parameter Store,
//! not as plain environment variables.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

/// Fragments of an environment variable's name that say it holds a secret (upper case, compared
/// with the upper-cased name).
const SECRET_WORDS: [&str; 12] = [
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
    "AUTH_DATA",
    "CLIENT_KEY",
];

/// Suffixes of names that point at a secret rather than hold one (`DB_PASSWORD_SECRET_ARN`).
const REFERENCE_SUFFIXES: [&str; 5] = ["_ARN", "_NAME", "_FILE", "_PATH", "_PARAMETER"];

/// Whether an environment variable's name says it holds a secret.
pub(crate) fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| n.contains(w)) && !REFERENCE_SUFFIXES.iter().any(|s| n.ends_with(s))
}

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ecs_task_definition_secrets_from_store",
        title: "ECS services receive secrets from a secret store, not plain environment variables",
        practice: Practice::Environments,
        severity: Severity::High,
        activity: dsomm::ENVIRONMENT_CONFIGURATION_PARAMETERS,
        remediation: "Store the value in Secrets Manager or as an SSM SecureString parameter, \
                      move the variable from `environment` to `secrets` (valueFrom the secret's or \
                      parameter's ARN), give the task execution role read access, register the \
                      revision and update the service to it; then rotate the exposed value.",
        needs: &[Need::EcsTaskDefinitions],
        notes: "**Judges** the task definition each active service runs (each revision once): it \
fails when a container's plain `environment` has a variable whose **name** says it holds a secret \
— it contains PASSWORD, PASSWD, PASSPHRASE, SECRET, TOKEN, API_KEY, APIKEY, PRIVATE_KEY, \
ACCESS_KEY, CREDENTIAL, AUTH_DATA or CLIENT_KEY (any case; so Security Hub's three names are \
among them) and does not end in _ARN, _NAME, _FILE, _PATH or _PARAMETER (those point at a \
secret). It passes otherwise, counting the variables \
injected from `secrets`. Values are never read into the snapshot, stored or printed: the collector \
keeps variable names only. A region whose services or a task definition cannot be read is \
unknown; no service is not_applicable.

**Edge cases**: a heuristic on names misses a secret under a neutral name (`DB_URL` with a \
password inside) and flags a non-secret under a secret-looking one (`TOKEN_TTL`); the finding names \
the variable so a reviewer can tell, and an exception can accept it. `environmentFiles` (S3 \
objects) are not read. Whether the secret store's values are rotated and encrypted with a \
customer key (DSOMM's level-3 \"Handover of confidential parameters\") is judged for Secrets \
Manager by `secretsmanager_secret_rotation_enabled`; SSM parameters' keys are not judged.

**Differs from Prowler / Security Hub**: Security Hub ECS.8 flags only the names \
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and ECS_ENGINE_AUTH_DATA; Prowler's \
`ecs_task_definitions_no_environment_secrets` scans the values with detect-secrets, which needs \
the values in the scanner's hands. Ours judges a wider set of names and never handles a value.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_task_definition(snap, |region, def, _| {
        let name = super::ecs_task_definition_image_pinned::short(&def.arn);
        let plain: Vec<String> = def
            .containers
            .iter()
            .flat_map(|c| {
                c.environment_names
                    .iter()
                    .filter(|n| looks_secret(n))
                    .map(move |n| format!("{n} in {}", c.name))
            })
            .collect();
        let from_store: usize = def.containers.iter().map(|c| c.secret_names.len()).sum();
        vec![if plain.is_empty() {
            Verdict::pass(
                &def.arn,
                Some(region),
                format!(
                    "Task definition {name} has no secret-looking plain environment variable ({from_store} injected from a secret store)."
                ),
            )
        } else {
            Verdict::fail(
                &def.arn,
                Some(region),
                format!(
                    "Task definition {name} passes secret-looking values as plain environment variables: {}.",
                    plain.join(", ")
                ),
            )
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::ecs_task_definition_image_pinned::tests::*;
    use crate::model::Status;

    fn run(env: &[&str], secrets: &[&str]) -> Vec<Verdict> {
        let mut c = container("app", "x");
        c.environment_names = env.iter().map(|s| s.to_string()).collect();
        c.secret_names = secrets.iter().map(|s| s.to_string()).collect();
        evaluate(
            &with_definition(Ok(definition(vec![c]))),
            &Settings::default(),
        )
    }

    #[test]
    fn passes_secrets_from_the_store() {
        let v = run(&["LOG_LEVEL", "DB_PASSWORD_SECRET_ARN"], &["DB_PASSWORD"]);
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[0].reason,
            "Task definition api:3 has no secret-looking plain environment variable (1 injected from a secret store)."
        );
    }

    #[test]
    fn fails_secret_names_in_plain_environment() {
        let v = run(
            &[
                "db_password",
                "AWS_SECRET_ACCESS_KEY",
                "PORT",
                "ECS_ENGINE_AUTH_DATA",
            ],
            &[],
        );
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Task definition api:3 passes secret-looking values as plain environment variables: db_password in app, AWS_SECRET_ACCESS_KEY in app, ECS_ENGINE_AUTH_DATA in app."
        );
    }

    #[test]
    fn names_heuristic() {
        for secret in [
            "GITHUB_TOKEN",
            "StripeApiKey",
            "JWT_SECRET",
            "SSH_PRIVATE_KEY",
        ] {
            assert!(looks_secret(secret), "{secret}");
        }
        for plain in [
            "PORT",
            "API_URL",
            "TOKEN_PARAMETER",
            "SECRET_NAME",
            "LOG_LEVEL",
        ] {
            assert!(!looks_secret(plain), "{plain}");
        }
    }
}
