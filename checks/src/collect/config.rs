//! AWS Config: the configuration recorders of one region and whether each is recording.

use super::{call, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{ConfigRecorder, Need};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<ConfigRecorder>>> {
    if !wants(needs, &[Need::ConfigRecorders]) {
        return None;
    }
    let client = aws_sdk_config::Client::new(&c.in_region(region));
    Some(recorders(c, &client, region).await)
}

async fn recorders(
    c: &Collector<'_>,
    client: &aws_sdk_config::Client,
    region: &str,
) -> Fact<Vec<ConfigRecorder>> {
    let (recorders, statuses) = tokio::join!(
        call(
            c.recorder,
            "config",
            "DescribeConfigurationRecorders",
            Some(region),
            client.describe_configuration_recorders().send(),
        ),
        call(
            c.recorder,
            "config",
            "DescribeConfigurationRecorderStatus",
            Some(region),
            client.describe_configuration_recorder_status().send(),
        )
    );
    let (recorders, statuses) = (recorders?, statuses?);
    Ok(recorders
        .configuration_recorders()
        .iter()
        .map(|r| {
            let name = r.name().unwrap_or_default().to_owned();
            let status = statuses
                .configuration_recorders_status()
                .iter()
                .find(|s| s.name() == Some(name.as_str()));
            ConfigRecorder {
                all_supported: r
                    .recording_group()
                    .map(|g| g.all_supported())
                    .unwrap_or(false),
                recording: status.is_some_and(|s| s.recording()),
                last_status: status
                    .and_then(|s| s.last_status())
                    .map(|s| s.as_str().to_owned()),
                last_error: status.and_then(|s| s.last_error_code()).map(str::to_owned),
                name,
            }
        })
        .collect())
}
