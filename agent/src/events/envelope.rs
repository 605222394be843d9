//! One SQS message: an EventBridge event whose detail is a CloudTrail record. It is acted on only
//! when its envelope is consistent and about an audited account and region; anything else is
//! dropped with a reason. The payload never decides a verdict: only which facts are re-read.

use chrono::{DateTime, Utc};
use maturity_checks::snapshot::Need;
use maturity_checks::triggers;
use serde::Deserialize;
use std::collections::BTreeSet;

/// The accounts and regions the agent audits, as the verifier needs them.
#[derive(Debug, Clone)]
pub struct Audited {
    pub accounts: BTreeSet<String>,
    /// Empty: every region (`regions = ["all"]`).
    pub regions: BTreeSet<String>,
    /// The facts of the enabled checks.
    pub needs: BTreeSet<Need>,
}

impl Audited {
    fn region_audited(&self, region: &str) -> bool {
        self.regions.is_empty() || self.regions.contains(region)
    }
}

/// A verified CloudTrail event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// CloudTrail's `eventID`: the same change delivered twice has the same id.
    pub event_id: String,
    pub account_id: String,
    pub region: String,
    pub event_source: String,
    pub event_name: String,
    pub event_time: DateTime<Utc>,
    /// The facts of the enabled checks this event can change.
    pub needs: BTreeSet<Need>,
}

/// Why a message is dropped (the metric's `result` label for each).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Dropped {
    /// Not an EventBridge event carrying a CloudTrail record (unparseable, fields missing).
    #[error("invalid message: {0}")]
    Invalid(String),
    /// A well-formed event that is not ours to act on: an envelope that disagrees with its record
    /// (a look-alike published with `PutEvents`), an account or region the agent does not audit,
    /// or an event no enabled check declares.
    #[error("ignored: {0}")]
    Ignored(String),
}

