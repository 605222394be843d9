//! IAM policy documents: parsing the JSON grammar (single values or lists wherever the grammar
//! allows one, a statement as an object or a list, `Action`/`NotAction`,
//! `Resource`/`NotResource`, `Principal`/`NotPrincipal`).

use serde::Deserialize;
use serde_json::Value;

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    pub statements: Vec<Statement>,
}

/// One statement. Single strings are normalised to one-element lists.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Statement {
    pub sid: Option<String>,
    pub allow: bool,
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub resources: Vec<String>,
    pub not_resources: Vec<String>,
    pub has_condition: bool,
    /// The `Condition` block as written (`Null` when absent).
    pub condition: Value,
    /// The principal is everyone: `"Principal": "*"` or `{"AWS": "*"}` (alone or in a list).
    pub principal_everyone: bool,
    /// `Principal` (or `NotPrincipal`, see `not_principal`) as written; `Null` when absent.
    pub principal: Value,
    /// The statement names its principals with `NotPrincipal`: it applies to everyone else.
    pub not_principal: bool,
}

impl Statement {
    /// `Allow` of every action (`*` or `*:*`) on every resource (`*`).
    pub fn is_full_admin(&self) -> bool {
        self.allow
            && self.not_actions.is_empty()
            && self.actions.iter().any(|a| a == "*" || a == "*:*")
            && self.resources.iter().any(|r| r == "*")
    }

    /// `Allow` of every action of one service (`iam:*`, `s3:*`, …) on every resource: the services
    /// so granted, in the order written.
    pub fn service_wildcards(&self) -> Vec<&str> {
        if !self.allow || !self.resources.iter().any(|r| r == "*") {
            return vec![];
        }
        self.actions
            .iter()
            .filter(|a| {
                a.split_once(':')
                    .is_some_and(|(svc, act)| act == "*" && svc != "*" && !svc.is_empty())
            })
            .map(String::as_str)
            .collect()
    }

    /// The condition's entries as (operator, key, values): every value as a string (booleans and
    /// numbers in their JSON spelling), single values as one-element lists.
    pub fn conditions(&self) -> Vec<(&str, &str, Vec<String>)> {
        let Some(ops) = self.condition.as_object() else {
            return vec![];
        };
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut out = Vec::new();
        for (op, block) in ops {
            let Some(block) = block.as_object() else {
                continue;
            };
            for (key, v) in block {
                let values = match v {
                    Value::Array(items) => items.iter().map(text).collect(),
                    other => vec![text(other)],
                };
                out.push((op.as_str(), key.as_str(), values));
            }
        }
        out
    }

    /// Whether the condition holds `key` with the value `value` under `operator` (keys compared
    /// case-insensitively as IAM does; single values or lists).
    pub fn condition_has(&self, operator: &str, key: &str, value: &str) -> bool {
        let Some(block) = self.condition.get(operator).and_then(Value::as_object) else {
            return false;
        };
        block.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case(key)
                && match v {
                    Value::String(s) => s.eq_ignore_ascii_case(value),
                    Value::Bool(b) => b.to_string() == value,
                    Value::Array(items) => items.iter().any(|i| {
                        i.as_str().is_some_and(|s| s.eq_ignore_ascii_case(value))
                            || i.as_bool().is_some_and(|b| b.to_string() == value)
                    }),
                    _ => false,
                }
        })
    }

    /// A short label for a reason: the Sid if present, else the statement's 1-based position.
    pub fn label(&self, index: usize) -> String {
        match &self.sid {
            Some(sid) if !sid.is_empty() => format!("statement \"{sid}\""),
            _ => format!("statement {}", index + 1),
        }
    }
}

#[derive(Deserialize)]
struct RawDocument {
    #[serde(rename = "Statement")]
    statement: Option<Value>,
}

/// Why a document could not be understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("is not valid JSON: {0}")]
    Json(String),
    #[error("has no Statement")]
    NoStatement,
    #[error("{0}")]
    Shape(String),
}

impl PolicyDocument {
    /// Parses a document as IAM returns it: URL-encoded JSON (as in `GetAccountAuthorizationDetails`)
    /// or plain JSON.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let decoded;
        let json = if text.trim_start().starts_with('{') {
            text
        } else {
            decoded = percent_encoding::percent_decode_str(text)
                .decode_utf8()
                .map_err(|e| PolicyError::Json(format!("URL-encoded text is not UTF-8: {e}")))?;
            &decoded
        };
        let raw: RawDocument =
            serde_json::from_str(json).map_err(|e| PolicyError::Json(e.to_string()))?;
        let statements = match raw.statement {
            None => return Err(PolicyError::NoStatement),
            Some(Value::Array(items)) => items,
            Some(obj @ Value::Object(_)) => vec![obj],
            Some(_) => {
                return Err(PolicyError::Shape(
                    "Statement is neither an object nor a list".into(),
                ))
            }
        };
        let statements = statements
            .iter()
            .enumerate()
            .map(|(i, s)| {
                parse_statement(s)
                    .map_err(|e| PolicyError::Shape(format!("statement {}: {e}", i + 1)))
            })
            .collect::<Result<_, _>>()?;
        Ok(PolicyDocument { statements })
    }

    /// The statements that allow every action on every resource, with their labels.
    pub fn full_admin_statements(&self) -> Vec<String> {
        self.statements
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_full_admin())
            .map(|(i, s)| s.label(i))
            .collect()
    }
}

