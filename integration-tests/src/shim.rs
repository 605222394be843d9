//! A loopback shim in front of moto that serves, in AWS's documented wire format, the few
//! operations moto 5.2.5 lacks or answers in a form the AWS SDK for Rust refuses, and passes every
//! other request to moto untouched (same method, path, headers and body, so that moto's signature
//! checks still hold). The agent never knows about it: it is one more endpoint URL.
//!
//! | operation (service) | moto 5.2.5 | the shim |
//! |---|---|---|
//! | `CreateAnalyzer`, `ListAnalyzers` (IAM Access Analyzer, restJson1) | HTTP 500 | serves them from its own state |
//! | `CreateGraph`, `ListGraphs`, `CreateMembers`, `ListMembers` (Amazon Detective, restJson1) | missing | serves them from its own state, per account and region: one graph per administrator and region, its administrator an `ENABLED` member; members of the administrator's organization are `ENABLED` at once (as Detective enables organization accounts), others `INVITED` |
//! | `CreateBackupSelection`, `ListBackupSelections` (Backup, restJson1) | HTTP 500 | serves them from its own state, for the plans moto knows (`GetBackupPlan`) |
//! | `PutMetricAlarm`, `DescribeAlarms`, `PutDashboard`, `ListDashboards` (CloudWatch, rpc-v2-cbor) | HTTP 404: it speaks only the query protocol | serves them from its own state, in CBOR |
//! | `PutMetricData`, `ListMetrics` (CloudWatch, rpc-v2-cbor) | HTTP 404, as above | records each metric with the time of its last `PutMetricData`; `ListMetrics` filters by namespace, name, dimensions and `RecentlyActive` `PT3H` |
//! | `EnableImportFindingsForProduct`, `ListEnabledProductsForImport`, `DisableImportFindingsForProduct` (Security Hub, restJson1) | missing | serves them for the hubs moto knows; `EnableSecurityHub` turns on the integrations with AWS's own services (GuardDuty, Inspector, Macie, Access Analyzer) as AWS does, `DisableSecurityHub` removes them |
//! | `PutAccountPolicy`, `DeleteAccountPolicy`, `DescribeAccountPolicies` (CloudWatch Logs, JSON 1.1) | missing | serves them from its own state, per account and region |
//! | `CreateSink`, `CreateLink`, `ListLinks` (CloudWatch Observability Access Manager, restJson1) | missing (no `oam` backend) | serves them from its own state: a link must name a sink of the same region in another account |
//! | `BatchEnableStandards`, `GetEnabledStandards` (Security Hub, restJson1) | missing | serves them for the hubs moto knows (`DescribeHub`); `EnableSecurityHub` is passed to moto and, unless `EnableDefaultStandards` is false, subscribes the default standards as AWS does |
//! | Security Hub's delegated administrator in Organizations | `EnableOrganizationAdminAccount` registers none, and `RegisterDelegatedAdministrator` refuses `securityhub.amazonaws.com` | `EnableOrganizationAdminAccount` is passed to moto and recorded; `ListDelegatedAdministrators` and `ListDelegatedServicesForAccount` get moto's answer with that registration added |
//! | `CreateCanary`, `DescribeCanaries` (CloudWatch Synthetics, restJson1) | answers the `Timeline` times as ISO 8601 strings, the SDK wants epoch seconds | moto's answer, with those times as epoch seconds |
//! | `DetectStackDrift`, `DescribeStacks` (CloudFormation, query) | `DetectStackDrift` is missing; `DescribeStacks` gives no `DriftInformation` | `DetectStackDrift` of an existing stack is recorded and finds it in sync (nothing changes moto's resources behind a stack's back); `DescribeStacks` is moto's answer with each stack's `DriftInformation`: `IN_SYNC` and the detection's time after one, else `NOT_CHECKED` |
//! | `CreateImagePipeline`, `ListImagePipelines` (EC2 Image Builder, restJson1) | missing | serves them from its own state, per account and region; pipelines never run |
//! | `CreateAnomalyMonitor`, `CreateAnomalySubscription`, `GetAnomalyMonitors`, `GetAnomalySubscriptions` (Cost Explorer, JSON 1.1) | missing | serves them from its own state, per account; a subscription must name existing monitors |
//! | `GetBucketVersioning` (S3, restXml) | answers `<GetBucketVersioningResponse>`, the SDK wants `<VersioningConfiguration>` | moto's answer, re-rooted |
//! | `DescribeSnapshots` with `RestorableBy` `all` (EC2, query) | ignores `RestorableBy` (and `Owner`): lists every snapshot | passes it to moto and keeps, of moto's answer, the snapshots that `ModifySnapshotAttribute` calls seen by the shim made restorable by group `all` (and `ResetSnapshotAttribute` or a removal did not take back) |
//! | `PutComplianceItems`, `ListResourceComplianceSummaries`, `DescribeInstanceInformation` (Systems Manager, JSON 1.1) | missing | serves them from its own state: a node is managed once it reports compliance (`PutComplianceItems` is accepted for managed nodes only), and it is listed `Online` |
//! | `GetDeploymentGroup` (CodeDeploy, JSON 1.1) | answers `alarmConfiguration` `{}` whatever was created | `CreateDeploymentGroup` is passed to moto and its alarm configuration recorded; moto's `GetDeploymentGroup` answer gets it back |
//! | `GenerateServiceLastAccessedDetails`, `GetServiceLastAccessedDetails` (IAM, query) | HTTP 500 | serves the jobs of the users and roles moto knows (`GetUser` / `GetRole`), answering the report a test seeded for the principal (none seeded: no service), paged by `MaxItems` / `Marker`, after the seeded number of `IN_PROGRESS` polls, or `FAILED` when seeded so |
//! | `GetCredentialReport` (IAM, query) | builds a new report at every call | keeps an account's first report for four hours and serves it again, as AWS does (`GenerateCredentialReport` then finds it complete), so a report is as stale in the tests as it can be in AWS |
//! | `ListOrganizationsFeatures`, `Enable`/`DisableOrganizationsRootCredentialsManagement`, `Enable`/`DisableOrganizationsRootSessions` (IAM, query) | HTTP 500 | serves them for the management account of the organization moto knows (`DescribeOrganization`): the features enabled, `OrganizationNotFoundException` outside an organization, `AccountNotManagementOrDelegatedAdministratorException` in a member |
//! | `CreateDate` of a user or role (IAM `GetAccountAuthorizationDetails`) | the time moto created it: no API back-dates a principal | moto's answer, with the creation date a test seeded for the principal |
//!
//! Tests seed what no AWS API can set (a principal's service use and age) with an unsigned
//! `POST /_shim/service-last-accessed` of `{"arn", "created"?, "services": [{"namespace",
//! "last_authenticated"?}], "in_progress_polls"?, "failed"?}` (RFC 3339 times); see
//! [`seed_last_accessed`].
//!
//! Requests are recognized as the SDK sends them: by the SigV4 credential scope's service, the
//! method and path, `X-Amz-Target` (Organizations) and `smithy-protocol` (CloudWatch). State is kept
//! per account and region; the account of a request is the one moto gives its access key, learnt
//! from the `AssumeRole` and `CreateAccessKey` answers the shim relays (any other key is moto's
//! default account, as in moto). IAM enforcement (`Moto::enforce_iam`) is moto's: the operations the
//! shim serves itself are not authorized against IAM policies.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use ciborium::Value as Cbor;
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// moto's account for credentials it does not know (`DEFAULT_ACCOUNT_ID`).
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// The standards `EnableSecurityHub` subscribes unless `EnableDefaultStandards` is false: AWS
/// Foundational Security Best Practices v1.0.0 and CIS AWS Foundations Benchmark v1.2.0.
fn default_standards(region: &str) -> [String; 2] {
    [
        format!("arn:aws:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0"),
        "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0".to_owned(),
    ]
}

const SECURITY_HUB: &str = "securityhub.amazonaws.com";
const CBOR_PATH: &str = "/service/GraniteServiceVersion20100801/operation/";
const ORGANIZATIONS_TARGET: &str = "AWSOrganizationsV20161128.";

/// (account id, region)
type Scope = (String, String);

/// A CloudWatch metric: (namespace, name, its dimensions' (name, value) sorted).
type MetricKey = (String, String, Vec<(String, String)>);

/// An answer given instead of the one asked for (an error, or moto's answer relayed as is).
type Reject = Box<Response>;

#[derive(Default)]
struct Emulated {
    /// access key id → account id, as moto maps them.
    accounts: HashMap<String, String>,
    /// `AnalyzerSummary` objects.
    analyzers: HashMap<Scope, Vec<Json>>,
    /// The Detective behavior graph of an administrator and region: its ARN and `MemberDetail`
    /// objects.
    graphs: HashMap<Scope, (String, Vec<Json>)>,
    /// `BackupSelectionsListMember` objects by plan id.
    selections: HashMap<(Scope, String), Vec<Json>>,
    /// `MetricAlarm` maps by alarm name.
    alarms: HashMap<Scope, BTreeMap<String, Vec<(Cbor, Cbor)>>>,
    /// Dashboards by name: (body, last modified in epoch seconds).
    dashboards: HashMap<Scope, BTreeMap<String, (String, f64)>>,
    /// `StandardsSubscription` objects.
    standards: HashMap<Scope, Vec<Json>>,
    /// Security Hub's product subscriptions (`company/product`), in subscription order.
    product_imports: HashMap<Scope, Vec<String>>,
    /// CloudWatch metrics by (namespace, name, dimensions) → when data was last put (epoch
    /// seconds).
    metrics: HashMap<Scope, BTreeMap<MetricKey, f64>>,
    /// CloudWatch Logs' account-level policies (`AccountPolicy` objects).
    account_policies: HashMap<Scope, Vec<Json>>,
    /// Observability Access Manager's sinks by ARN (their scope), and links (`ListLinksItem`
    /// objects).
    oam_sinks: HashMap<String, Scope>,
    oam_links: HashMap<Scope, Vec<Json>>,
    /// management account → Security Hub's delegated administrators (account, epoch seconds).
    hub_admins: HashMap<String, Vec<(String, f64)>>,
    /// EBS snapshots made restorable by everyone (`ModifySnapshotAttribute` adding group `all`).
    public_snapshots: HashMap<Scope, Vec<String>>,
    /// EC2 Image Builder `ImagePipeline` objects.
    image_pipelines: HashMap<Scope, Vec<Json>>,
    /// Cost Anomaly Detection monitors and subscriptions (`AnomalyMonitor` and
    /// `AnomalySubscription` objects) by account.
    anomaly_monitors: HashMap<String, Vec<Json>>,
    anomaly_subscriptions: HashMap<String, Vec<Json>>,
    /// CloudFormation stacks (by name and by ARN) with when drift detection last ran on them
    /// (`DetectStackDrift`), as an ISO 8601 time.
    drift_checks: HashMap<Scope, HashMap<String, String>>,
    /// Systems Manager compliance items by (resource id, compliance type), in report order.
    compliance: HashMap<Scope, BTreeMap<(String, String), Vec<Json>>>,
    /// CodeDeploy's `alarmConfiguration` by (application, deployment group).
    deployment_alarms: HashMap<Scope, HashMap<(String, String), Json>>,
    /// management account → the centralized root access features enabled (`RootCredentialsManagement`,
    /// `RootSessions`).
    root_features: HashMap<String, std::collections::BTreeSet<String>>,
    /// account → its credential report as first served, and when (epoch seconds).
    credential_reports: HashMap<String, (Upstream, f64)>,
    /// Service last-accessed seeds by principal ARN (`/_shim/service-last-accessed`).
    last_accessed: HashMap<String, Json>,
    /// Service last-accessed jobs: job id → (principal ARN, `IN_PROGRESS` polls left, created at).
    jobs: HashMap<String, (String, u64, String)>,
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    state: Mutex<Emulated>,
}

/// One request as received.
struct Call {
    method: Method,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Bytes,
    access_key: String,
    region: String,
    service: String,
}

impl Call {
    fn new(parts: axum::http::request::Parts, body: Bytes) -> Call {
        // `Credential=AKID/20261201/us-east-1/s3/aws4_request` of the SigV4 Authorization header.
        let scope: Vec<String> = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split([',', ' ']).next())
            .map(|c| c.split('/').map(str::to_owned).collect())
            .unwrap_or_default();
        let part = |i: usize| scope.get(i).cloned().unwrap_or_default();
        Call {
            method: parts.method,
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            headers: parts.headers,
            body,
            access_key: part(0),
            region: part(2),
            service: part(3),
        }
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn query_param(&self, name: &str) -> Option<String> {
        form_pairs(&self.query)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    fn json_body(&self) -> Result<Json, Reject> {
        if self.body.is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            Box::new(rest_error(
                400,
                "SerializationException",
                &format!("body is not JSON: {e}"),
            ))
        })
    }
}