impl Dropped {
    pub fn result_label(&self) -> &'static str {
        match self {
            Dropped::Invalid(_) => "invalid",
            Dropped::Ignored(_) => "ignored",
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    source: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
    account: String,
    region: String,
    detail: Detail,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    #[serde(rename = "eventID")]
    event_id: String,
    event_source: String,
    event_name: String,
    event_time: DateTime<Utc>,
    aws_region: String,
    recipient_account_id: Option<String>,
    /// Read-only calls never change a fact (`Get*`, `Describe*` reach the bus only by mistake).
    read_only: Option<bool>,
    /// A call that AWS refused changed nothing.
    error_code: Option<String>,
}

/// Parses and verifies one message body.
pub fn verify(body: &str, audited: &Audited) -> Result<Event, Dropped> {
    let e: Envelope = serde_json::from_str(body)
        .map_err(|err| Dropped::Invalid(format!("not a CloudTrail event on EventBridge: {err}")))?;
    let d = e.detail;
    if e.detail_type != triggers::DETAIL_TYPE {
        return Err(Dropped::Ignored(format!(
            "detail-type \"{}\" is not \"{}\"",
            e.detail_type,
            triggers::DETAIL_TYPE
        )));
    }
    let expected = triggers::eventbridge_source(&d.event_source);
    if e.source != expected {
        return Err(Dropped::Ignored(format!(
            "source \"{}\" does not match eventSource {} (expected \"{expected}\")",
            e.source, d.event_source
        )));
    }
    if e.region != d.aws_region {
        return Err(Dropped::Ignored(format!(
            "region {} differs from the record's awsRegion {}",
            e.region, d.aws_region
        )));
    }
    if let Some(r) = &d.recipient_account_id {
        if r != &e.account {
            return Err(Dropped::Ignored(format!(
                "account {} differs from the record's recipientAccountId {r}",
                e.account
            )));
        }
    }
    if !audited.accounts.contains(&e.account) {
        return Err(Dropped::Ignored(format!(
            "account {} is not audited",
            e.account
        )));
    }
    let global = triggers::is_global_source(&d.event_source);
    let region_ok = if global {
        e.region == triggers::GLOBAL_EVENTS_REGION
    } else {
        audited.region_audited(&e.region)
    };
    if !region_ok {
        return Err(Dropped::Ignored(format!(
            "region {} is not audited for {}",
            e.region, d.event_source
        )));
    }
    if d.read_only == Some(true) {
        return Err(Dropped::Ignored(format!("{} is read-only", d.event_name)));
    }
    if let Some(code) = d.error_code {
        return Err(Dropped::Ignored(format!(
            "{} failed with {code} and changed nothing",
            d.event_name
        )));
    }
    let needs = triggers::needs_for(&audited.needs, &d.event_source, &d.event_name);
    if needs.is_empty() {
        return Err(Dropped::Ignored(format!(
            "no enabled check reads what {} {} changes",
            d.event_source, d.event_name
        )));
    }
    if d.event_id.is_empty() {
        return Err(Dropped::Invalid("detail.eventID is empty".into()));
    }
    Ok(Event {
        event_id: d.event_id,
        account_id: e.account,
        region: e.region,
        event_source: d.event_source,
        event_name: d.event_name,
        event_time: d.event_time,
        needs,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn audited() -> Audited {
        Audited {
            accounts: ["111111111111".to_owned()].into(),
            regions: ["eu-west-1".to_owned()].into(),
            needs: maturity_checks::triggers::all_needs(),
        }
    }

    /// A CloudTrail-shaped EventBridge event, as AWS emits it.
    pub(crate) fn event(source: &str, name: &str, account: &str, region: &str, id: &str) -> String {
        let prefix = source.trim_end_matches(".amazonaws.com");
        json!({
            "version": "0",
            "id": format!("eb-{id}"),
            "detail-type": "AWS API Call via CloudTrail",
            "source": maturity_checks::triggers::eventbridge_source(source),
            "account": account,
            "time": "2026-12-01T10:00:00Z",
            "region": region,
            "resources": [],
            "detail": {
                "eventVersion": "1.09",
                "eventTime": "2026-12-01T10:00:00Z",
                "eventSource": source,
                "eventName": name,
                "awsRegion": region,
                "eventID": id,
                "readOnly": false,
                "eventType": "AwsApiCall",
                "recipientAccountId": account,
                "requestParameters": { "groupId": format!("sg-{prefix}") },
            }
        })
        .to_string()
    }

    /// An ingress rule change in an audited account and region is accepted with the security-group
    /// facts only.
    #[test]
    fn accepts_an_audited_change() {
        let body = event(
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            "111111111111",
            "eu-west-1",
            "e1",
        );
        let e = verify(&body, &audited()).unwrap();
        assert_eq!(e.event_id, "e1");
        assert_eq!(e.needs, [Need::Ec2SecurityGroups].into());
    }

    /// IAM's events arrive in us-east-1, which is accepted for global sources even when the agent
    /// audits other regions only; a regional event from us-east-1 is not.
    #[test]
    fn global_events_come_from_us_east_1() {
        let mfa = event(
            "iam.amazonaws.com",
            "DeactivateMFADevice",
            "111111111111",
            "us-east-1",
            "e2",
        );
        assert!(verify(&mfa, &audited()).is_ok());
        let elsewhere = event(
            "iam.amazonaws.com",
            "DeactivateMFADevice",
            "111111111111",
            "eu-west-1",
            "e3",
        );
        assert!(matches!(
            verify(&elsewhere, &audited()),
            Err(Dropped::Ignored(_))
        ));
        let sg = event(
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            "111111111111",
            "us-east-1",
            "e4",
        );
        assert!(matches!(verify(&sg, &audited()), Err(Dropped::Ignored(_))));
    }

    /// A spoofed source, a foreign account, a refused call, a read-only call, an unrelated event
    /// and garbage are all dropped, with the right label.
    #[test]
    fn drops_what_is_not_ours() {
        let a = audited();
        let ok = event(
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            "111111111111",
            "eu-west-1",
            "e5",
        );
        let mut spoofed: serde_json::Value = serde_json::from_str(&ok).unwrap();
        spoofed["source"] = json!("my.app");
        let mut mismatch: serde_json::Value = serde_json::from_str(&ok).unwrap();
        mismatch["detail"]["recipientAccountId"] = json!("999999999999");
        let mut refused: serde_json::Value = serde_json::from_str(&ok).unwrap();
        refused["detail"]["errorCode"] = json!("UnauthorizedOperation");
        let mut read_only: serde_json::Value = serde_json::from_str(&ok).unwrap();
        read_only["detail"]["readOnly"] = json!(true);
        let foreign = event(
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            "999999999999",
            "eu-west-1",
            "e6",
        );
        let unrelated = event(
            "ec2.amazonaws.com",
            "CreateTags",
            "111111111111",
            "eu-west-1",
            "e7",
        );
        for body in [
            spoofed.to_string(),
            mismatch.to_string(),
            refused.to_string(),
            read_only.to_string(),
            foreign,
            unrelated,
        ] {
            let d = verify(&body, &a).unwrap_err();
            assert_eq!(d.result_label(), "ignored", "{body}: {d}");
        }
        for body in ["", "not json", "{}", r#"{"source":"aws.ec2"}"#] {
            assert_eq!(
                verify(body, &a).unwrap_err().result_label(),
                "invalid",
                "{body}"
            );
        }
    }
}
