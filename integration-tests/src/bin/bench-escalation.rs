//! The privilege-escalation analysis on a synthetic account (CPU and memory only: no API call):
//! `--roles` roles (default 500) and `--policies` customer-managed policies (default 200), built as
//! real accounts are: most roles hold one to three scoped policies, a few CI roles hold
//! `iam:PassRole` (some on `*`), a few roles are administrators that Lambda or EC2 may assume, some
//! users and groups hold IAM writes on named resources. It runs the four least-privilege checks that
//! ask the evaluator and prints their CPU time, the verdicts, and the process's peak RSS.
//!
//! `cargo run -p integration-tests --bin bench-escalation -- --roles 500 --policies 200`

use maturity_checks::catalog::CATALOG;
use maturity_checks::settings::Settings;
use maturity_checks::snapshot::{
    AccountSnapshot, AuthorizationDetails, IamGroup, IamRole, IamUser, InlinePolicy, ManagedPolicy,
};
use std::time::Instant;

const ACCOUNT: &str = "111122223333";

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn trust(service: &str) -> Option<String> {
    Some(format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
    ))
}

const SERVICES: [&str; 8] = [
    "s3", "dynamodb", "sqs", "sns", "logs", "kms", "ecs", "lambda",
];

fn policy_doc(i: usize) -> String {
    let svc = SERVICES[i % SERVICES.len()];
    let svc2 = SERVICES[(i / 3) % SERVICES.len()];
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["{svc}:Get*","{svc}:List*","{svc}:Put*"],"Resource":"arn:aws:{svc}:*:{ACCOUNT}:app-{i}-*"}},{{"Effect":"Allow","Action":"{svc2}:Describe*","Resource":"*"}},{{"Effect":"Deny","Action":"{svc}:Delete*","Resource":"*","Condition":{{"Bool":{{"aws:MultiFactorAuthPresent":"false"}}}}}}]}}"#
    )
}

fn main() {
    let roles = arg("--roles", 500);
    let policies = arg("--policies", 200);
    let mut d = AuthorizationDetails::default();
    for i in 0..policies {
        let name = format!("app-{i}");
        d.policies.push(ManagedPolicy {
            name: name.clone(),
            arn: format!("arn:aws:iam::{ACCOUNT}:policy/{name}"),
            customer_managed: true,
            attachment_count: 1,
            default_document: Some(policy_doc(i)),
            other_versions: if i % 10 == 0 {
                vec![policy_doc(i + 1)]
            } else {
                vec![]
            },
            ..Default::default()
        });
    }
    let admin =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    for i in 0..roles {
        let name = format!("role-{i}");
        let (service, inline) = match i % 50 {
            // Administrators that a service may assume.
            0 => ("lambda.amazonaws.com", Some(admin.to_owned())),
            1 => ("ec2.amazonaws.com", Some(admin.to_owned())),
            // CI roles: PassRole on every role, or on a prefix, with code-running services.
            2 => ("codebuild.amazonaws.com", Some(r#"{"Statement":[{"Effect":"Allow","Action":["iam:PassRole","lambda:CreateFunction","lambda:InvokeFunction"],"Resource":"*"}]}"#.to_owned())),
            3 => ("codebuild.amazonaws.com", Some(r#"{"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::*:role/app-*","Condition":{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}},{"Effect":"Allow","Action":["ecs:RegisterTaskDefinition","ecs:RunTask"],"Resource":"*"}]}"#.to_owned())),
            // A role that may write its own policies.
            4 => ("ecs-tasks.amazonaws.com", Some(format!(r#"{{"Statement":{{"Effect":"Allow","Action":"iam:PutRolePolicy","Resource":"arn:aws:iam::{ACCOUNT}:role/{name}"}}}}"#))),
            _ => ("ecs-tasks.amazonaws.com", None),
        };
        d.roles.push(IamRole {
            name: name.clone(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            trust_policy: trust(service),
            attached_policy_arns: (0..1 + i % 3)
                .map(|k| {
                    format!(
                        "arn:aws:iam::{ACCOUNT}:policy/app-{}",
                        (i + k * 7) % policies.max(1)
                    )
                })
                .collect(),
            inline_policies: inline
                .map(|doc| {
                    vec![InlinePolicy {
                        name: "inline".into(),
                        document: doc,
                    }]
                })
                .unwrap_or_default(),
            in_instance_profile: i % 2 == 1,
            ..Default::default()
        });
    }
    for g in 0..10 {
        d.groups.push(IamGroup {
            name: format!("group-{g}"),
            arn: format!("arn:aws:iam::{ACCOUNT}:group/group-{g}"),
            attached_policy_arns: vec![format!("arn:aws:iam::{ACCOUNT}:policy/app-{g}")],
            inline_policies: vec![],
        });
    }
    for u in 0..50 {
        d.users.push(IamUser {
            name: format!("user-{u}"),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/user-{u}"),
            groups: vec![format!("group-{}", u % 10)],
            inline_policies: if u % 10 == 0 {
                vec![InlinePolicy {
                    name: "helpdesk".into(),
                    document: r#"{"Statement":{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::*:user/${aws:username}"}}"#.into(),
                }]
            } else {
                vec![]
            },
            ..Default::default()
        });
    }
    let mut snap = AccountSnapshot::new(ACCOUNT, &["us-east-1".to_owned()]);
    snap.iam.authorization = Ok(d);
    let settings = Settings::default();
    println!("account: {roles} roles, {policies} customer policies, 10 groups, 50 users");
    for id in [
        "iam_no_privilege_escalation",
        "iam_passrole_restricted",
        "iam_role_trust_no_foreign_accounts",
        "iam_role_unused",
    ] {
        let check = CATALOG
            .iter()
            .find(|c| c.meta.id == id)
            .expect("in the catalog");
        let start = Instant::now();
        let verdicts = (check.evaluate)(&snap, &settings);
        let took = start.elapsed();
        let fail = verdicts
            .iter()
            .filter(|v| v.status == maturity_checks::model::Status::Fail)
            .count();
        println!(
            "{id:<36} {:>8.1} ms  {:>4} verdicts  {:>4} fail",
            took.as_secs_f64() * 1000.0,
            verdicts.len(),
            fail
        );
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    println!("peak RSS of this process             {hwm}");
}
