//! CloudTrail: the trails every audited region lists (shadow copies included, so that organization
//! trails of the management account are seen), each trail once, with its logging status read once
//! by ARN in the trail's home region when that region is audited.

use super::{call, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{CloudTrailFacts, ManagementEvents, Need, Trail};
use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput;
use aws_sdk_cloudtrail::types::ReadWriteType;
use std::collections::{BTreeMap, BTreeSet};

fn client(c: &Collector<'_>, region: &str) -> aws_sdk_cloudtrail::Client {
    aws_sdk_cloudtrail::Client::new(&c.in_region(region))
}

pub(super) async fn collect(
    c: &Collector<'_>,
    needs: &BTreeSet<Need>,
) -> Option<Fact<CloudTrailFacts>> {
    if !wants(needs, &[Need::CloudTrailTrails]) {
        return None;
    }
    let clients: BTreeMap<&str, aws_sdk_cloudtrail::Client> = c
        .regions
        .iter()
        .map(|r| (r.as_str(), client(c, r)))
        .collect();
    let listings = futures::future::join_all(c.regions.iter().map(|region| {
        let ct = &clients[region.as_str()];
        async move {
            let out = call(
                c.recorder,
                "cloudtrail",
                "DescribeTrails",
                Some(region),
                ct.describe_trails().include_shadow_trails(true).send(),
            )
            .await;
            (region.as_str(), out)
        }
    }))
    .await;

    let mut facts = CloudTrailFacts::default();
    // ARN → (trail, the region to ask for its status).
    let mut unique: BTreeMap<String, (Trail, &str)> = BTreeMap::new();
    for (region, listing) in listings {
        match listing {
            Err(e) => facts.listing_errors.push(e),
            Ok(out) => {
                for t in out.trail_list() {
                    let arn = t.trail_arn().unwrap_or_default().to_owned();
                    let home = t.home_region().unwrap_or(region).to_owned();
                    let ask = if clients.contains_key(home.as_str()) {
                        clients
                            .get_key_value(home.as_str())
                            .map(|(k, _)| *k)
                            .unwrap_or(region)
                    } else {
                        region
                    };
                    unique.entry(arn.clone()).or_insert_with(|| {
                        (
                            Trail {
                                name: t.name().unwrap_or_default().to_owned(),
                                arn,
                                home_region: home,
                                multi_region: t.is_multi_region_trail().unwrap_or(false),
                                organization_trail: t.is_organization_trail().unwrap_or(false),
                                s3_bucket: t.s3_bucket_name().map(str::to_owned),
                                kms_key_id: t.kms_key_id().map(str::to_owned),
                                log_file_validation: t
                                    .log_file_validation_enabled()
                                    .unwrap_or(false),
                                is_logging: Ok(false),
                                management_events: Ok(ManagementEvents::all()),
                                log_group_arn: t
                                    .cloud_watch_logs_log_group_arn()
                                    .map(str::to_owned),
                            },
                            ask,
                        )
                    });
                }
            }
        }
    }
    let clients = &clients;
    facts.trails =
        futures::future::join_all(unique.into_values().map(|(mut trail, region)| async move {
            let client = &clients[region];
            let (status, selectors) = tokio::join!(
                call(
                    c.recorder,
                    "cloudtrail",
                    "GetTrailStatus",
                    Some(region),
                    client.get_trail_status().name(&trail.arn).send(),
                ),
                call(
                    c.recorder,
                    "cloudtrail",
                    "GetEventSelectors",
                    Some(region),
                    client.get_event_selectors().trail_name(&trail.arn).send(),
                )
            );
            trail.is_logging = status.map(|s| s.is_logging().unwrap_or(false));
            trail.management_events = selectors.map(|out| management_events(&out));
            trail
        }))
        .await;
    Some(Ok(facts))
}

/// The management events a trail records, from its basic or advanced event selectors. A trail
/// with neither records every read and write management event (AWS's default).
fn management_events(out: &GetEventSelectorsOutput) -> ManagementEvents {
    let basic = out.event_selectors();
    let advanced = out.advanced_event_selectors();
    if basic.is_empty() && advanced.is_empty() {
        return ManagementEvents::all();
    }
    let mut m = ManagementEvents::default();
    for s in basic {
        if !s.include_management_events().unwrap_or(true) {
            continue;
        }
        match s.read_write_type() {
            Some(ReadWriteType::ReadOnly) => m.read = true,
            Some(ReadWriteType::WriteOnly) => m.write = true,
            _ => {
                m.read = true;
                m.write = true;
            }
        }
        m.excluded_sources
            .extend(s.exclude_management_event_sources().iter().cloned());
    }
    for s in advanced {
        let fields = s.field_selectors();
        let field = |name: &str| fields.iter().find(|f| f.field().eq_ignore_ascii_case(name));
        let management = field("eventCategory").is_some_and(|f| {
            f.equals()
                .iter()
                .any(|v| v.eq_ignore_ascii_case("Management"))
        });
        if !management {
            continue;
        }
        match field("readOnly").map(|f| f.equals()) {
            Some(v) if v.iter().any(|x| x == "true") && !v.iter().any(|x| x == "false") => {
                m.read = true
            }
            Some(v) if v.iter().any(|x| x == "false") && !v.iter().any(|x| x == "true") => {
                m.write = true
            }
            _ => {
                m.read = true;
                m.write = true;
            }
        }
        if let Some(f) = field("eventSource") {
            m.excluded_sources.extend(f.not_equals().iter().cloned());
            m.only_sources.extend(f.equals().iter().cloned());
            m.only_sources.extend(f.starts_with().iter().cloned());
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector, EventSelector};

    fn field(name: &str, equals: &[&str], not_equals: &[&str]) -> AdvancedFieldSelector {
        let mut b = AdvancedFieldSelector::builder().field(name);
        for e in equals {
            b = b.equals(*e);
        }
        for n in not_equals {
            b = b.not_equals(*n);
        }
        b.build().unwrap()
    }

    /// No selectors is AWS's default; a data-events-only trail records no management events;
    /// write-only and source exclusions are seen in both selector forms.
    #[test]
    fn reads_basic_and_advanced_selectors() {
        let none = GetEventSelectorsOutput::builder().build();
        assert_eq!(management_events(&none), ManagementEvents::all());
        let data_only = GetEventSelectorsOutput::builder()
            .event_selectors(
                EventSelector::builder()
                    .include_management_events(false)
                    .read_write_type(ReadWriteType::All)
                    .build(),
            )
            .build();
        assert_eq!(
            management_events(&data_only).gap().as_deref(),
            Some("records no management events")
        );
        let write = GetEventSelectorsOutput::builder()
            .event_selectors(
                EventSelector::builder()
                    .include_management_events(true)
                    .read_write_type(ReadWriteType::WriteOnly)
                    .build(),
            )
            .build();
        assert_eq!(
            management_events(&write).gap().as_deref(),
            Some("records only write management events")
        );
        let adv = |fields: Vec<AdvancedFieldSelector>| {
            let mut s = AdvancedEventSelector::builder();
            for f in fields {
                s = s.field_selectors(f);
            }
            GetEventSelectorsOutput::builder()
                .advanced_event_selectors(s.build().unwrap())
                .build()
        };
        let s3_data = adv(vec![
            field("eventCategory", &["Data"], &[]),
            field("resources.type", &["AWS::S3::Object"], &[]),
        ]);
        assert_eq!(
            management_events(&s3_data).gap().as_deref(),
            Some("records no management events")
        );
        let kms_less = adv(vec![
            field("eventCategory", &["Management"], &[]),
            field("eventSource", &[], &["kms.amazonaws.com"]),
        ]);
        assert_eq!(management_events(&kms_less).gap(), None);
        let iam_less = adv(vec![
            field("eventCategory", &["Management"], &[]),
            field("eventSource", &[], &["iam.amazonaws.com"]),
        ]);
        assert_eq!(
            management_events(&iam_less).gap().as_deref(),
            Some("leaves out management events of iam.amazonaws.com")
        );
        let read_only = adv(vec![
            field("eventCategory", &["Management"], &[]),
            field("readOnly", &["true"], &[]),
        ]);
        assert_eq!(
            management_events(&read_only).gap().as_deref(),
            Some("records only read management events")
        );
    }
}