/// The `key=value` pairs of a query string or form body, percent-decoded.
fn form_pairs(s: &str) -> Vec<(String, String)> {
    let decode = |x: &str| {
        percent_encoding::percent_decode_str(&x.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// An answer of moto.
#[derive(Clone)]
struct Upstream {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Upstream {
    fn ok(&self) -> bool {
        self.status.is_success()
    }
}

impl IntoResponse for Upstream {
    fn into_response(self) -> Response {
        let mut r = (self.status, self.body).into_response();
        for (k, v) in &self.headers {
            if !is_hop_by_hop(k) && k != "content-length" {
                r.headers_mut().append(k.clone(), v.clone());
            }
        }
        r
    }
}

fn is_hop_by_hop(h: &HeaderName) -> bool {
    matches!(
        h.as_str(),
        "connection"
            | "keep-alive"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "proxy-authorization"
            | "proxy-authenticate"
    )
}

impl Shared {
    /// Sends a request to moto with the caller's headers (Host included, so that a signature
    /// still verifies) and returns its whole answer.
    async fn upstream(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Upstream, Reject> {
        let mut req = self
            .client
            .request(method, format!("{}{path_and_query}", self.upstream));
        for (k, v) in headers {
            if !is_hop_by_hop(k) && k != "content-length" {
                req = req.header(k, v);
            }
        }
        let fail = |e: reqwest::Error| {
            Box::new((StatusCode::BAD_GATEWAY, format!("aws-shim: moto: {e}")).into_response())
        };
        let resp = req.body(body).send().await.map_err(fail)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(fail)?;
        Ok(Upstream {
            status,
            headers,
            body,
        })
    }

    /// Passes the call to moto unchanged.
    async fn forward(&self, c: &Call) -> Result<Upstream, Reject> {
        let pq = if c.query.is_empty() {
            c.path.clone()
        } else {
            format!("{}?{}", c.path, c.query)
        };
        self.upstream(c.method.clone(), &pq, &c.headers, c.body.clone())
            .await
    }

    /// Another operation of the same service in the caller's name (moto checks no signature unless
    /// IAM is enforced): `method path` with `body`, the caller's other headers kept.
    async fn sibling(
        &self,
        c: &Call,
        method: Method,
        path: &str,
        headers: &[(&'static str, &str)],
        body: &str,
    ) -> Result<Upstream, Reject> {
        let mut h = c.headers.clone();
        h.remove("content-type");
        for (k, v) in headers {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(*k, v);
            }
        }
        self.upstream(method, path, &h, Bytes::from(body.to_owned()))
            .await
    }

    fn account_of(&self, access_key: &str) -> String {
        self.state
            .lock()
            .expect("shim state")
            .accounts
            .get(access_key)
            .cloned()
            .unwrap_or_else(|| DEFAULT_ACCOUNT.to_owned())
    }

    fn with<T>(&self, f: impl FnOnce(&mut Emulated) -> T) -> T {
        f(&mut self.state.lock().expect("shim state"))
    }
}

fn now_secs() -> f64 {
    let now = chrono::Utc::now();
    now.timestamp() as f64 + f64::from(now.timestamp_subsec_millis()) / 1000.0
}

fn new_id() -> String {
    let h = |n: usize| {
        (0..n)
            .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0'))
            .collect::<String>()
    };
    format!("{}-{}-{}-{}-{}", h(8), h(4), h(4), h(4), h(12))
}

/// A restJson1 / JSON 1.1 answer.
fn json_response(status: u16, content_type: &'static str, body: &Json) -> Response {
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        body.to_string(),
    )
        .into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static(content_type));
    r
}

fn rest_ok(body: &Json) -> Response {
    json_response(200, "application/json", body)
}

/// A restJson1 error: the code in `x-amzn-ErrorType`, the message in the body.
fn rest_error(status: u16, code: &str, message: &str) -> Response {
    rest_error_with(status, code, message, json!({}))
}

fn rest_error_with(status: u16, code: &str, message: &str, mut extra: Json) -> Response {
    extra["message"] = json!(message);
    let mut r = json_response(status, "application/json", &extra);
    if let Ok(v) = HeaderValue::from_str(code) {
        r.headers_mut().insert("x-amzn-errortype", v);
    }
    r
}

/// One page of `items` after `token` (an index), at most `max`; and the next token.
fn page<T: Clone>(
    items: &[T],
    token: Option<&str>,
    max: Option<usize>,
) -> (Vec<T>, Option<String>) {
    let start = token.and_then(|t| t.parse().ok()).unwrap_or(0usize);
    let max = max.filter(|m| *m > 0).unwrap_or(usize::MAX);
    let end = start.saturating_add(max).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    (items.get(start..end).unwrap_or_default().to_vec(), next)
}

async fn handle(State(s): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, 512 << 20).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("aws-shim: {e}")).into_response(),
    };
    let call = Call::new(parts, body);
    let mut r = match route(&s, &call).await {
        Ok(r) => r,
        Err(r) => *r,
    };
    // One request per connection, as moto does: proxies in front of the shim read until EOF.
    r.headers_mut()
        .insert("connection", HeaderValue::from_static("close"));
    r
}

async fn route(s: &Shared, c: &Call) -> Result<Response, Reject> {
    let account = s.account_of(&c.access_key);
    let scope: Scope = (account.clone(), c.region.clone());
    let m = &c.method;
    match (c.service.as_str(), c.path.as_str()) {
        ("access-analyzer", "/analyzer") if m == Method::PUT => create_analyzer(s, c, scope),
        ("detective", "/graph" | "/graphs/list" | "/graph/members" | "/graph/members/list")
            if m == Method::POST =>
        {
            detective(s, c, scope).await
        }
        ("access-analyzer", "/analyzer") if m == Method::GET => Ok(list_analyzers(s, c, &scope)),
        ("backup", p) if selections_plan(p).is_some() && (m == Method::PUT || m == Method::GET) => {
            backup_selections(s, c, scope, selections_plan(p).unwrap_or_default()).await
        }
        ("monitoring", p)
            if m == Method::POST
                && c.header("smithy-protocol") == "rpc-v2-cbor"
                && matches!(
                    p.strip_prefix(CBOR_PATH),
                    Some(
                        "PutMetricAlarm"
                            | "DescribeAlarms"
                            | "PutDashboard"
                            | "ListDashboards"
                            | "PutMetricData"
                            | "ListMetrics"
                    )
                ) =>
        {
            Ok(cloudwatch(
                s,
                c,
                scope,
                p.strip_prefix(CBOR_PATH).unwrap_or_default(),
            ))
        }
        ("synthetics", "/canary" | "/canaries") if m == Method::POST => canary_timeline(s, c).await,
        ("imagebuilder", "/CreateImagePipeline") if m == Method::PUT => {
            image_pipelines(s, c, scope, &account, true)
        }
        ("imagebuilder", "/ListImagePipelines") if m == Method::POST => {
            image_pipelines(s, c, scope, &account, false)
        }
        ("securityhub", p) if p.starts_with("/productSubscriptions") => {
            product_subscriptions(s, c, scope).await
        }
        ("logs", "/") if m == Method::POST => {
            match c.header("x-amz-target").strip_prefix(LOGS_TARGET) {
                Some(
                    op @ ("PutAccountPolicy" | "DeleteAccountPolicy" | "DescribeAccountPolicies"),
                ) => account_policies(s, c, scope, op),
                _ => Ok(s.forward(c).await?.into_response()),
            }
        }
        ("oam", p @ ("/CreateSink" | "/CreateLink" | "/ListLinks")) if m == Method::POST => {
            oam(s, c, scope, p)
        }
        ("securityhub", "/standards/get" | "/standards/register") if m == Method::POST => {
            security_hub_standards(s, c, scope).await
        }
        ("securityhub", "/accounts") if m == Method::POST || m == Method::DELETE => {
            let up = s.forward(c).await?;
            if up.ok() {
                let enable = m == Method::POST;
                let defaults = enable
                    && c.json_body()?
                        .get("EnableDefaultStandards")
                        .and_then(Json::as_bool)
                        != Some(false);
                s.with(|st| {
                    let subs = st.standards.entry(scope.clone()).or_default();
                    if !enable {
                        subs.clear();
                    } else if defaults {
                        for arn in default_standards(&scope.1) {
                            subscribe(subs, &scope, &arn, &json!({}));
                        }
                    }
                    // AWS turns on the integrations with its own services with the hub.
                    let imports = st.product_imports.entry(scope.clone()).or_default();
                    imports.clear();
                    if enable {
                        imports.extend(AWS_INTEGRATIONS.iter().map(|p| (*p).to_owned()));
                    }
                });
            }
            Ok(up.into_response())
        }
        ("securityhub", "/organization/admin/enable") if m == Method::POST => {
            let up = s.forward(c).await?;
            if up.ok() {
                if let Some(admin) = c.json_body()?["AdminAccountId"].as_str() {
                    s.with(|st| {
                        let admins = st.hub_admins.entry(account.clone()).or_default();
                        if !admins.iter().any(|(a, _)| a == admin) {
                            admins.push((admin.to_owned(), now_secs()));
                        }
                    });
                }
            }
            Ok(up.into_response())
        }
        ("organizations", "/") if m == Method::POST => {
            match c.header("x-amz-target").strip_prefix(ORGANIZATIONS_TARGET) {
                Some("ListDelegatedAdministrators") => {
                    delegated_administrators(s, c, &account).await
                }
                Some("ListDelegatedServicesForAccount") => delegated_services(s, c, &account).await,
                _ => Ok(s.forward(c).await?.into_response()),
            }
        }
        ("ce", "/") if m == Method::POST => {
            match c.header("x-amz-target").strip_prefix(CE_TARGET) {
                Some(
                    op @ ("CreateAnomalyMonitor"
                    | "CreateAnomalySubscription"
                    | "GetAnomalyMonitors"
                    | "GetAnomalySubscriptions"),
                ) => cost_anomalies(s, c, &account, op),
                _ => Ok(s.forward(c).await?.into_response()),
            }
        }
        ("ssm", "/") if m == Method::POST => {
            match c.header("x-amz-target").strip_prefix(SSM_TARGET) {
                Some(
                    op @ ("PutComplianceItems"
                    | "ListResourceComplianceSummaries"
                    | "DescribeInstanceInformation"),
                ) => ssm(s, c, scope, op),
                _ => Ok(s.forward(c).await?.into_response()),
            }
        }
        ("codedeploy", "/") if m == Method::POST => {
            match c.header("x-amz-target").strip_prefix(CODEDEPLOY_TARGET) {
                Some(op @ ("CreateDeploymentGroup" | "GetDeploymentGroup")) => {
                    deployment_group(s, c, scope, op).await
                }
                _ => Ok(s.forward(c).await?.into_response()),
            }
        }
        ("s3", p)
            if m == Method::GET
                && form_pairs(&c.query).iter().any(|(k, _)| k == "versioning")
                && p.trim_matches('/').split('/').count() == 1 =>
        {
            bucket_versioning(s, c).await
        }
        ("ec2", "/") if m == Method::POST => ec2_snapshots(s, c, scope).await,
        ("cloudformation", "/") if m == Method::POST => stack_drift(s, c, scope).await,
        ("", "/_shim/service-last-accessed") if m == Method::POST => {
            Ok(seed_last_accessed_request(s, c))
        }
        ("iam", "/") if m == Method::POST && iam_action(c).is_some() => {
            iam_last_accessed(s, c).await
        }
        ("iam", "/") if m == Method::POST && root_features_action(c).is_some() => {
            root_features(s, c, &account).await
        }
        ("sts" | "iam", _) if m == Method::POST => {
            let up = s.forward(c).await?;
            if up.ok() {
                learn_account(s, c, &account, &up);
                match form_action(c).as_deref() {
                    Some("GetAccountAuthorizationDetails") => return Ok(backdated(s, up)),
                    Some("GetCredentialReport") => return Ok(kept_report(s, &account, up)),
                    _ => {}
                }
            }
            Ok(up.into_response())
        }
        _ => Ok(s.forward(c).await?.into_response()),
    }
}

/// Remembers which account an access key moto just issued belongs to: an assumed role's (from its
/// ARN) or, for an IAM user's new key, the caller's.
fn learn_account(s: &Shared, c: &Call, caller: &str, up: &Upstream) {
    let form = form_pairs(&String::from_utf8_lossy(&c.body));
    let action = form
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.as_str());
    let text = String::from_utf8_lossy(&up.body);
    let key = between(&text, "<AccessKeyId>", "</AccessKeyId>");
    let account = match action {
        Some("AssumeRole") => between(&text, "<Arn>arn:aws:sts::", ":assumed-role/"),
        Some("CreateAccessKey") => Some(caller),
        _ => None,
    };
    if let (Some(key), Some(account)) = (key, account) {
        s.with(|st| {
            st.accounts
                .insert(key.trim().to_owned(), account.to_owned())
        });
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text[start..].find(close)?;
    Some(&text[start..start + len])
}

// ---- IAM (query): service last-accessed jobs, and principals' creation dates ----

const IAM_XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// The `Action` of a query-protocol request.
fn form_action(c: &Call) -> Option<String> {
    form_param(c, "Action")
}

fn form_param(c: &Call, name: &str) -> Option<String> {
    form_pairs(&String::from_utf8_lossy(&c.body))
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The last-accessed operation of an IAM request, when it is one the shim serves.
fn iam_action(c: &Call) -> Option<&'static str> {
    match form_action(c)?.as_str() {
        "GenerateServiceLastAccessedDetails" => Some("GenerateServiceLastAccessedDetails"),
        "GetServiceLastAccessedDetails" => Some("GetServiceLastAccessedDetails"),
        _ => None,
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn iam_xml(status: u16, body: String) -> Response {
    let mut r = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("text/xml"));
    r
}

fn iam_result(action: &str, inner: &str) -> Response {
    query_result(IAM_XMLNS, action, inner)
}

fn iam_error(status: u16, code: &str, message: &str) -> Response {
    query_error(IAM_XMLNS, status, code, message)
}

/// A query-protocol answer of `action` in the namespace `xmlns`, with `inner` as its result.
fn query_result(xmlns: &str, action: &str, inner: &str) -> Response {
    iam_xml(
        200,
        format!(
            "<{action}Response xmlns=\"{xmlns}\"><{action}Result>{inner}</{action}Result>\
             <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
            new_id()
        ),
    )
}

/// A query-protocol error in the namespace `xmlns`.
fn query_error(xmlns: &str, status: u16, code: &str, message: &str) -> Response {
    iam_xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{xmlns}\"><Error><Type>Sender</Type><Code>{code}</Code>\
             <Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            xml_escape(message),
            new_id()
        ),
    )
}