fn parse_statement(v: &Value) -> Result<Statement, String> {
    let obj = v.as_object().ok_or("is not an object")?;
    let effect = obj
        .get("Effect")
        .and_then(Value::as_str)
        .ok_or("has no Effect")?;
    let allow = match effect {
        "Allow" => true,
        "Deny" => false,
        other => return Err(format!("has Effect \"{other}\", expected Allow or Deny")),
    };
    Ok(Statement {
        sid: obj.get("Sid").and_then(Value::as_str).map(str::to_owned),
        allow,
        actions: strings(obj.get("Action"), "Action")?,
        not_actions: strings(obj.get("NotAction"), "NotAction")?,
        resources: strings(obj.get("Resource"), "Resource")?,
        not_resources: strings(obj.get("NotResource"), "NotResource")?,
        has_condition: obj
            .get("Condition")
            .is_some_and(|c| c.as_object().is_some_and(|m| !m.is_empty())),
        condition: obj.get("Condition").cloned().unwrap_or(Value::Null),
        principal_everyone: everyone(obj.get("Principal")),
        principal: obj
            .get("Principal")
            .or_else(|| obj.get("NotPrincipal"))
            .cloned()
            .unwrap_or(Value::Null),
        not_principal: obj.get("NotPrincipal").is_some(),
    })
}

/// `"*"`, `{"AWS": "*"}` or `{"AWS": ["…", "*"]}`.
fn everyone(principal: Option<&Value>) -> bool {
    let star = |v: &Value| match v {
        Value::String(s) => s == "*",
        Value::Array(items) => items.iter().any(|i| i.as_str() == Some("*")),
        _ => false,
    };
    match principal {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(m)) => m.get("AWS").is_some_and(star),
        _ => false,
    }
}

fn strings(v: Option<&Value>, key: &str) -> Result<Vec<String>, String> {
    match v {
        None => Ok(vec![]),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{key} holds a non-string value"))
            })
            .collect(),
        Some(_) => Err(format!("{key} is neither a string nor a list of strings")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Single values and lists both parse; `*` on `*` is full admin, `s3:*` is not.
    #[test]
    fn parses_single_values_and_lists() {
        let d = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":[
                {"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"},
                {"Effect":"Allow","Action":["s3:*"],"Resource":["*"]}]}"#,
        )
        .unwrap();
        assert_eq!(d.statements.len(), 2);
        assert_eq!(
            d.full_admin_statements(),
            vec!["statement \"All\"".to_owned()]
        );
    }

    /// IAM's URL-encoded form decodes; a single statement object is accepted.
    #[test]
    fn decodes_url_encoded_documents() {
        let enc = "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%7D";
        let d = PolicyDocument::parse(enc).unwrap();
        assert_eq!(d.full_admin_statements(), vec!["statement 1".to_owned()]);
    }

    /// Deny, NotAction and scoped resources are not full admin.
    #[test]
    fn deny_and_not_action_are_not_full_admin() {
        let d = PolicyDocument::parse(
            r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"},
                {"Effect":"Allow","NotAction":"iam:*","Resource":"*"},
                {"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/*"}]}"#,
        )
        .unwrap();
        assert!(d.full_admin_statements().is_empty());
    }

    /// `*` principals are recognised in every spelling; conditions are read by operator and key.
    #[test]
    fn everyone_principals_and_conditions() {
        let d = PolicyDocument::parse(
            r#"{"Statement":[
                {"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
                {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root","*"]},"Action":"sts:AssumeRole"},
                {"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},
                {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
                {"Effect":"Allow","Action":["iam:*","s3:GetObject","kms:*"],"Resource":"*"}]}"#,
        )
        .unwrap();
        let e: Vec<bool> = d.statements.iter().map(|s| s.principal_everyone).collect();
        assert_eq!(e, [true, true, false, true, false]);
        assert!(d.statements[3].condition_has("Bool", "aws:securetransport", "false"));
        assert!(!d.statements[3].condition_has("Bool", "aws:SecureTransport", "true"));
        assert_eq!(d.statements[4].service_wildcards(), ["iam:*", "kms:*"]);
        assert!(d.statements[3].service_wildcards().is_empty());
    }

    /// Malformed documents say what is wrong and where.
    #[test]
    fn malformed_documents_name_the_problem() {
        assert!(matches!(
            PolicyDocument::parse("{not json"),
            Err(PolicyError::Json(_))
        ));
        assert_eq!(
            PolicyDocument::parse(r#"{"Version":"2012-10-17"}"#),
            Err(PolicyError::NoStatement)
        );
        assert_eq!(
            PolicyDocument::parse(r#"{"Statement":[{"Effect":"Maybe","Action":"*"}]}"#)
                .unwrap_err()
                .to_string(),
            "statement 1: has Effect \"Maybe\", expected Allow or Deny"
        );
        assert_eq!(
            PolicyDocument::parse(r#"{"Statement":{"Effect":"Allow","Action":3}}"#)
                .unwrap_err()
                .to_string(),
            "statement 1: Action is neither a string nor a list of strings"
        );
    }
}
