//! S3 Control: the account-level public access block (global: one call per account).
//!
//! S3 Control's endpoint rules put the account id in front of the host
//! (`123456789012.s3-control.us-east-1.amazonaws.com`). Against an emulator endpoint that gives
//! `123456789012.127.0.0.1`, which cannot resolve. When the config carries an `endpoint_url` (only
//! emulators do), the client therefore uses [`EndpointAsConfigured`], which sends the request to
//! the configured endpoint unchanged; the account id still travels in the `x-amz-account-id`
//! header, which is what S3 Control (and moto, which routes on the `/v20180820/` path) reads. Against
//! AWS the SDK's own resolver is kept, so FIPS, dual-stack and partitions resolve as AWS specifies.

use super::{call_or_absent, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{Need, PublicAccessBlock};
use aws_sdk_s3control::config::endpoint::{Endpoint, EndpointFuture, Params, ResolveEndpoint};
use std::collections::BTreeSet;

/// Resolves every S3 Control request to the configured endpoint URL, without the account-id host
/// prefix (see the module doc).
#[derive(Debug)]
struct EndpointAsConfigured(String);

impl ResolveEndpoint for EndpointAsConfigured {
    fn resolve_endpoint<'a>(&'a self, _: &'a Params) -> EndpointFuture<'a> {
        EndpointFuture::ready(Ok(Endpoint::builder().url(self.0.clone()).build()))
    }
}

pub(super) async fn collect(
    c: &Collector<'_>,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Option<PublicAccessBlock>>> {
    if !wants(needs, &[Need::S3AccountPublicAccessBlock]) {
        return None;
    }
    let home = c
        .config
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".to_owned());
    let mut conf = aws_sdk_s3control::config::Builder::from(&c.in_region(&home));
    if let Some(url) = c.config.endpoint_url() {
        conf = conf.endpoint_resolver(EndpointAsConfigured(url.to_owned()));
    }
    let client = aws_sdk_s3control::Client::from_conf(conf.build());
    let out = call_or_absent(
        c.recorder,
        "s3control",
        "GetPublicAccessBlock",
        None,
        &["NoSuchPublicAccessBlockConfiguration"],
        client
            .get_public_access_block()
            .account_id(c.account_id)
            .send(),
    )
    .await;
    Some(out.map(|o| {
        o.and_then(|o| {
            o.public_access_block_configuration()
                .map(|p| PublicAccessBlock {
                    block_public_acls: p.block_public_acls().unwrap_or(false),
                    ignore_public_acls: p.ignore_public_acls().unwrap_or(false),
                    block_public_policy: p.block_public_policy().unwrap_or(false),
                    restrict_public_buckets: p.restrict_public_buckets().unwrap_or(false),
                })
        })
    }))
}