/// Records a test's seed for one principal.
fn seed_last_accessed_request(s: &Shared, c: &Call) -> Response {
    let seed: Json = match serde_json::from_slice(&c.body) {
        Ok(v) => v,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("not JSON: {e}")).into_response(),
    };
    let Some(arn) = seed["arn"].as_str().map(str::to_owned) else {
        return (StatusCode::BAD_REQUEST, "no arn").into_response();
    };
    s.with(|st| st.last_accessed.insert(arn, seed));
    (StatusCode::OK, "seeded").into_response()
}

fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn iam_last_accessed(s: &Shared, c: &Call) -> Result<Response, Reject> {
    match iam_action(c) {
        Some("GenerateServiceLastAccessedDetails") => {
            let Some(arn) = form_param(c, "Arn") else {
                return Ok(iam_error(400, "InvalidInput", "Arn is required"));
            };
            // A user or role moto knows: `arn:aws:iam::ACCOUNT:role/path/name`.
            let kind = arn.split(':').nth(5).and_then(|r| r.split('/').next());
            let name = arn.rsplit('/').next().unwrap_or_default();
            let probe = match kind {
                Some("role") => format!("Action=GetRole&RoleName={name}&Version=2010-05-08"),
                Some("user") => format!("Action=GetUser&UserName={name}&Version=2010-05-08"),
                _ => {
                    return Ok(iam_error(
                        400,
                        "InvalidInput",
                        "the shim serves jobs of users and roles only",
                    ))
                }
            };
            let known = s
                .sibling(
                    c,
                    Method::POST,
                    "/",
                    &[("content-type", "application/x-www-form-urlencoded")],
                    &probe,
                )
                .await?;
            if !known.ok() {
                return Ok(iam_error(
                    404,
                    "NoSuchEntity",
                    &format!("The entity {arn} cannot be found."),
                ));
            }
            let id = new_id();
            let polls = s.with(|st| {
                st.last_accessed
                    .get(&arn)
                    .and_then(|seed| seed["in_progress_polls"].as_u64())
                    .unwrap_or(0)
            });
            s.with(|st| {
                st.jobs
                    .insert(id.clone(), (arn, polls, iso(chrono::Utc::now())))
            });
            Ok(iam_result(
                "GenerateServiceLastAccessedDetails",
                &format!("<JobId>{id}</JobId>"),
            ))
        }
        _ => {
            let id = form_param(c, "JobId").unwrap_or_default();
            let job = s.with(|st| {
                let job = st.jobs.get_mut(&id)?;
                let in_progress = job.1 > 0;
                job.1 = job.1.saturating_sub(1);
                let seed = st.last_accessed.get(&job.0).cloned();
                Some((in_progress, job.2.clone(), seed))
            });
            let Some((in_progress, created, seed)) = job else {
                return Ok(iam_error(
                    404,
                    "NoSuchEntity",
                    &format!("No job {id} was found."),
                ));
            };
            let seed = seed.unwrap_or_else(|| json!({}));
            let head = format!(
                "<JobType>SERVICE_LEVEL</JobType><JobCreationDate>{created}</JobCreationDate>"
            );
            if in_progress {
                return Ok(iam_result(
                    "GetServiceLastAccessedDetails",
                    &format!("<JobStatus>IN_PROGRESS</JobStatus>{head}<ServicesLastAccessed/>"),
                ));
            }
            let done = iso(chrono::Utc::now());
            if let Some(why) = seed["failed"].as_str() {
                return Ok(iam_result(
                    "GetServiceLastAccessedDetails",
                    &format!(
                        "<JobStatus>FAILED</JobStatus>{head}<JobCompletionDate>{done}</JobCompletionDate>\
                         <ServicesLastAccessed/><Error><Code>ServiceFailure</Code><Message>{}</Message></Error>",
                        xml_escape(why)
                    ),
                ));
            }
            let services: Vec<Json> = seed["services"].as_array().cloned().unwrap_or_default();
            let max = form_param(c, "MaxItems").and_then(|m| m.parse().ok());
            let (items, next) = page(&services, form_param(c, "Marker").as_deref(), max);
            let members: String = items
                .iter()
                .map(|svc| {
                    let ns = xml_escape(svc["namespace"].as_str().unwrap_or_default());
                    let last = svc["last_authenticated"]
                        .as_str()
                        .map(|t| {
                            format!(
                                "<LastAuthenticated>{}</LastAuthenticated><LastAuthenticatedRegion>us-east-1</LastAuthenticatedRegion>",
                                xml_escape(t)
                            )
                        })
                        .unwrap_or_default();
                    let entities = u8::from(!last.is_empty());
                    format!(
                        "<member><ServiceName>{ns}</ServiceName><ServiceNamespace>{ns}</ServiceNamespace>{last}\
                         <TotalAuthenticatedEntities>{entities}</TotalAuthenticatedEntities></member>"
                    )
                })
                .collect();
            let more = match next {
                Some(m) => format!("<IsTruncated>true</IsTruncated><Marker>{m}</Marker>"),
                None => "<IsTruncated>false</IsTruncated>".to_owned(),
            };
            Ok(iam_result(
                "GetServiceLastAccessedDetails",
                &format!(
                    "<JobStatus>COMPLETED</JobStatus>{head}<JobCompletionDate>{done}</JobCompletionDate>\
                     <ServicesLastAccessed>{members}</ServicesLastAccessed>{more}"
                ),
            ))
        }
    }
}

/// The centralized root access operation of an IAM request, when it is one: (action, feature it
/// changes, enable).
fn root_features_action(c: &Call) -> Option<(&'static str, Option<(&'static str, bool)>)> {
    Some(match form_action(c)?.as_str() {
        "ListOrganizationsFeatures" => ("ListOrganizationsFeatures", None),
        "EnableOrganizationsRootCredentialsManagement" => (
            "EnableOrganizationsRootCredentialsManagement",
            Some(("RootCredentialsManagement", true)),
        ),
        "DisableOrganizationsRootCredentialsManagement" => (
            "DisableOrganizationsRootCredentialsManagement",
            Some(("RootCredentialsManagement", false)),
        ),
        "EnableOrganizationsRootSessions" => (
            "EnableOrganizationsRootSessions",
            Some(("RootSessions", true)),
        ),
        "DisableOrganizationsRootSessions" => (
            "DisableOrganizationsRootSessions",
            Some(("RootSessions", false)),
        ),
        _ => return None,
    })
}

