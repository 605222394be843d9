//! Credentials for an audited account: the agent's own (default provider chain) and, per account,
//! STS AssumeRole with an external id. The assumed role is verified to belong to the configured
//! account, so that a wrong role ARN can never attribute one account's verdicts to another.

use super::call;
use crate::facts::CallRecorder;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use std::time::{Duration, SystemTime};

/// How the agent reaches AWS.
#[derive(Debug, Clone)]
pub struct AwsOptions {
    /// Region for global and STS calls (the first audited region).
    pub home_region: String,
    /// An alternative endpoint (an emulator); `None` for AWS itself.
    pub endpoint_url: Option<String>,
    /// Time limit of one API call including the SDK's retries.
    pub call_timeout: Duration,
    /// Attempts per call (adaptive retry with backoff on throttling).
    pub max_attempts: u32,
}

/// The agent's own SDK configuration from the default credential chain.
pub async fn base_config(opts: &AwsOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(opts.home_region.clone()))
        .retry_config(RetryConfig::adaptive().with_max_attempts(opts.max_attempts))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(opts.call_timeout)
                .operation_attempt_timeout(opts.call_timeout / 2)
                .connect_timeout(Duration::from_secs(5))
                .build(),
        );
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// Why an account's credentials could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot assume {role_arn}: {source}")]
    AssumeRole {
        role_arn: String,
        source: crate::facts::FactError,
    },
    #[error("cannot identify the agent's own credentials: {0}")]
    Identity(crate::facts::FactError),
    #[error("{what} belongs to account {actual}, not to the configured account {expected}")]
    WrongAccount {
        what: String,
        actual: String,
        expected: String,
    },
    #[error("cannot list the account's enabled regions: {0}")]
    Regions(crate::facts::FactError),
    #[error("STS answered without {0}")]
    Incomplete(&'static str),
}

/// The account id in an ARN (`arn:partition:service:region:ACCOUNT:…`).
pub fn account_of_arn(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// SDK configuration for `account_id`: through `role_arn` when given, else the agent's own
/// credentials, which must then belong to that account.
pub async fn account_config(
    base: &SdkConfig,
    account_id: &str,
    role_arn: Option<&str>,
    external_id: Option<&str>,
    rec: &CallRecorder,
) -> Result<SdkConfig, SessionError> {
    let sts = aws_sdk_sts::Client::new(base);
    let Some(role_arn) = role_arn else {
        let who = call(
            rec,
            "sts",
            "GetCallerIdentity",
            None,
            sts.get_caller_identity().send(),
        )
        .await
        .map_err(SessionError::Identity)?;
        let actual = who
            .account()
            .ok_or(SessionError::Incomplete("the caller's account"))?;
        if actual != account_id {
            return Err(SessionError::WrongAccount {
                what: "the agent's own credentials".into(),
                actual: actual.into(),
                expected: account_id.into(),
            });
        }
        return Ok(base.clone());
    };
    let mut req = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name("maturity-agent")
        .duration_seconds(3600);
    if let Some(id) = external_id {
        req = req.external_id(id);
    }
    let out = call(rec, "sts", "AssumeRole", None, req.send())
        .await
        .map_err(|source| SessionError::AssumeRole {
            role_arn: role_arn.into(),
            source,
        })?;
    let user_arn = out
        .assumed_role_user()
        .map(|u| u.arn())
        .ok_or(SessionError::Incomplete("the assumed role user"))?;
    let actual = account_of_arn(user_arn).unwrap_or_default();
    if actual != account_id {
        return Err(SessionError::WrongAccount {
            what: format!("role {role_arn}"),
            actual: actual.into(),
            expected: account_id.into(),
        });
    }
    let c = out
        .credentials()
        .ok_or(SessionError::Incomplete("credentials"))?;
    let expiry = SystemTime::try_from(*c.expiration()).ok();
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        expiry,
        "maturity-agent-assume-role",
    );
    Ok(base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_of_arn_reads_the_fifth_field() {
        assert_eq!(
            account_of_arn("arn:aws:sts::123456789012:assumed-role/Audit/s"),
            Some("123456789012")
        );
        assert_eq!(account_of_arn("arn:aws:s3:::bucket"), None);
        assert_eq!(account_of_arn("nonsense"), None);
    }
}
