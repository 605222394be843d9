//! Resource policies read as an attacker reads them: which statements let anyone (any AWS account,
//! or anonymous callers) use the resource. A statement is public when it is an `Allow` whose
//! principal is everyone (`"*"`, `{"AWS": "*"}`, or any `NotPrincipal`) and no positive condition
//! pins the caller to concrete accounts, an organization, principal or source ARNs in a concrete
//! account, or a VPC ([`super::trust`] decides pinning, for trust and resource policies alike:
//! `aws:SourceAccount`, `aws:SourceArn`, `aws:PrincipalOrgID`, `kms:CallerAccount`, … with concrete
//! values; `IfExists` on a key a stranger lacks pins nothing).

use super::document::PolicyDocument;
use super::trust::pinning_condition;

/// One public statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    /// The statement's label ("statement \"Public\"", "statement 2").
    pub statement: String,
    /// What it lets anyone do, as written: "sqs:SendMessage, sqs:ReceiveMessage", "every action
    /// but kms:Decrypt".
    pub actions: String,
}

/// The statements of `doc` that let anyone use the resource.
pub fn public_statements(doc: &PolicyDocument) -> Vec<Exposure> {
    doc.statements
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.allow && (s.principal_everyone || s.not_principal) && pinning_condition(s).is_none()
        })
        .map(|(i, s)| Exposure {
            statement: s.label(i),
            actions: if s.not_actions.is_empty() {
                s.actions.join(", ")
            } else {
                format!("every action but {}", s.not_actions.join(", "))
            },
        })
        .collect()
}

/// One sentence for a public resource: "statement 1 lets anyone call sqs:SendMessage".
pub fn describe(exposures: &[Exposure]) -> String {
    exposures
        .iter()
        .map(|e| format!("{} lets anyone call {}", e.statement, e.actions))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(doc: &str) -> Vec<String> {
        public_statements(&PolicyDocument::parse(doc).unwrap())
            .into_iter()
            .map(|e| format!("{}: {}", e.statement, e.actions))
            .collect()
    }

    #[test]
    fn anyone_unless_pinned() {
        assert_eq!(
            public(
                r#"{"Statement":[{"Sid":"Open","Effect":"Allow","Principal":"*","Action":["sqs:SendMessage"],"Resource":"*"}]}"#
            ),
            ["statement \"Open\": sqs:SendMessage"]
        );
        assert_eq!(
            public(
                r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"NotAction":"kms:Decrypt","Resource":"*"}}"#
            ),
            ["statement 1: every action but kms:Decrypt"]
        );
        for pinned in [
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:*:111122223333:bucket"}}}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":"111122223333","kms:ViaService":"s3.eu-west-1.amazonaws.com"}}}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}}"#,
            r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}}"#,
        ] {
            assert!(public(pinned).is_empty(), "{pinned}");
        }
        // A wildcard account in the source ARN, or IfExists on an organization key, pins nothing.
        for open in [
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:*:*:bucket"}}}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"*","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:*","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:PrincipalOrgID":"o-abc123"}}}}"#,
        ] {
            assert_eq!(public(open).len(), 1, "{open}");
        }
    }
}