/// An AWS Organizations call without parameters in the caller's name (moto checks no signature
/// unless IAM is enforced, and reads the account from the access key): its JSON answer.
async fn organizations_call(s: &Shared, c: &Call, operation: &str) -> Result<Json, Reject> {
    let mut headers = c.headers.clone();
    if let Some(auth) = c.headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let scope = format!("/{}/aws4_request", c.service);
        if let Ok(v) = HeaderValue::from_str(&auth.replace(&scope, "/organizations/aws4_request")) {
            headers.insert("authorization", v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{ORGANIZATIONS_TARGET}{operation}")) {
        headers.insert("x-amz-target", v);
    }
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    let up = s
        .upstream(Method::POST, "/", &headers, Bytes::from_static(b"{}"))
        .await?;
    Ok(serde_json::from_slice(&up.body).unwrap_or_default())
}

/// IAM's centralized root access features of the caller's organization, which only its
/// management account reads and changes. The organization comes from moto (`DescribeOrganization`
/// in the caller's name).
async fn root_features(s: &Shared, c: &Call, account: &str) -> Result<Response, Reject> {
    let Some((action, change)) = root_features_action(c) else {
        return Ok(iam_error(
            400,
            "InvalidAction",
            "not a root features action",
        ));
    };
    let org = organizations_call(s, c, "DescribeOrganization").await?;
    let Some(id) = org["Organization"]["Id"].as_str().map(str::to_owned) else {
        return Ok(iam_error(
            400,
            "OrganizationNotFoundException",
            "The request failed because AWS Organizations could not find the organization.",
        ));
    };
    if org["Organization"]["MasterAccountId"].as_str() != Some(account) {
        return Ok(iam_error(
            400,
            "AccountNotManagementOrDelegatedAdministratorException",
            "The request was rejected because the account making the request is not the management account or delegated administrator account for centralized root access.",
        ));
    }
    let features: Vec<String> = s.with(|st| {
        let set = st.root_features.entry(account.to_owned()).or_default();
        if let Some((feature, enable)) = change {
            if enable {
                set.insert(feature.to_owned());
            } else {
                set.remove(feature);
            }
        }
        set.iter().cloned().collect()
    });
    let members: String = features
        .iter()
        .map(|f| format!("<member>{}</member>", xml_escape(f)))
        .collect();
    Ok(iam_result(
        action,
        &format!(
            "<OrganizationId>{}</OrganizationId><EnabledFeatures>{members}</EnabledFeatures>",
            xml_escape(&id)
        ),
    ))
}

/// How long AWS keeps serving a credential report before `GenerateCredentialReport` builds another.
const CREDENTIAL_REPORT_SECS: f64 = 4.0 * 3600.0;

/// The account's credential report as first served within the last four hours, else moto's new
/// one (then kept).
fn kept_report(s: &Shared, account: &str, up: Upstream) -> Response {
    let now = now_secs();
    s.with(|st| match st.credential_reports.get(account) {
        Some((kept, at)) if now - at < CREDENTIAL_REPORT_SECS => kept.clone(),
        _ => {
            st.credential_reports
                .insert(account.to_owned(), (up.clone(), now));
            up
        }
    })
    .into_response()
}

/// moto's `GetAccountAuthorizationDetails` answer with each seeded principal's creation date.
fn backdated(s: &Shared, up: Upstream) -> Response {
    let created: Vec<(String, String)> = s.with(|st| {
        st.last_accessed
            .iter()
            .filter_map(|(arn, seed)| Some((arn.clone(), seed["created"].as_str()?.to_owned())))
            .collect()
    });
    if created.is_empty() {
        return up.into_response();
    }
    let mut text = String::from_utf8_lossy(&up.body).into_owned();
    for (arn, date) in &created {
        text = with_create_date(&text, arn, date);
    }
    let mut up = up;
    up.body = Bytes::from(text);
    up.into_response()
}

/// `xml` with the `<CreateDate>` that follows each `<Arn>arn</Arn>` set to `date`.
fn with_create_date(xml: &str, arn: &str, date: &str) -> String {
    let tag = format!("<Arn>{}</Arn>", xml_escape(arn));
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(i) = rest.find(&tag) {
        let end = i + tag.len();
        out.push_str(&rest[..end]);
        rest = &rest[end..];
        let trimmed = rest.trim_start();
        if let Some(after) = trimmed.strip_prefix("<CreateDate>") {
            if let Some(close) = after.find("</CreateDate>") {
                out.push_str(&rest[..rest.len() - trimmed.len()]);
                out.push_str(&format!("<CreateDate>{}</CreateDate>", xml_escape(date)));
                rest = &after[close + "</CreateDate>".len()..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Seeds the shim in front of moto (`endpoint`, `http://127.0.0.1:PORT`) with a principal's
/// service use and creation date, which no AWS API can set: `services` are (namespace, last
/// authenticated or `None` for never), `created` back-dates the principal in IAM's answers.
pub fn seed_last_accessed(
    endpoint: &str,
    arn: &str,
    created: Option<chrono::DateTime<chrono::Utc>>,
    services: &[(&str, Option<chrono::DateTime<chrono::Utc>>)],
    in_progress_polls: u32,
) {
    post_seed(
        endpoint,
        &json!({
            "arn": arn,
            "created": created.map(iso),
            "services": services.iter().map(|(n, t)| json!({"namespace": n, "last_authenticated": t.map(iso)})).collect::<Vec<_>>(),
            "in_progress_polls": in_progress_polls,
        }),
    );
}

/// Seeds the shim so that the last-accessed jobs of `arn` end `FAILED` with `message`.
pub fn seed_failed_last_accessed(endpoint: &str, arn: &str, message: &str) {
    post_seed(endpoint, &json!({"arn": arn, "failed": message}));
}

fn post_seed(endpoint: &str, seed: &Json) {
    let port: u16 = endpoint
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a shim endpoint with a port");
    let (status, text) = crate::http::post(port, "/_shim/service-last-accessed", &seed.to_string())
        .expect("seed the shim");
    assert_eq!(status, 200, "the shim refused the seed: {text}");
}

// ---- Systems Manager (JSON 1.1): compliance and managed nodes ----

const SSM_TARGET: &str = "AmazonSSM.";

// ---- EC2 Image Builder (restJson1) ----

/// `CreateImagePipeline` and `ListImagePipelines`, which moto lacks, from the shim's own state
/// (a pipeline is `ENABLED` unless created otherwise; it never runs).
fn image_pipelines(
    s: &Shared,
    c: &Call,
    scope: Scope,
    account: &str,
    create: bool,
) -> Result<Response, Reject> {
    let body = c.json_body()?;
    if create {
        let name = body["name"].as_str().filter(|n| !n.is_empty());
        let recipe = body["imageRecipeArn"].is_string() || body["containerRecipeArn"].is_string();
        let (Some(name), true, true) = (
            name,
            recipe,
            body["infrastructureConfigurationArn"].is_string(),
        ) else {
            return Err(Box::new(rest_error(
                400,
                "InvalidParameterException",
                "name, a recipe ARN and infrastructureConfigurationArn are required",
            )));
        };
        let arn = format!(
            "arn:aws:imagebuilder:{}:{account}:image-pipeline/{}",
            scope.1,
            name.to_ascii_lowercase()
        );
        let mut pipeline = body.clone();
        if let Some(p) = pipeline.as_object_mut() {
            p.remove("clientToken");
            p.remove("tags");
        }
        pipeline["arn"] = json!(arn);
        if !pipeline["status"].is_string() {
            pipeline["status"] = json!("ENABLED");
        }
        pipeline["dateCreated"] = json!(chrono::Utc::now().to_rfc3339());
        let taken = s.with(|st| {
            let all = st.image_pipelines.entry(scope.clone()).or_default();
            if all.iter().any(|p| p["arn"] == json!(arn)) {
                return true;
            }
            all.push(pipeline);
            false
        });
        if taken {
            return Err(Box::new(rest_error(
                409,
                "ResourceAlreadyExistsException",
                &format!("{arn} already exists"),
            )));
        }
        return Ok(rest_ok(&json!({
            "requestId": new_id(),
            "clientToken": body["clientToken"],
            "imagePipelineArn": arn,
        })));
    }
    let all = s.with(|st| st.image_pipelines.get(&scope).cloned().unwrap_or_default());
    let max = body["maxResults"]
        .as_u64()
        .and_then(|m| usize::try_from(m).ok());
    let (items, next) = page(&all, body["nextToken"].as_str(), max);
    let mut answer = json!({ "requestId": new_id(), "imagePipelineList": items });
    if let Some(t) = next {
        answer["nextToken"] = json!(t);
    }
    Ok(rest_ok(&answer))
}

// ---- Cost Explorer's anomaly detection (JSON 1.1) ----

const CE_TARGET: &str = "AWSInsightsIndexService.";

/// Cost Anomaly Detection, which moto lacks: monitors and their subscriptions kept per account
/// (Cost Explorer is global), paged with `NextPageToken` / `MaxResults`.
fn cost_anomalies(s: &Shared, c: &Call, account: &str, op: &str) -> Result<Response, Reject> {
    let body = c.json_body()?;
    let invalid = |m: &str| Box::new(json11_error("ValidationException", m));
    let id = new_id();
    match op {
        "CreateAnomalyMonitor" => {
            let mut monitor = body["AnomalyMonitor"].clone();
            if !monitor["MonitorName"].is_string() || !monitor["MonitorType"].is_string() {
                return Err(invalid("AnomalyMonitor needs MonitorName and MonitorType"));
            }
            let arn = format!("arn:aws:ce::{account}:anomalymonitor/{id}");
            monitor["MonitorArn"] = json!(arn);
            monitor["CreationDate"] = json!(chrono::Utc::now().format("%Y-%m-%d").to_string());
            s.with(|st| {
                st.anomaly_monitors
                    .entry(account.to_owned())
                    .or_default()
                    .push(monitor)
            });
            Ok(json_response(200, JSON11, &json!({ "MonitorArn": arn })))
        }
        "CreateAnomalySubscription" => {
            let mut sub = body["AnomalySubscription"].clone();
            let monitors: Vec<String> = sub["MonitorArnList"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|m| m.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            if !sub["SubscriptionName"].is_string() || monitors.is_empty() {
                return Err(invalid(
                    "AnomalySubscription needs SubscriptionName and MonitorArnList",
                ));
            }
            let known = s.with(|st| {
                let mine = st
                    .anomaly_monitors
                    .get(account)
                    .cloned()
                    .unwrap_or_default();
                monitors
                    .iter()
                    .all(|m| mine.iter().any(|x| x["MonitorArn"] == json!(m)))
            });
            if !known {
                return Err(Box::new(json11_error(
                    "UnknownMonitorException",
                    "a monitor of MonitorArnList does not exist",
                )));
            }
            let arn = format!("arn:aws:ce::{account}:anomalysubscription/{id}");
            sub["SubscriptionArn"] = json!(arn);
            sub["AccountId"] = json!(account);
            s.with(|st| {
                st.anomaly_subscriptions
                    .entry(account.to_owned())
                    .or_default()
                    .push(sub)
            });
            Ok(json_response(
                200,
                JSON11,
                &json!({ "SubscriptionArn": arn }),
            ))
        }
        _ => {
            let (key, all) = if op == "GetAnomalyMonitors" {
                let all = s.with(|st| {
                    st.anomaly_monitors
                        .get(account)
                        .cloned()
                        .unwrap_or_default()
                });
                ("AnomalyMonitors", all)
            } else {
                let all = s.with(|st| {
                    st.anomaly_subscriptions
                        .get(account)
                        .cloned()
                        .unwrap_or_default()
                });
                ("AnomalySubscriptions", all)
            };
            let max = body["MaxResults"]
                .as_u64()
                .and_then(|m| usize::try_from(m).ok());
            let (items, next) = page(&all, body["NextPageToken"].as_str(), max);
            let mut answer = json!({ key: items });
            if let Some(t) = next {
                answer["NextPageToken"] = json!(t);
            }
            Ok(json_response(200, JSON11, &answer))
        }
    }
}

/// A JSON 1.1 error: the code in `__type`.
fn json11_error(code: &str, message: &str) -> Response {
    json_response(400, JSON11, &json!({ "__type": code, "message": message }))
}

/// `PutComplianceItems` stores a node's items of one compliance type (replacing the earlier
/// report, as AWS does); `ListResourceComplianceSummaries` sums them per node and type;
/// `DescribeInstanceInformation` lists the nodes that reported.
fn ssm(s: &Shared, c: &Call, scope: Scope, op: &str) -> Result<Response, Reject> {
    let body = c.json_body()?;
    let invalid = |m: &str| Box::new(json11_error("ValidationException", m));
    match op {
        "PutComplianceItems" => {
            let resource = body["ResourceId"]
                .as_str()
                .filter(|r| !r.is_empty())
                .ok_or_else(|| invalid("ResourceId is required"))?;
            let kind = body["ComplianceType"]
                .as_str()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| invalid("ComplianceType is required"))?;
            if body["ResourceType"] != "ManagedInstance" {
                return Err(invalid("ResourceType must be ManagedInstance"));
            }
            let items = body["Items"].as_array().cloned().unwrap_or_default();
            s.with(|st| {
                st.compliance
                    .entry(scope)
                    .or_default()
                    .insert((resource.to_owned(), kind.to_owned()), items)
            });
            Ok(json_response(200, JSON11, &json!({})))
        }
        "ListResourceComplianceSummaries" => {
            // Only the filter the agent sends: ComplianceType EQUAL one value.
            let wanted: Option<String> = body["Filters"].as_array().and_then(|f| {
                f.iter()
                    .find(|f| f["Key"] == "ComplianceType")
                    .and_then(|f| f["Values"][0].as_str().map(str::to_owned))
            });
            let all: Vec<Json> = s.with(|st| {
                (st.compliance.get(&scope).into_iter().flatten())
                    .filter(|((_, kind), _)| wanted.as_deref().is_none_or(|w| w == kind))
                    .map(|((resource, kind), items)| compliance_summary(resource, kind, items))
                    .collect()
            });
            let max = body["MaxResults"]
                .as_u64()
                .and_then(|m| usize::try_from(m).ok());
            let (items, next) = page(&all, body["NextToken"].as_str(), max);
            let mut out = json!({ "ResourceComplianceSummaryItems": items });
            if let Some(n) = next {
                out["NextToken"] = json!(n);
            }
            Ok(json_response(200, JSON11, &out))
        }
        _ => {
            let nodes: Vec<Json> = s.with(|st| {
                let ids: std::collections::BTreeSet<&String> = (st.compliance.get(&scope))
                    .into_iter()
                    .flat_map(|m| m.keys().map(|(r, _)| r))
                    .collect();
                ids.into_iter()
                    .map(|id| {
                        json!({
                            "InstanceId": id, "PingStatus": "Online", "ResourceType": "EC2Instance",
                            "PlatformType": "Linux", "IsLatestVersion": true,
                        })
                    })
                    .collect()
            });
            let max = body["MaxResults"]
                .as_u64()
                .and_then(|m| usize::try_from(m).ok());
            let (items, next) = page(&nodes, body["NextToken"].as_str(), max);
            let mut out = json!({ "InstanceInformationList": items });
            if let Some(n) = next {
                out["NextToken"] = json!(n);
            }
            Ok(json_response(200, JSON11, &out))
        }
    }
}

/// One `ResourceComplianceSummaryItem`: non-compliant when any item is, with counts by severity.
fn compliance_summary(resource: &str, kind: &str, items: &[Json]) -> Json {
    let severities = [
        "CRITICAL",
        "HIGH",
        "MEDIUM",
        "LOW",
        "INFORMATIONAL",
        "UNSPECIFIED",
    ];
    let summary = |status: &str| {
        let of: Vec<&Json> = items.iter().filter(|i| i["Status"] == status).collect();
        let count = |sev: &str| of.iter().filter(|i| i["Severity"] == sev).count();
        let mut by = serde_json::Map::new();
        for (sev, key) in severities.iter().zip([
            "CriticalCount",
            "HighCount",
            "MediumCount",
            "LowCount",
            "InformationalCount",
            "UnspecifiedCount",
        ]) {
            by.insert(key.to_owned(), json!(count(sev)));
        }
        (of.len(), Json::Object(by))
    };
    let (bad, bad_by) = summary("NON_COMPLIANT");
    let (good, good_by) = summary("COMPLIANT");
    let worst = severities
        .iter()
        .find(|sev| {
            items
                .iter()
                .any(|i| i["Status"] == "NON_COMPLIANT" && i["Severity"] == **sev)
        })
        .unwrap_or(&"UNSPECIFIED");
    json!({
        "ComplianceType": kind, "ResourceType": "ManagedInstance", "ResourceId": resource,
        "Status": if bad > 0 { "NON_COMPLIANT" } else { "COMPLIANT" },
        "OverallSeverity": worst,
        "ExecutionSummary": { "ExecutionTime": now_secs() },
        "CompliantSummary": { "CompliantCount": good, "SeveritySummary": good_by },
        "NonCompliantSummary": { "NonCompliantCount": bad, "SeveritySummary": bad_by },
    })
}

// ---- CodeDeploy (JSON 1.1): alarm configurations of deployment groups ----

const CODEDEPLOY_TARGET: &str = "CodeDeploy_20141006.";

/// moto's answer, with the alarm configuration of the created group recorded
/// (`CreateDeploymentGroup`) or put back (`GetDeploymentGroup`).
async fn deployment_group(
    s: &Shared,
    c: &Call,
    scope: Scope,
    op: &str,
) -> Result<Response, Reject> {
    let body = c.json_body()?;
    let key = (
        body["applicationName"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["deploymentGroupName"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    );
    let up = s.forward(c).await?;
    if !up.ok() {
        return Ok(up.into_response());
    }
    if op == "CreateDeploymentGroup" {
        if let Some(alarms) = body.get("alarmConfiguration") {
            s.with(|st| {
                st.deployment_alarms
                    .entry(scope)
                    .or_default()
                    .insert(key, alarms.clone())
            });
        }
        return Ok(up.into_response());
    }
    let Some(alarms) = s.with(|st| {
        st.deployment_alarms
            .get(&scope)
            .and_then(|m| m.get(&key))
            .cloned()
    }) else {
        return Ok(up.into_response());
    };
    let mut answer: Json = serde_json::from_slice(&up.body).map_err(|e| {
        Box::new(json11_error(
            "InternalFailure",
            &format!("moto's answer is not JSON: {e}"),
        ))
    })?;
    answer["deploymentGroupInfo"]["alarmConfiguration"] = alarms;
    Ok(json_response(200, JSON11, &answer))
}

// ---- CloudWatch Synthetics (restJson1) ----

/// moto's `CreateCanary` / `DescribeCanaries` answer with each canary's `Timeline` times
/// (ISO 8601 strings in moto) as epoch seconds, restJson1's timestamp form.
async fn canary_timeline(s: &Shared, c: &Call) -> Result<Response, Reject> {
    let up = s.forward(c).await?;
    if !up.ok() {
        return Ok(up.into_response());
    }
    let mut answer: Json = serde_json::from_slice(&up.body).map_err(|e| {
        Box::new(rest_error(
            500,
            "InternalServerException",
            &format!("moto's answer is not JSON: {e}"),
        ))
    })?;
    let canaries = match answer.get_mut("Canaries") {
        Some(Json::Array(all)) => all.iter_mut().collect(),
        _ => answer.get_mut("Canary").into_iter().collect::<Vec<_>>(),
    };
    for canary in canaries {
        if let Some(Json::Object(timeline)) = canary.get_mut("Timeline") {
            for v in timeline.values_mut() {
                if let Some(t) = v
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                {
                    *v = json!(t.timestamp_millis() as f64 / 1000.0);
                }
            }
        }
    }
    Ok(rest_ok(&answer))
}

// ---- IAM Access Analyzer (restJson1) ----

const ANALYZER_TYPES: [&str; 4] = [
    "ACCOUNT",
    "ORGANIZATION",
    "ACCOUNT_UNUSED_ACCESS",
    "ORGANIZATION_UNUSED_ACCESS",
];

fn create_analyzer(s: &Shared, c: &Call, scope: Scope) -> Result<Response, Reject> {
    let body = c.json_body()?;
    let validation = |m: &str| {
        Box::new(rest_error_with(
            400,
            "ValidationException",
            m,
            json!({"reason": "fieldValidationFailed"}),
        ))
    };
    let name = body["analyzerName"]
        .as_str()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| validation("analyzerName is required"))?;
    let kind = body["type"].as_str().unwrap_or("ACCOUNT");
    if !ANALYZER_TYPES.contains(&kind) {
        return Err(validation(&format!("type {kind} is not valid")));
    }
    let (account, region) = &scope;
    let arn = format!("arn:aws:access-analyzer:{region}:{account}:analyzer/{name}");
    let summary = json!({
        "arn": arn, "name": name, "type": kind, "status": "ACTIVE",
        "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "tags": body.get("tags").cloned().unwrap_or(json!({})),
    });
    s.with(|st| {
        let list = st.analyzers.entry(scope.clone()).or_default();
        if list.iter().any(|a| a["name"] == name) {
            return Err(Box::new(rest_error_with(
                409,
                "ConflictException",
                &format!("Analyzer {name} already exists"),
                json!({"resourceId": name, "resourceType": "Analyzer"}),
            )));
        }
        list.push(summary);
        Ok(rest_ok(&json!({ "arn": arn })))
    })
}

fn list_analyzers(s: &Shared, c: &Call, scope: &Scope) -> Response {
    let kind = c.query_param("type");
    let all: Vec<Json> = s.with(|st| {
        (st.analyzers.get(scope).into_iter().flatten())
            .filter(|a| kind.as_deref().is_none_or(|k| a["type"] == k))
            .cloned()
            .collect()
    });
    let max = c.query_param("maxResults").and_then(|m| m.parse().ok());
    let (items, next) = page(&all, c.query_param("nextToken").as_deref(), max);
    let mut out = json!({ "analyzers": items });
    if let Some(n) = next {
        out["nextToken"] = json!(n);
    }
    rest_ok(&out)
}

// ---- Amazon Detective (restJson1) ----

async fn detective(s: &Shared, c: &Call, scope: Scope) -> Result<Response, Reject> {
    let body = c.json_body()?;
    let (account, region) = scope.clone();
    let not_found = || {
        Box::new(rest_error(
            404,
            "ResourceNotFoundException",
            "The request refers to a nonexistent resource.",
        ))
    };
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let member = |id: &str, graph: &str, status: &str, kind: &str| {
        json!({
            "AccountId": id, "EmailAddress": format!("aws+{id}@example.com"), "GraphArn": graph,
            "AdministratorId": account, "MasterId": account, "Status": status,
            "InvitationType": kind, "InvitedTime": now, "UpdatedTime": now,
        })
    };
    match c.path.as_str() {
        "/graph" => {
            let arn = format!(
                "arn:aws:detective:{region}:{account}:graph:{:032x}",
                rand_u128(&scope)
            );
            let me = member(&account, &arn, "ENABLED", "ORGANIZATION");
            s.with(|st| {
                if st.graphs.contains_key(&scope) {
                    return Err(Box::new(rest_error(
                        409,
                        "ConflictException",
                        "The request attempted an invalid action.",
                    )));
                }
                st.graphs.insert(scope.clone(), (arn.clone(), vec![me]));
                Ok(rest_ok(&json!({ "GraphArn": arn })))
            })
        }
        "/graphs/list" => Ok(rest_ok(&s.with(|st| {
            let list: Vec<Json> = (st.graphs.get(&scope).into_iter())
                .map(|(arn, _)| json!({"Arn": arn, "CreatedTime": now}))
                .collect();
            json!({ "GraphList": list })
        }))),
        "/graph/members" => {
            let graph = body["GraphArn"].as_str().unwrap_or_default().to_owned();
            // Accounts of the administrator's organization are enabled at once.
            let listed = organizations_call(s, c, "ListAccounts").await?;
            let organization: Vec<String> = (listed["Accounts"].as_array().into_iter().flatten())
                .filter_map(|a| a["Id"].as_str().map(str::to_owned))
                .collect();
            s.with(|st| {
                let Some((arn, members)) = st.graphs.get_mut(&scope).filter(|g| g.0 == graph)
                else {
                    return Err(not_found());
                };
                let mut added = Vec::new();
                for a in body["Accounts"].as_array().into_iter().flatten() {
                    let id = a["AccountId"].as_str().unwrap_or_default();
                    let (status, kind) = if organization.iter().any(|o| o == id) {
                        ("ENABLED", "ORGANIZATION")
                    } else {
                        ("INVITED", "INVITATION")
                    };
                    members.retain(|m| m["AccountId"] != id);
                    let m = member(id, arn, status, kind);
                    members.push(m.clone());
                    added.push(m);
                }
                Ok(rest_ok(
                    &json!({ "Members": added, "UnprocessedAccounts": [] }),
                ))
            })
        }
        _ => {
            let graph = body["GraphArn"].as_str().unwrap_or_default();
            let members = s.with(|st| {
                st.graphs
                    .get(&scope)
                    .filter(|g| g.0 == graph)
                    .map(|g| g.1.clone())
            });
            let members = members.ok_or_else(not_found)?;
            let max = body["MaxResults"].as_u64().map(|m| m as usize);
            let (items, next) = page(&members, body["NextToken"].as_str(), max);
            let mut out = json!({ "MemberDetails": items });
            if let Some(n) = next {
                out["NextToken"] = json!(n);
            }
            Ok(rest_ok(&out))
        }
    }
}

/// A stable pseudo-random id for a graph of `scope`.
fn rand_u128(scope: &Scope) -> u128 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    scope.hash(&mut h);
    u128::from(h.finish())
}

// ---- AWS Backup (restJson1) ----

/// The plan id of `/backup/plans/{id}/selections[/]`.
fn selections_plan(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/backup/plans/")?;
    let (id, tail) = rest.split_once('/')?;
    (matches!(tail, "selections" | "selections/") && !id.is_empty()).then_some(id)
}

async fn backup_selections(
    s: &Shared,
    c: &Call,
    scope: Scope,
    plan: &str,
) -> Result<Response, Reject> {
    // The plan must exist in moto: its GetBackupPlan answer (an error is relayed as is).
    let plan_path = format!("/backup/plans/{plan}");
    let known = s.sibling(c, Method::GET, &plan_path, &[], "").await?;
    if !known.ok() {
        return Ok(known.into_response());
    }
    let key = (scope.clone(), plan.to_owned());
    if c.method == Method::GET {
        let all = s.with(|st| st.selections.get(&key).cloned().unwrap_or_default());
        let max = c.query_param("maxResults").and_then(|m| m.parse().ok());
        let (items, next) = page(&all, c.query_param("nextToken").as_deref(), max);
        let mut out = json!({ "BackupSelectionsList": items });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        return Ok(rest_ok(&out));
    }
    let body = c.json_body()?;
    let sel = &body["BackupSelection"];
    let missing = |f: &str| {
        Box::new(rest_error_with(
            400,
            "MissingParameterValueException",
            &format!("BackupSelection.{f} is required"),
            json!({"Code": "MissingParameterValueException"}),
        ))
    };
    let name = sel["SelectionName"]
        .as_str()
        .ok_or_else(|| missing("SelectionName"))?;
    let role = sel["IamRoleArn"]
        .as_str()
        .ok_or_else(|| missing("IamRoleArn"))?;
    let id = new_id();
    let created = now_secs();
    let mut member = json!({
        "SelectionId": id, "SelectionName": name, "BackupPlanId": plan,
        "CreationDate": created, "IamRoleArn": role,
    });
    if let Some(r) = body["CreatorRequestId"].as_str() {
        member["CreatorRequestId"] = json!(r);
    }
    s.with(|st| st.selections.entry(key).or_default().push(member));
    Ok(rest_ok(
        &json!({"SelectionId": id, "BackupPlanId": plan, "CreationDate": created}),
    ))
}

// ---- CloudWatch (rpc-v2-cbor) ----

fn cbor_response(status: u16, body: &Cbor, query_error: Option<&str>) -> Response {
    let mut buf = Vec::new();
    if let Err(e) = ciborium::into_writer(body, &mut buf) {
        return (StatusCode::INTERNAL_SERVER_ERROR, format!("aws-shim: {e}")).into_response();
    }
    let mut r = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), buf).into_response();
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/cbor"));
    h.insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
    if let Some(q) = query_error.and_then(|q| HeaderValue::from_str(q).ok()) {
        h.insert("x-amzn-query-error", q);
    }
    r
}

/// A CloudWatch error: the shape id in `__type`, the query protocol's code in
/// `x-amzn-query-error` (CloudWatch is query-compatible).
fn cbor_error(shape: &str, query_code: &str, message: &str) -> Response {
    cbor_response(
        400,
        &Cbor::Map(vec![
            (
                text("__type"),
                text(&format!("com.amazonaws.cloudwatch#{shape}")),
            ),
            (text("message"), text(message)),
        ]),
        Some(&format!("{query_code};Sender")),
    )
}

fn text(s: &str) -> Cbor {
    Cbor::Text(s.to_owned())
}

fn get<'a>(map: &'a [(Cbor, Cbor)], key: &str) -> Option<&'a Cbor> {
    map.iter()
        .find(|(k, _)| k.as_text() == Some(key))
        .map(|(_, v)| v)
}

fn timestamp(secs: f64) -> Cbor {
    Cbor::Tag(1, Box::new(Cbor::Float(secs)))
}

/// The `PutMetricAlarm` input members that `DescribeAlarms` gives back in a `MetricAlarm`.
const ALARM_MEMBERS: [&str; 19] = [
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "Metrics",
];

/// `PutDashboard` (the body must be a JSON object, as AWS requires) and `ListDashboards` (by
/// `DashboardNamePrefix`, 1000 a page as AWS pages them).
fn dashboards(
    s: &Shared,
    scope: &Scope,
    operation: &str,
    str_of: &dyn Fn(&str) -> Option<String>,
) -> Response {
    if operation == "PutDashboard" {
        let (Some(name), Some(body)) = (str_of("DashboardName"), str_of("DashboardBody")) else {
            return cbor_error(
                "MissingRequiredParameterException",
                "MissingParameter",
                "The parameters DashboardName and DashboardBody are required.",
            );
        };
        if !serde_json::from_str::<Json>(&body).is_ok_and(|b| b.is_object()) {
            return cbor_error(
                "DashboardInvalidInputError",
                "InvalidParameterInput",
                "The dashboard body is invalid, there are 1 validation errors: \
                 the body must be a JSON object",
            );
        }
        s.with(|st| {
            st.dashboards
                .entry(scope.clone())
                .or_default()
                .insert(name, (body, now_secs()))
        });
        return cbor_response(
            200,
            &Cbor::Map(vec![(
                text("DashboardValidationMessages"),
                Cbor::Array(vec![]),
            )]),
            None,
        );
    }
    let prefix = str_of("DashboardNamePrefix").unwrap_or_default();
    let account = &scope.0;
    let all: Vec<Cbor> = s.with(|st| {
        (st.dashboards.get(scope).into_iter().flat_map(|m| m.iter()))
            .filter(|(name, _)| name.starts_with(prefix.as_str()))
            .map(|(name, (body, modified))| {
                Cbor::Map(vec![
                    (text("DashboardName"), text(name)),
                    (
                        text("DashboardArn"),
                        text(&format!("arn:aws:cloudwatch::{account}:dashboard/{name}")),
                    ),
                    (text("LastModified"), timestamp(*modified)),
                    (text("Size"), Cbor::Integer(body.len().into())),
                ])
            })
            .collect()
    });
    let (items, next) = page(&all, str_of("NextToken").as_deref(), Some(1000));
    let mut out = vec![(text("DashboardEntries"), Cbor::Array(items))];
    if let Some(n) = next {
        out.push((text("NextToken"), text(&n)));
    }
    cbor_response(200, &Cbor::Map(out), None)
}

fn cloudwatch(s: &Shared, c: &Call, scope: Scope, operation: &str) -> Response {
    let input = if c.body.is_empty() {
        Cbor::Map(vec![])
    } else {
        match ciborium::from_reader::<Cbor, _>(&c.body[..]) {
            Ok(v) => v,
            Err(e) => {
                return cbor_error(
                    "InvalidParameterValueException",
                    "InvalidParameterValue",
                    &format!("body is not CBOR: {e}"),
                )
            }
        }
    };
    let Some(input) = input.as_map() else {
        return cbor_error(
            "InvalidParameterValueException",
            "InvalidParameterValue",
            "the body is not a CBOR map",
        );
    };
    let str_of = |k: &str| get(input, k).and_then(Cbor::as_text).map(str::to_owned);
    if operation == "PutDashboard" || operation == "ListDashboards" {
        return dashboards(s, &scope, operation, &str_of);
    }
    if operation == "PutMetricData" || operation == "ListMetrics" {
        return metrics(s, &scope, operation, input, &str_of);
    }
    if operation == "PutMetricAlarm" {
        for required in ["AlarmName", "EvaluationPeriods", "ComparisonOperator"] {
            if get(input, required).is_none() {
                return cbor_error(
                    "MissingRequiredParameterException",
                    "MissingParameter",
                    &format!("The parameter {required} is required."),
                );
            }
        }
        let name = str_of("AlarmName").unwrap_or_default();
        let (account, region) = &scope;
        let now = now_secs();
        let mut alarm: Vec<(Cbor, Cbor)> = ALARM_MEMBERS
            .iter()
            .filter_map(|m| get(input, m).map(|v| (text(m), v.clone())))
            .collect();
        if get(&alarm, "ActionsEnabled").is_none() {
            alarm.push((text("ActionsEnabled"), Cbor::Bool(true)));
        }
        alarm.extend([
            (
                text("AlarmArn"),
                text(&format!(
                    "arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
                )),
            ),
            (text("AlarmConfigurationUpdatedTimestamp"), timestamp(now)),
            (text("StateValue"), text("INSUFFICIENT_DATA")),
            (
                text("StateReason"),
                text("Unchecked: Initial alarm creation"),
            ),
            (text("StateUpdatedTimestamp"), timestamp(now)),
        ]);
        s.with(|st| st.alarms.entry(scope).or_default().insert(name, alarm));
        return cbor_response(200, &Cbor::Map(vec![]), None);
    }
    // DescribeAlarms: metric alarms only (the shim keeps no composite alarms).
    let names: Option<Vec<String>> = get(input, "AlarmNames").and_then(Cbor::as_array).map(|a| {
        a.iter()
            .filter_map(|n| n.as_text().map(str::to_owned))
            .collect()
    });
    let prefix = str_of("AlarmNamePrefix");
    let state = str_of("StateValue");
    let action_prefix = str_of("ActionPrefix");
    let all: Vec<Cbor> = s.with(|st| {
        (st.alarms.get(&scope).into_iter().flat_map(|m| m.iter()))
            .filter(|(name, _)| names.as_ref().is_none_or(|n| n.contains(name)))
            .filter(|(name, _)| prefix.as_ref().is_none_or(|p| name.starts_with(p.as_str())))
            .filter(|(_, a)| {
                state
                    .as_ref()
                    .is_none_or(|s| get(a, "StateValue").and_then(Cbor::as_text) == Some(s))
            })
            .filter(|(_, a)| {
                action_prefix.as_ref().is_none_or(|p| {
                    ["OKActions", "AlarmActions", "InsufficientDataActions"]
                        .iter()
                        .filter_map(|k| get(a, k).and_then(Cbor::as_array))
                        .flatten()
                        .any(|x| x.as_text().is_some_and(|x| x.starts_with(p.as_str())))
                })
            })
            .map(|(_, a)| Cbor::Map(a.clone()))
            .collect()
    });
    let max = get(input, "MaxRecords")
        .and_then(Cbor::as_integer)
        .and_then(|i| usize::try_from(i).ok());
    let (items, next) = page(&all, str_of("NextToken").as_deref(), max);
    let mut out = vec![(text("MetricAlarms"), Cbor::Array(items))];
    if let Some(n) = next {
        out.push((text("NextToken"), text(&n)));
    }
    cbor_response(200, &Cbor::Map(out), None)
}

/// The `{Name, Value}` maps of a CBOR `Dimensions` list.
fn dimensions_of(v: Option<&Cbor>) -> Vec<(String, Option<String>)> {
    v.and_then(Cbor::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| {
            let d = d.as_map()?;
            let text_of = |k| get(d, k).and_then(Cbor::as_text).map(str::to_owned);
            Some((text_of("Name")?, text_of("Value")))
        })
        .collect()
}

/// `PutMetricData` records each metric (namespace, name, dimensions) with the time of the call;
/// `ListMetrics` filters them by `Namespace`, `MetricName`, `Dimensions` (a name, or a name and a
/// value) and `RecentlyActive` (`PT3H`: put within three hours), 500 a page as AWS pages them.
fn metrics(
    s: &Shared,
    scope: &Scope,
    operation: &str,
    input: &[(Cbor, Cbor)],
    str_of: &dyn Fn(&str) -> Option<String>,
) -> Response {
    if operation == "PutMetricData" {
        let Some(namespace) = str_of("Namespace") else {
            return cbor_error(
                "MissingRequiredParameterException",
                "MissingParameter",
                "The parameter Namespace is required.",
            );
        };
        let mut keys = Vec::new();
        for datum in get(input, "MetricData")
            .and_then(Cbor::as_array)
            .into_iter()
            .flatten()
        {
            let Some(name) = datum
                .as_map()
                .and_then(|d| get(d, "MetricName"))
                .and_then(Cbor::as_text)
            else {
                return cbor_error(
                    "MissingRequiredParameterException",
                    "MissingParameter",
                    "The parameter MetricData.member.MetricName is required.",
                );
            };
            let mut dims: Vec<(String, String)> =
                dimensions_of(datum.as_map().and_then(|d| get(d, "Dimensions")))
                    .into_iter()
                    .map(|(n, v)| (n, v.unwrap_or_default()))
                    .collect();
            dims.sort();
            keys.push((namespace.clone(), name.to_owned(), dims));
        }
        let now = now_secs();
        s.with(|st| {
            let all = st.metrics.entry(scope.clone()).or_default();
            for k in keys {
                all.insert(k, now);
            }
        });
        return cbor_response(200, &Cbor::Map(vec![]), None);
    }
    let namespace = str_of("Namespace");
    let name = str_of("MetricName");
    let filters = dimensions_of(get(input, "Dimensions"));
    let since = match str_of("RecentlyActive").as_deref() {
        None => 0.0,
        Some("PT3H") => now_secs() - 3.0 * 3600.0,
        Some(other) => {
            return cbor_error(
                "InvalidParameterValueException",
                "InvalidParameterValue",
                &format!("RecentlyActive {other} is not PT3H"),
            )
        }
    };
    let all: Vec<Cbor> = s.with(|st| {
        (st.metrics.get(scope).into_iter().flatten())
            .filter(|((ns, n, dims), last)| {
                **last >= since
                    && namespace.as_ref().is_none_or(|x| x == ns)
                    && name.as_ref().is_none_or(|x| x == n)
                    && filters.iter().all(|(fname, fvalue)| {
                        dims.iter()
                            .any(|(dn, dv)| dn == fname && fvalue.as_ref().is_none_or(|v| v == dv))
                    })
            })
            .map(|((ns, n, dims), _)| {
                Cbor::Map(vec![
                    (text("Namespace"), text(ns)),
                    (text("MetricName"), text(n)),
                    (
                        text("Dimensions"),
                        Cbor::Array(
                            dims.iter()
                                .map(|(dn, dv)| {
                                    Cbor::Map(vec![
                                        (text("Name"), text(dn)),
                                        (text("Value"), text(dv)),
                                    ])
                                })
                                .collect(),
                        ),
                    ),
                ])
            })
            .collect()
    });
    let (items, next) = page(&all, str_of("NextToken").as_deref(), Some(500));
    let mut out = vec![(text("Metrics"), Cbor::Array(items))];
    if let Some(n) = next {
        out.push((text("NextToken"), text(&n)));
    }
    cbor_response(200, &Cbor::Map(out), None)
}

// ---- Security Hub (restJson1) ----

/// The integrations with AWS services that Security Hub turns on when it is enabled (AWS lists
/// more; these are the ones the demo's checks can meet).
const AWS_INTEGRATIONS: [&str; 4] = [
    "aws/guardduty",
    "aws/inspector",
    "aws/macie",
    "aws/access-analyzer",
];

/// `EnableImportFindingsForProduct` (`POST /productSubscriptions`),
/// `ListEnabledProductsForImport` (`GET`, paged by `MaxResults` / `NextToken`) and
/// `DisableImportFindingsForProduct` (`DELETE /productSubscriptions/{ARN}`), for the hubs moto
/// knows.
async fn product_subscriptions(s: &Shared, c: &Call, scope: Scope) -> Result<Response, Reject> {
    let hub = s.sibling(c, Method::GET, "/accounts", &[], "").await?;
    if !hub.ok() {
        return Ok(hub.into_response());
    }
    let (account, region) = scope.clone();
    let arn_of = |product: &str| {
        format!("arn:aws:securityhub:{region}:{account}:product-subscription/{product}")
    };
    if c.method == Method::POST && c.path == "/productSubscriptions" {
        let body = c.json_body()?;
        let product = body["ProductArn"]
            .as_str()
            .and_then(|a| a.split_once(":product/"))
            .map(|(_, p)| p.to_owned())
            .ok_or_else(|| {
                Box::new(rest_error(
                    400,
                    "InvalidInputException",
                    "ProductArn must be arn:aws:securityhub:REGION::product/COMPANY/PRODUCT",
                ))
            })?;
        let added = s.with(|st| {
            let imports = st.product_imports.entry(scope.clone()).or_default();
            let new = !imports.contains(&product);
            if new {
                imports.push(product.clone());
            }
            new
        });
        if !added {
            return Err(Box::new(rest_error(
                409,
                "ResourceConflictException",
                "The product is already enabled for import.",
            )));
        }
        return Ok(rest_ok(
            &json!({ "ProductSubscriptionArn": arn_of(&product) }),
        ));
    }
    if c.method == Method::DELETE {
        let encoded = c.path.trim_start_matches("/productSubscriptions/");
        let arn = percent_encoding::percent_decode_str(encoded)
            .decode_utf8_lossy()
            .into_owned();
        let removed = s.with(|st| {
            let imports = st.product_imports.entry(scope.clone()).or_default();
            let before = imports.len();
            imports.retain(|p| arn_of(p) != arn);
            imports.len() < before
        });
        if !removed {
            return Err(Box::new(rest_error(
                404,
                "ResourceNotFoundException",
                &format!("{arn} is not enabled"),
            )));
        }
        return Ok(rest_ok(&json!({})));
    }
    let all: Vec<String> = s.with(|st| {
        (st.product_imports.get(&scope).into_iter().flatten())
            .map(|p| arn_of(p))
            .collect()
    });
    let max = c.query_param("MaxResults").and_then(|m| m.parse().ok());
    let (items, next) = page(&all, c.query_param("NextToken").as_deref(), max);
    let mut out = json!({ "ProductSubscriptions": items });
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(rest_ok(&out))
}

/// Adds a `READY` subscription to `standards_arn` unless there is one.
fn subscribe(subs: &mut Vec<Json>, scope: &Scope, standards_arn: &str, input: &Json) -> Json {
    if let Some(s) = subs.iter().find(|s| s["StandardsArn"] == standards_arn) {
        return s.clone();
    }
    let (account, region) = scope;
    // arn:aws:securityhub:REGION::standards/NAME/v/V (or :::ruleset/…) → subscription/NAME/v/V
    let tail = standards_arn
        .split_once(":standards/")
        .or_else(|| standards_arn.split_once(":ruleset/"))
        .map_or(standards_arn, |(_, t)| t);
    let sub = json!({
        "StandardsSubscriptionArn": format!("arn:aws:securityhub:{region}:{account}:subscription/{tail}"),
        "StandardsArn": standards_arn,
        "StandardsInput": input,
        "StandardsStatus": "READY",
    });
    subs.push(sub.clone());
    sub
}

async fn security_hub_standards(s: &Shared, c: &Call, scope: Scope) -> Result<Response, Reject> {
    // Security Hub must be enabled: moto's DescribeHub answer (its error is relayed as is).
    let hub = s.sibling(c, Method::GET, "/accounts", &[], "").await?;
    if !hub.ok() {
        return Ok(hub.into_response());
    }
    let body = c.json_body()?;
    if c.path == "/standards/register" {
        let requests = body["StandardsSubscriptionRequests"]
            .as_array()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                Box::new(rest_error(
                    400,
                    "InvalidInputException",
                    "StandardsSubscriptionRequests is required",
                ))
            })?;
        let mut arns = Vec::new();
        for r in requests {
            let arn = r["StandardsArn"].as_str().ok_or_else(|| {
                Box::new(rest_error(
                    400,
                    "InvalidInputException",
                    "StandardsArn is required",
                ))
            })?;
            arns.push((
                arn.to_owned(),
                r.get("StandardsInput").cloned().unwrap_or(json!({})),
            ));
        }
        let subs: Vec<Json> = s.with(|st| {
            let list = st.standards.entry(scope.clone()).or_default();
            arns.iter()
                .map(|(arn, input)| subscribe(list, &scope, arn, input))
                .collect()
        });
        return Ok(rest_ok(&json!({ "StandardsSubscriptions": subs })));
    }
    let wanted: Option<Vec<&str>> = body["StandardsSubscriptionArns"]
        .as_array()
        .map(|a| a.iter().filter_map(Json::as_str).collect());
    let all: Vec<Json> = s.with(|st| {
        (st.standards.get(&scope).into_iter().flatten())
            .filter(|sub| {
                wanted
                    .as_ref()
                    .is_none_or(|w| w.iter().any(|arn| sub["StandardsSubscriptionArn"] == *arn))
            })
            .cloned()
            .collect()
    });
    let max = body["MaxResults"]
        .as_u64()
        .and_then(|m| usize::try_from(m).ok());
    let (items, next) = page(&all, body["NextToken"].as_str(), max);
    let mut out = json!({ "StandardsSubscriptions": items });
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(rest_ok(&out))
}

// ---- CloudWatch Logs (JSON 1.1): account-level policies ----

const LOGS_TARGET: &str = "Logs_20140328.";

/// `PutAccountPolicy` (a policy name is unique per type; a subscription filter policy needs a
/// `DestinationArn`), `DeleteAccountPolicy` and `DescribeAccountPolicies` (by type, and name if
/// given, paged by `nextToken`), kept per account and region.
fn account_policies(s: &Shared, c: &Call, scope: Scope, op: &str) -> Result<Response, Reject> {
    let body = c.json_body()?;
    let invalid = |m: &str| Box::new(json11_error("InvalidParameterException", m));
    let (Some(kind), name) = (body["policyType"].as_str(), body["policyName"].as_str()) else {
        return Err(invalid("policyType is required"));
    };
    match op {
        "PutAccountPolicy" => {
            let (Some(name), Some(doc)) = (name, body["policyDocument"].as_str()) else {
                return Err(invalid("policyName and policyDocument are required"));
            };
            let parsed: Json = serde_json::from_str(doc)
                .map_err(|e| invalid(&format!("policyDocument is not JSON: {e}")))?;
            if kind == "SUBSCRIPTION_FILTER_POLICY" && !parsed["DestinationArn"].is_string() {
                return Err(invalid(
                    "a subscription filter policy needs a DestinationArn",
                ));
            }
            let mut policy = json!({
                "policyName": name, "policyDocument": doc, "policyType": kind,
                "scope": body["scope"].as_str().unwrap_or("ALL"),
                "lastUpdatedTime": chrono::Utc::now().timestamp_millis(),
                "accountId": scope.0,
            });
            if let Some(sel) = body["selectionCriteria"].as_str() {
                policy["selectionCriteria"] = json!(sel);
            }
            s.with(|st| {
                let all = st.account_policies.entry(scope.clone()).or_default();
                all.retain(|p| !(p["policyName"] == name && p["policyType"] == kind));
                all.push(policy.clone());
            });
            Ok(json_response(
                200,
                JSON11,
                &json!({ "accountPolicy": policy }),
            ))
        }
        "DeleteAccountPolicy" => {
            let Some(name) = name else {
                return Err(invalid("policyName is required"));
            };
            let removed = s.with(|st| {
                let all = st.account_policies.entry(scope.clone()).or_default();
                let before = all.len();
                all.retain(|p| !(p["policyName"] == name && p["policyType"] == kind));
                all.len() < before
            });
            if !removed {
                return Err(Box::new(json11_error(
                    "ResourceNotFoundException",
                    "The specified policy does not exist.",
                )));
            }
            Ok(json_response(200, JSON11, &json!({})))
        }
        _ => {
            let all: Vec<Json> = s.with(|st| {
                (st.account_policies.get(&scope).into_iter().flatten())
                    .filter(|p| p["policyType"] == kind)
                    .filter(|p| name.is_none_or(|n| p["policyName"] == n))
                    .cloned()
                    .collect()
            });
            let (items, next) = page(&all, body["nextToken"].as_str(), Some(50));
            let mut out = json!({ "accountPolicies": items });
            if let Some(n) = next {
                out["nextToken"] = json!(n);
            }
            Ok(json_response(200, JSON11, &out))
        }
    }
}

// ---- CloudWatch Observability Access Manager (restJson1) ----

/// `CreateSink` in a monitoring account, `CreateLink` from a source account to a sink of the same
/// region (`$AccountName` in the label template becomes the account id: the shim knows no
/// names), `ListLinks` of the account (paged by `MaxResults` / `NextToken`).
fn oam(s: &Shared, c: &Call, scope: Scope, path: &str) -> Result<Response, Reject> {
    let body = c.json_body()?;
    let (account, region) = scope.clone();
    let invalid = |m: &str| Box::new(rest_error(400, "ValidationException", m));
    let id = new_id();
    match path {
        "/CreateSink" => {
            let name = body["Name"]
                .as_str()
                .ok_or_else(|| invalid("Name is required"))?;
            let arn = format!("arn:aws:oam:{region}:{account}:sink/{id}");
            s.with(|st| st.oam_sinks.insert(arn.clone(), scope.clone()));
            Ok(rest_ok(
                &json!({ "Arn": arn, "Id": id, "Name": name, "Tags": {} }),
            ))
        }
        "/CreateLink" => {
            let (Some(sink), Some(template), Some(types)) = (
                body["SinkIdentifier"].as_str(),
                body["LabelTemplate"].as_str(),
                body["ResourceTypes"].as_array().filter(|t| !t.is_empty()),
            ) else {
                return Err(invalid(
                    "SinkIdentifier, LabelTemplate and ResourceTypes are required",
                ));
            };
            match s.with(|st| st.oam_sinks.get(sink).cloned()) {
                Some((owner, r)) if r == region && owner != account => {}
                Some(_) => {
                    return Err(invalid(
                        "the sink must be in the same region and in another account",
                    ))
                }
                None => {
                    return Err(Box::new(rest_error(
                        404,
                        "ResourceNotFoundException",
                        &format!("sink {sink} does not exist"),
                    )))
                }
            }
            let link = json!({
                "Arn": format!("arn:aws:oam:{region}:{account}:link/{id}"),
                "Id": id,
                "Label": template.replace("$AccountName", &account),
                "ResourceTypes": types,
                "SinkArn": sink,
            });
            s.with(|st| st.oam_links.entry(scope).or_default().push(link.clone()));
            let mut out = link;
            out["LabelTemplate"] = json!(template);
            out["Tags"] = json!({});
            Ok(rest_ok(&out))
        }
        _ => {
            let all = s.with(|st| st.oam_links.get(&scope).cloned().unwrap_or_default());
            let max = body["MaxResults"]
                .as_u64()
                .and_then(|m| usize::try_from(m).ok());
            let (items, next) = page(&all, body["NextToken"].as_str(), max);
            let mut out = json!({ "Items": items });
            if let Some(n) = next {
                out["NextToken"] = json!(n);
            }
            Ok(rest_ok(&out))
        }
    }
}

// ---- Organizations (JSON 1.1): Security Hub's delegated administrators ----

const JSON11: &str = "application/x-amz-json-1.1";

/// moto's `ListDelegatedAdministrators` with Security Hub's administrators added (on the last
/// page), or only those when the caller filters on `securityhub.amazonaws.com`.
async fn delegated_administrators(
    s: &Shared,
    c: &Call,
    management: &str,
) -> Result<Response, Reject> {
    let admins = s.with(|st| st.hub_admins.get(management).cloned().unwrap_or_default());
    let body = c.json_body()?;
    let filter = body["ServicePrincipal"].as_str();
    let mut out = if filter == Some(SECURITY_HUB) {
        json!({"DelegatedAdministrators": []})
    } else {
        let up = s.forward(c).await?;
        if !up.ok() || filter.is_some() || admins.is_empty() {
            return Ok(up.into_response());
        }
        match serde_json::from_slice::<Json>(&up.body) {
            Ok(v) if v.get("NextToken").is_none_or(Json::is_null) => v,
            _ => return Ok(up.into_response()),
        }
    };
    for (admin, since) in admins {
        let listed = out["DelegatedAdministrators"]
            .as_array()
            .is_some_and(|l| l.iter().any(|a| a["Id"] == admin.as_str()));
        if listed {
            continue;
        }
        // The account as Organizations describes it.
        let described = s
            .sibling(
                c,
                Method::POST,
                "/",
                &[
                    ("x-amz-target", "AWSOrganizationsV20161128.DescribeAccount"),
                    ("content-type", JSON11),
                ],
                &json!({ "AccountId": admin }).to_string(),
            )
            .await?;
        if !described.ok() {
            return Ok(described.into_response());
        }
        let mut account: Json = serde_json::from_slice::<Json>(&described.body)
            .ok()
            .and_then(|v| v.get("Account").cloned())
            .unwrap_or_else(|| json!({ "Id": admin }));
        account["DelegationEnabledDate"] = json!(since);
        if let Some(list) = out["DelegatedAdministrators"].as_array_mut() {
            list.push(account);
        }
    }
    Ok(json_response(200, JSON11, &out))
}

/// moto's `ListDelegatedServicesForAccount`, with Security Hub added for its administrators.
async fn delegated_services(s: &Shared, c: &Call, management: &str) -> Result<Response, Reject> {
    let body = c.json_body()?;
    let id = body["AccountId"].as_str().unwrap_or_default();
    let since = s.with(|st| {
        st.hub_admins
            .get(management)
            .and_then(|l| l.iter().find(|(a, _)| a == id))
            .map(|(_, t)| *t)
    });
    let up = s.forward(c).await?;
    let Some(since) = since else {
        return Ok(up.into_response());
    };
    let hub = json!({"ServicePrincipal": SECURITY_HUB, "DelegationEnabledDate": since});
    let registered_elsewhere = up.ok();
    if !registered_elsewhere {
        // moto knows the account as no delegated administrator at all.
        return Ok(json_response(
            200,
            JSON11,
            &json!({"DelegatedServices": [hub]}),
        ));
    }
    match serde_json::from_slice::<Json>(&up.body) {
        Ok(mut v) if v.get("NextToken").is_none_or(Json::is_null) => {
            if let Some(list) = v["DelegatedServices"].as_array_mut() {
                list.push(hub);
            }
            Ok(json_response(200, JSON11, &v))
        }
        _ => Ok(up.into_response()),
    }
}

// ---- S3 (restXml) ----

/// moto's `GetBucketVersioning` answer under the documented root element `VersioningConfiguration`.
async fn bucket_versioning(s: &Shared, c: &Call) -> Result<Response, Reject> {
    let up = s.forward(c).await?;
    if !up.ok() {
        return Ok(up.into_response());
    }
    let moto = String::from_utf8_lossy(&up.body);
    let mut inner = String::new();
    for element in ["Status", "MfaDelete"] {
        if let Some(v) = between(&moto, &format!("<{element}>"), &format!("</{element}>")) {
            inner += &format!("<{element}>{v}</{element}>");
        }
    }
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{inner}</VersioningConfiguration>"
    );
    let mut r = (StatusCode::OK, xml).into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/xml"));
    for h in ["x-amz-request-id", "x-amzn-requestid"] {
        if let Some(v) = up.headers.get(h) {
            r.headers_mut().insert(h, v.clone());
        }
    }
    Ok(r)
}

// ---- CloudFormation (query) ----

const CLOUDFORMATION_XMLNS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";

/// `DetectStackDrift` (moto lacks it) records the detection and finds the stack in sync: nothing
/// changes moto's resources behind a stack's back; `DescribeStacks` gets moto's answer with the
/// `DriftInformation` AWS gives every stack (`NOT_CHECKED` until a detection ran). Every other
/// CloudFormation call goes to moto as it is.
async fn stack_drift(s: &Shared, c: &Call, scope: Scope) -> Result<Response, Reject> {
    match form_action(c).as_deref() {
        Some("DetectStackDrift") => {
            let Some(stack) = form_param(c, "StackName") else {
                return Ok(query_error(
                    CLOUDFORMATION_XMLNS,
                    400,
                    "ValidationError",
                    "StackName is required",
                ));
            };
            // The stack must exist: moto's DescribeStacks of it says so (and gives its ARN).
            let probe = format!(
                "Action=DescribeStacks&Version=2010-05-15&StackName={}",
                percent_encoding::utf8_percent_encode(&stack, percent_encoding::NON_ALPHANUMERIC)
            );
            let up = s
                .sibling(
                    c,
                    Method::POST,
                    "/",
                    &[("content-type", "application/x-www-form-urlencoded")],
                    &probe,
                )
                .await?;
            if !up.ok() {
                return Ok(up.into_response());
            }
            let body = String::from_utf8_lossy(&up.body).into_owned();
            let arn = between(&body, "<StackId>", "</StackId>")
                .unwrap_or_default()
                .to_owned();
            let name = between(&body, "<StackName>", "</StackName>")
                .unwrap_or(&stack)
                .to_owned();
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            s.with(|st| {
                let checks = st.drift_checks.entry(scope).or_default();
                checks.insert(arn, now.clone());
                checks.insert(name, now);
            });
            Ok(query_result(
                CLOUDFORMATION_XMLNS,
                "DetectStackDrift",
                &format!(
                    "<StackDriftDetectionId>{}</StackDriftDetectionId>",
                    new_id()
                ),
            ))
        }
        Some("DescribeStacks") => {
            let up = s.forward(c).await?;
            if !up.ok() {
                return Ok(up.into_response());
            }
            let checks = s.with(|st| st.drift_checks.get(&scope).cloned().unwrap_or_default());
            let body = String::from_utf8_lossy(&up.body).into_owned();
            let mut out = String::with_capacity(body.len());
            let mut rest = body.as_str();
            while let Some(at) = rest.find("<StackId>") {
                let Some(len) = rest[at..].find("</StackId>") else {
                    break;
                };
                let end = at + len + "</StackId>".len();
                let arn = &rest[at + "<StackId>".len()..at + len];
                let drift = match checks.get(arn) {
                    Some(t) => format!(
                        "<StackDriftStatus>IN_SYNC</StackDriftStatus><LastCheckTimestamp>{t}</LastCheckTimestamp>"
                    ),
                    None => "<StackDriftStatus>NOT_CHECKED</StackDriftStatus>".to_owned(),
                };
                out.push_str(&rest[..end]);
                out.push_str(&format!("<DriftInformation>{drift}</DriftInformation>"));
                rest = &rest[end..];
            }
            out.push_str(rest);
            let mut r = (up.status, out).into_response();
            r.headers_mut()
                .insert("content-type", HeaderValue::from_static("text/xml"));
            Ok(r)
        }
        _ => Ok(s.forward(c).await?.into_response()),
    }
}

// ---- EC2 (query) ----

/// Keeps track of the snapshots made public, and answers `DescribeSnapshots` with `RestorableBy`
/// `all` from moto's answer filtered to them; every other EC2 call goes to moto as it is.
async fn ec2_snapshots(s: &Shared, c: &Call, scope: Scope) -> Result<Response, Reject> {
    let form = form_pairs(&String::from_utf8_lossy(&c.body));
    let value = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let up = s.forward(c).await?;
    if !up.ok() {
        return Ok(up.into_response());
    }
    match value("Action") {
        Some("ModifySnapshotAttribute") | Some("ResetSnapshotAttribute") => {
            let id = value("SnapshotId").unwrap_or_default().to_owned();
            let all = form.iter().any(|(k, v)| k.contains("Group") && v == "all");
            let add = value("OperationType") == Some("add")
                || form
                    .iter()
                    .any(|(k, _)| k.starts_with("CreateVolumePermission.Add"));
            let reset = value("Action") == Some("ResetSnapshotAttribute");
            s.with(|st| {
                let public = st.public_snapshots.entry(scope).or_default();
                public.retain(|p| p != &id);
                if all && add && !reset {
                    public.push(id);
                }
            });
            Ok(up.into_response())
        }
        Some("DescribeSnapshots")
            if form
                .iter()
                .any(|(k, v)| k.starts_with("RestorableBy.") && v == "all") =>
        {
            let public = s.with(|st| st.public_snapshots.get(&scope).cloned().unwrap_or_default());
            let body = String::from_utf8_lossy(&up.body).into_owned();
            let filtered = keep_items(&body, "snapshotSet", |item| {
                between(item, "<snapshotId>", "</snapshotId>")
                    .is_some_and(|id| public.iter().any(|p| p == id))
            });
            let mut r = (up.status, filtered).into_response();
            r.headers_mut()
                .insert("content-type", HeaderValue::from_static("text/xml"));
            Ok(r)
        }
        _ => Ok(up.into_response()),
    }
}

/// The EC2 query answer `xml` with only those `<item>`s of its `<set>` list that `keep` accepts
/// (nested `<item>`s, such as tags, stay with their parent).
fn keep_items(xml: &str, set: &str, keep: impl Fn(&str) -> bool) -> String {
    let (open, close) = (format!("<{set}>"), format!("</{set}>"));
    let (Some(start), Some(end)) = (xml.find(&open), xml.rfind(&close)) else {
        return xml.to_owned();
    };
    let inner = &xml[start + open.len()..end];
    let mut kept = String::new();
    let (mut depth, mut from, mut i) = (0usize, 0usize, 0usize);
    while i < inner.len() {
        let rest = &inner[i..];
        if rest.starts_with("<item>") {
            if depth == 0 {
                from = i;
            }
            depth += 1;
            i += "<item>".len();
        } else if rest.starts_with("</item>") {
            depth = depth.saturating_sub(1);
            i += "</item>".len();
            if depth == 0 && keep(&inner[from..i]) {
                kept.push_str(&inner[from..i]);
            }
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    format!(
        "{}{open}{kept}{close}{}",
        &xml[..start],
        &xml[end + close.len()..]
    )
}

// ---- the server ----

/// Serves the shim on `listener` in front of `upstream` (`http://127.0.0.1:PORT`); runs until the
/// listener fails or the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, upstream: &str) -> std::io::Result<()> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(300))
        .build()
        .map_err(std::io::Error::other)?;
    let shared = Arc::new(Shared {
        upstream: upstream.trim_end_matches('/').to_owned(),
        client,
        state: Mutex::new(Emulated::default()),
    });
    let app = axum::Router::new().fallback(handle).with_state(shared);
    axum::serve(listener, app).await
}

/// The shim on a free loopback port, on a thread and runtime of its own (so that it serves sync
/// and async callers alike); stopped when dropped.
pub struct Shim {
    pub port: u16,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Shim {
    /// Starts the shim in front of `upstream`. Panics when no loopback port can be bound.
    pub fn start(upstream: &str) -> Shim {
        let upstream = upstream.to_owned();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, port) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("shim runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind the shim to loopback");
                let _ = ready.send(listener.local_addr().expect("shim address").port());
                tokio::select! {
                    r = serve(listener, &upstream) => {
                        if let Err(e) = r { eprintln!("aws-shim stopped: {e}"); }
                    }
                    _ = stopped => {}
                }
            });
            rt.shutdown_timeout(std::time::Duration::from_secs(1));
        });
        let port = port.recv().expect("the shim starts");
        Shim {
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Shim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seeded creation date replaces the one after the principal's ARN, wherever IAM repeats it
    /// (the role's detail and its instance profiles' copies), and no other principal's.
    #[test]
    fn backdates_the_principal_named() {
        let xml = "<member><Arn>arn:aws:iam::1:role/a</Arn>\n  <CreateDate>2026-12-01T00:00:00Z</CreateDate></member>\
                   <member><Arn>arn:aws:iam::1:role/ab</Arn><CreateDate>2026-12-01T00:00:00Z</CreateDate></member>\
                   <Roles><member><Arn>arn:aws:iam::1:role/a</Arn><CreateDate>x</CreateDate></member></Roles>";
        let out = with_create_date(xml, "arn:aws:iam::1:role/a", "2020-01-01T00:00:00Z");
        assert_eq!(out.matches("2020-01-01T00:00:00Z").count(), 2, "{out}");
        assert!(
            out.contains("role/ab</Arn><CreateDate>2026-12-01T00:00:00Z"),
            "{out}"
        );
    }

    #[test]
    fn pages_by_index_tokens() {
        let items = [1, 2, 3, 4, 5];
        assert_eq!(page(&items, None, Some(2)), (vec![1, 2], Some("2".into())));
        assert_eq!(
            page(&items, Some("2"), Some(2)),
            (vec![3, 4], Some("4".into()))
        );
        assert_eq!(page(&items, Some("4"), Some(2)), (vec![5], None));
        assert_eq!(page(&items, None, None), (items.to_vec(), None));
        assert_eq!(page(&items, Some("9"), None), (vec![], None));
    }

    #[test]
    fn recognizes_backup_selection_paths() {
        assert_eq!(selections_plan("/backup/plans/p-1/selections"), Some("p-1"));
        assert_eq!(
            selections_plan("/backup/plans/p-1/selections/"),
            Some("p-1")
        );
        assert_eq!(selections_plan("/backup/plans/p-1/selections/s-1"), None);
        assert_eq!(selections_plan("/backup/plans/p-1"), None);
    }

    #[test]
    fn keeps_the_items_asked_for() {
        let xml = "<R><requestId>1</requestId><snapshotSet><item><snapshotId>snap-1</snapshotId><tagSet><item><key>a</key></item></tagSet></item><item><snapshotId>snap-2</snapshotId></item></snapshotSet></R>";
        assert_eq!(
            keep_items(xml, "snapshotSet", |i| i.contains("snap-2")),
            "<R><requestId>1</requestId><snapshotSet><item><snapshotId>snap-2</snapshotId></item></snapshotSet></R>"
        );
        assert_eq!(
            keep_items(xml, "snapshotSet", |i| i.contains("snap-1")),
            "<R><requestId>1</requestId><snapshotSet><item><snapshotId>snap-1</snapshotId><tagSet><item><key>a</key></item></tagSet></item></snapshotSet></R>"
        );
    }

    #[test]
    fn decodes_forms_and_finds_elements() {
        assert_eq!(
            form_pairs("Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx&a+b=c"),
            vec![
                ("Action".into(), "AssumeRole".into()),
                ("RoleArn".into(), "arn:aws:iam::1:role/x".into()),
                ("a b".into(), "c".into())
            ]
        );
        assert_eq!(between("<a><b>x</b></a>", "<b>", "</b>"), Some("x"));
        assert_eq!(between("<a/>", "<b>", "</b>"), None);
    }
}
