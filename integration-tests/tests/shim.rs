//! The shim in front of moto, through the real AWS SDK: every operation it serves answers in the
//! form the SDK parses, per account and region, and everything else reaches moto untouched.

use aws_config::SdkConfig;
use integration_tests::moto::Moto;
use integration_tests::seed;

async fn in_region(cfg: &SdkConfig, region: &str) -> SdkConfig {
    cfg.to_builder()
        .region(aws_config::Region::new(region.to_owned()))
        .build()
}

/// A member account of a fresh organization and its SDK config (through AssumeRole, whose answer
/// teaches the shim the account of the new key).
async fn member(mgmt: &SdkConfig) -> (String, SdkConfig) {
    let id = seed::organization_with_member(mgmt, "member", None)
        .await
        .unwrap();
    let cfg = seed::member_config(mgmt, &id).await.unwrap();
    (id, cfg)
}

#[tokio::test(flavor = "multi_thread")]
async fn access_analyzer_per_account_and_region() {
    use aws_sdk_accessanalyzer::types::Type;
    let moto = Moto::start();
    let mgmt = seed::management_config(&moto.endpoint).await;
    let (id, cfg) = member(&mgmt).await;
    let aa = aws_sdk_accessanalyzer::Client::new(&cfg);
    let arn = aa
        .create_analyzer()
        .analyzer_name("external")
        .r#type(Type::Account)
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    assert_eq!(
        arn,
        format!("arn:aws:access-analyzer:us-east-1:{id}:analyzer/external")
    );
    let dup = aa
        .create_analyzer()
        .analyzer_name("external")
        .r#type(Type::Account)
        .send()
        .await
        .unwrap_err();
    assert!(dup.into_service_error().is_conflict_exception());
    let listed = aa.list_analyzers().send().await.unwrap();
    let a = &listed.analyzers()[0];
    assert_eq!(
        (a.name(), a.r#type(), a.status().as_str(), a.arn()),
        ("external", &Type::Account, "ACTIVE", arn.as_str())
    );
    assert!(aa
        .list_analyzers()
        .r#type(Type::Organization)
        .send()
        .await
        .unwrap()
        .analyzers()
        .is_empty());
    // Another region of the account, and the management account, have none.
    let eu = aws_sdk_accessanalyzer::Client::new(&in_region(&cfg, "eu-west-1").await);
    assert!(eu
        .list_analyzers()
        .send()
        .await
        .unwrap()
        .analyzers()
        .is_empty());
    let other = aws_sdk_accessanalyzer::Client::new(&mgmt);
    assert!(other
        .list_analyzers()
        .send()
        .await
        .unwrap()
        .analyzers()
        .is_empty());
    // An operation the shim does not serve reaches moto, which lacks it: an error, untouched.
    assert!(aa
        .get_analyzer()
        .analyzer_name("external")
        .send()
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_selections_of_moto_plans() {
    use aws_sdk_backup::types::BackupSelection;
    let moto = Moto::start();
    let cfg = seed::management_config(&moto.endpoint).await;
    let backup = aws_sdk_backup::Client::new(&cfg);
    let plan = seed::backup_plan(&cfg).await.unwrap();
    let empty = backup
        .list_backup_selections()
        .backup_plan_id(&plan)
        .send()
        .await
        .unwrap();
    assert!(empty.backup_selections_list().is_empty());
    let created = backup
        .create_backup_selection()
        .backup_plan_id(&plan)
        .backup_selection(
            BackupSelection::builder()
                .selection_name("all-rds")
                .iam_role_arn("arn:aws:iam::123456789012:role/backup")
                .resources("arn:aws:rds:*:*:db:*")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let listed = backup
        .list_backup_selections()
        .backup_plan_id(&plan)
        .send()
        .await
        .unwrap();
    let s = &listed.backup_selections_list()[0];
    assert_eq!(s.selection_name(), Some("all-rds"));
    assert_eq!(s.selection_id(), created.selection_id());
    assert_eq!(s.backup_plan_id(), Some(plan.as_str()));
    assert!(s.creation_date().is_some());
    // A plan moto does not know is moto's error.
    let unknown = backup
        .list_backup_selections()
        .backup_plan_id("no-such-plan")
        .send()
        .await
        .unwrap_err();
    assert!(unknown
        .into_service_error()
        .is_resource_not_found_exception());
}

#[tokio::test(flavor = "multi_thread")]
async fn cloudwatch_alarms_over_rpc_v2_cbor() {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic};
    let moto = Moto::start();
    let cfg = seed::management_config(&moto.endpoint).await;
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    for (name, threshold) in [("root-usage", 1.0), ("cpu-high", 87.5)] {
        cw.put_metric_alarm()
            .alarm_name(name)
            .namespace("CISBenchmark")
            .metric_name(name)
            .statistic(Statistic::Sum)
            .period(300)
            .evaluation_periods(1)
            .threshold(threshold)
            .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
            .dimensions(Dimension::builder().name("Team").value("sec").build())
            .alarm_actions("arn:aws:sns:us-east-1:123456789012:alerts")
            .send()
            .await
            .unwrap();
    }
    let all = cw.describe_alarms().send().await.unwrap();
    assert_eq!(all.metric_alarms().len(), 2);
    let root = cw
        .describe_alarms()
        .alarm_names("root-usage")
        .send()
        .await
        .unwrap();
    let a = &root.metric_alarms()[0];
    assert_eq!(a.alarm_name(), Some("root-usage"));
    assert_eq!(
        a.alarm_arn(),
        Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:root-usage")
    );
    assert_eq!(a.namespace(), Some("CISBenchmark"));
    assert_eq!(a.threshold(), Some(1.0));
    assert_eq!(a.period(), Some(300));
    assert_eq!(a.actions_enabled(), Some(true));
    assert_eq!(
        a.alarm_actions(),
        ["arn:aws:sns:us-east-1:123456789012:alerts"]
    );
    assert_eq!(a.state_value(), Some(&StateValue::InsufficientData));
    assert!(a.state_updated_timestamp().is_some());
    assert_eq!(a.dimensions()[0].value(), Some("sec"));
    // Pages of one, to the end.
    let pages: Vec<_> = cw
        .describe_alarms()
        .max_records(1)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 2);
    for p in pages {
        assert_eq!(p.unwrap().metric_alarms().len(), 1);
    }
    // A missing required member is CloudWatch's error.
    let err = cw
        .put_metric_alarm()
        .alarm_name("incomplete")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("MissingParameter")
    );
    // The other region holds none.
    let eu = aws_sdk_cloudwatch::Client::new(&in_region(&cfg, "eu-west-1").await);
    assert!(eu
        .describe_alarms()
        .send()
        .await
        .unwrap()
        .metric_alarms()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn cloudwatch_dashboards_over_rpc_v2_cbor() {
    let moto = Moto::start();
    let cfg = seed::management_config(&moto.endpoint).await;
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    let body = r#"{"widgets":[]}"#;
    for name in ["ops", "ops-db", "billing"] {
        cw.put_dashboard()
            .dashboard_name(name)
            .dashboard_body(body)
            .send()
            .await
            .unwrap();
    }
    let all = cw.list_dashboards().send().await.unwrap();
    let names: Vec<_> = all
        .dashboard_entries()
        .iter()
        .filter_map(|d| d.dashboard_name())
        .collect();
    assert_eq!(names, ["billing", "ops", "ops-db"]);
    let d = &all.dashboard_entries()[0];
    assert_eq!(
        d.dashboard_arn(),
        Some("arn:aws:cloudwatch::123456789012:dashboard/billing")
    );
    assert_eq!(d.size(), Some(body.len() as i64));
    assert!(d.last_modified().is_some());
    let ops = cw
        .list_dashboards()
        .dashboard_name_prefix("ops")
        .send()
        .await
        .unwrap();
    assert_eq!(ops.dashboard_entries().len(), 2);
    // A body that is not a JSON object is CloudWatch's error.
    let err = cw
        .put_dashboard()
        .dashboard_name("broken")
        .dashboard_body("not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterInput")
    );
    // The other region holds none.
    let eu = aws_sdk_cloudwatch::Client::new(&in_region(&cfg, "eu-west-1").await);
    assert!(eu
        .list_dashboards()
        .send()
        .await
        .unwrap()
        .dashboard_entries()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn synthetics_canaries_with_epoch_timestamps() {
    use aws_sdk_synthetics::types::{CanaryCodeInput, CanaryScheduleInput, CanaryState};
    let moto = Moto::start();
    let cfg = seed::management_config(&moto.endpoint).await;
    let synthetics = aws_sdk_synthetics::Client::new(&cfg);
    let created = synthetics
        .create_canary()
        .name("home")
        .code(
            CanaryCodeInput::builder()
                .handler("index.handler")
                .s3_bucket("canaries")
                .s3_key("home.zip")
                .build(),
        )
        .artifact_s3_location("s3://canaries/artifacts")
        .execution_role_arn("arn:aws:iam::123456789012:role/canary")
        .schedule(
            CanaryScheduleInput::builder()
                .expression("rate(5 minutes)")
                .build()
                .unwrap(),
        )
        .runtime_version("syn-nodejs-puppeteer-9.1")
        .send()
        .await
        .unwrap();
    let timeline = created.canary().unwrap().timeline().unwrap();
    let age = chrono::Utc::now().timestamp() - timeline.created().unwrap().secs();
    assert!((0..600).contains(&age), "created {age} s ago");
    let all = synthetics.describe_canaries().send().await.unwrap();
    let canary = &all.canaries()[0];
    assert_eq!(canary.name(), Some("home"));
    assert_eq!(
        canary.status().and_then(|s| s.state()),
        Some(&CanaryState::Ready)
    );
    assert!(canary.timeline().unwrap().last_modified().is_some());
    assert_eq!(canary.timeline().unwrap().last_started(), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn security_hub_standards_and_delegated_administrator() {
    let moto = Moto::start();
    let mgmt = seed::management_config(&moto.endpoint).await;
    let (id, cfg) = member(&mgmt).await;
    let hub = aws_sdk_securityhub::Client::new(&cfg);
    // Not enabled: moto's DescribeHub error, as AWS answers GetEnabledStandards.
    assert!(hub.get_enabled_standards().send().await.is_err());
    hub.enable_security_hub().send().await.unwrap();
    let enabled = hub.get_enabled_standards().send().await.unwrap();
    let arns: Vec<_> = enabled
        .standards_subscriptions()
        .iter()
        .map(|s| s.standards_arn().unwrap())
        .collect();
    assert_eq!(
        arns,
        [
            "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0",
            "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0"
        ]
    );
    // Without the default standards in eu-west-1, then one enabled by BatchEnableStandards.
    let eu = aws_sdk_securityhub::Client::new(&in_region(&cfg, "eu-west-1").await);
    eu.enable_security_hub()
        .enable_default_standards(false)
        .send()
        .await
        .unwrap();
    assert!(eu
        .get_enabled_standards()
        .send()
        .await
        .unwrap()
        .standards_subscriptions()
        .is_empty());
    let pci = "arn:aws:securityhub:eu-west-1::standards/pci-dss/v/3.2.1";
    let batch = eu
        .batch_enable_standards()
        .standards_subscription_requests(
            aws_sdk_securityhub::types::StandardsSubscriptionRequest::builder()
                .standards_arn(pci)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let sub = &batch.standards_subscriptions()[0];
    assert_eq!(
        sub.standards_subscription_arn(),
        Some(format!("arn:aws:securityhub:eu-west-1:{id}:subscription/pci-dss/v/3.2.1").as_str())
    );
    let listed = eu.get_enabled_standards().send().await.unwrap();
    assert_eq!(
        listed.standards_subscriptions()[0].standards_arn(),
        Some(pci)
    );

    // The member administers Security Hub: Organizations lists it as the delegated administrator.
    aws_sdk_securityhub::Client::new(&mgmt)
        .enable_organization_admin_account()
        .admin_account_id(&id)
        .send()
        .await
        .unwrap();
    let org = aws_sdk_organizations::Client::new(&mgmt);
    let admins = org.list_delegated_administrators().send().await.unwrap();
    let admin = &admins.delegated_administrators()[0];
    assert_eq!(admin.id(), Some(id.as_str()));
    assert_eq!(admin.name(), Some("member"));
    assert!(admin.delegation_enabled_date().is_some());
    let services = org
        .list_delegated_services_for_account()
        .account_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        services.delegated_services()[0].service_principal(),
        Some("securityhub.amazonaws.com")
    );
    // With GuardDuty registered in moto too, both services are listed, the account once.
    org.register_delegated_administrator()
        .account_id(&id)
        .service_principal("guardduty.amazonaws.com")
        .send()
        .await
        .unwrap();
    let admins = org.list_delegated_administrators().send().await.unwrap();
    assert_eq!(admins.delegated_administrators().len(), 1);
    let mut principals: Vec<_> = org
        .list_delegated_services_for_account()
        .account_id(&id)
        .send()
        .await
        .unwrap()
        .delegated_services()
        .iter()
        .map(|s| s.service_principal().unwrap().to_owned())
        .collect();
    principals.sort();
    assert_eq!(
        principals,
        ["guardduty.amazonaws.com", "securityhub.amazonaws.com"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bucket_versioning_in_the_documented_form_and_pass_through() {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    let moto = Moto::start();
    let cfg = seed::management_config(&moto.endpoint).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cfg)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket().bucket("versioned").send().await.unwrap();
    s3.create_bucket().bucket("plain").send().await.unwrap();
    s3.put_bucket_versioning()
        .bucket("versioned")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let v = s3
        .get_bucket_versioning()
        .bucket("versioned")
        .send()
        .await
        .unwrap();
    assert_eq!(v.status(), Some(&BucketVersioningStatus::Enabled));
    let plain = s3
        .get_bucket_versioning()
        .bucket("plain")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), None);
    let missing = s3
        .get_bucket_versioning()
        .bucket("no-such-bucket")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        missing.into_service_error().meta().code(),
        Some("NoSuchBucket")
    );
    // Untouched: moto's own answers through the shim, byte for byte as moto gives them.
    let mut names: Vec<_> = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .map(|b| b.name().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["plain", "versioned"]);
    let direct = integration_tests::http::get(
        moto.moto_endpoint
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap(),
        "/moto-api/data.json",
    )
    .unwrap();
    let through = integration_tests::http::get(moto.port, "/moto-api/data.json").unwrap();
    assert_eq!(direct, through);
}

/// Systems Manager: a node that reports patch compliance is listed as managed, in its own account
/// and region only; its summary counts the non-compliant items by severity; a later report
/// replaces the earlier one; pages follow `NextToken`.
#[tokio::test(flavor = "multi_thread")]
async fn ssm_patch_compliance_and_managed_nodes() {
    use aws_sdk_ssm::types::{
        ComplianceExecutionSummary, ComplianceItemEntry, ComplianceQueryOperatorType,
        ComplianceSeverity, ComplianceStatus, ComplianceStringFilter,
    };
    let moto = Moto::start();
    let mgmt = seed::management_config(&moto.endpoint).await;
    let (_, cfg) = member(&mgmt).await;
    let ssm = aws_sdk_ssm::Client::new(&cfg);
    let report = |node: &'static str, items: Vec<(ComplianceSeverity, ComplianceStatus)>| {
        let ssm = ssm.clone();
        async move {
            let mut req = ssm
                .put_compliance_items()
                .resource_id(node)
                .resource_type("ManagedInstance")
                .compliance_type("Patch")
                .execution_summary(
                    ComplianceExecutionSummary::builder()
                        .execution_time(aws_sdk_ssm::primitives::DateTime::from_secs(0))
                        .build()
                        .unwrap(),
                );
            for (i, (sev, status)) in items.into_iter().enumerate() {
                req = req.items(
                    ComplianceItemEntry::builder()
                        .id(format!("KB{i}"))
                        .severity(sev)
                        .status(status)
                        .build()
                        .unwrap(),
                );
            }
            req.send().await.unwrap();
        }
    };
    use ComplianceSeverity::{Critical, High, Low};
    use ComplianceStatus::{Compliant, NonCompliant};
    report(
        "i-0aaa",
        vec![
            (Critical, NonCompliant),
            (High, NonCompliant),
            (Low, Compliant),
        ],
    )
    .await;
    report("i-0bbb", vec![(Critical, NonCompliant)]).await;
    report("i-0bbb", vec![(Critical, Compliant)]).await;
    let filter = ComplianceStringFilter::builder()
        .key("ComplianceType")
        .values("Patch")
        .r#type(ComplianceQueryOperatorType::Equal)
        .build();
    let pages: Vec<_> = ssm
        .list_resource_compliance_summaries()
        .filters(filter)
        .max_results(1)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let items: Vec<_> = pages
        .into_iter()
        .flat_map(|p| p.unwrap().resource_compliance_summary_items().to_vec())
        .collect();
    assert_eq!(items.len(), 2, "two nodes over two pages");
    let a = &items[0];
    assert_eq!(a.resource_id(), Some("i-0aaa"));
    assert_eq!(a.status(), Some(&NonCompliant));
    let nc = a.non_compliant_summary().unwrap();
    assert_eq!(nc.non_compliant_count(), 2);
    let sev = nc.severity_summary().unwrap();
    assert_eq!((sev.critical_count(), sev.high_count()), (1, 1));
    assert_eq!(
        items[1].status(),
        Some(&Compliant),
        "the later report replaced the earlier"
    );
    let nodes = ssm.describe_instance_information().send().await.unwrap();
    let ids: Vec<_> = nodes
        .instance_information_list()
        .iter()
        .map(|n| (n.instance_id().unwrap(), n.ping_status().unwrap().as_str()))
        .collect();
    assert_eq!(ids, [("i-0aaa", "Online"), ("i-0bbb", "Online")]);
    let elsewhere = aws_sdk_ssm::Client::new(&in_region(&cfg, "eu-west-1").await);
    assert!(elsewhere
        .describe_instance_information()
        .send()
        .await
        .unwrap()
        .instance_information_list()
        .is_empty());
    let bad = ssm
        .put_compliance_items()
        .resource_id("i-0ccc")
        .resource_type("Bucket")
        .compliance_type("Patch")
        .execution_summary(
            ComplianceExecutionSummary::builder()
                .execution_time(aws_sdk_ssm::primitives::DateTime::from_secs(0))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        bad.into_service_error().meta().code(),
        Some("ValidationException")
    );
}

/// CodeDeploy: the alarm configuration a deployment group was created with comes back in
/// `GetDeploymentGroup` (moto answers `{}`), and moto's other fields are kept.
#[tokio::test(flavor = "multi_thread")]
async fn codedeploy_alarm_configuration() {
    use aws_sdk_codedeploy::types::{Alarm, AlarmConfiguration, ComputePlatform};
    let moto = Moto::start();
    let mgmt = seed::management_config(&moto.endpoint).await;
    let (id, cfg) = member(&mgmt).await;
    let cd = aws_sdk_codedeploy::Client::new(&cfg);
    cd.create_application()
        .application_name("shop")
        .compute_platform(ComputePlatform::Ecs)
        .send()
        .await
        .unwrap();
    for (group, alarms) in [("watched", true), ("plain", false)] {
        let mut req = cd
            .create_deployment_group()
            .application_name("shop")
            .deployment_group_name(group)
            .service_role_arn(format!("arn:aws:iam::{id}:role/codedeploy"))
            .deployment_config_name("CodeDeployDefault.ECSCanary10Percent5Minutes");
        if alarms {
            req = req.alarm_configuration(
                AlarmConfiguration::builder()
                    .enabled(true)
                    .alarms(Alarm::builder().name("api-5xx").build())
                    .build(),
            );
        }
        req.send().await.unwrap();
    }
    let get = |group: &'static str| {
        let cd = cd.clone();
        async move {
            cd.get_deployment_group()
                .application_name("shop")
                .deployment_group_name(group)
                .send()
                .await
                .unwrap()
                .deployment_group_info()
                .cloned()
                .unwrap()
        }
    };
    let watched = get("watched").await;
    let alarms = watched.alarm_configuration().unwrap();
    assert!(alarms.enabled());
    assert_eq!(alarms.alarms()[0].name(), Some("api-5xx"));
    assert_eq!(
        watched.deployment_config_name(),
        Some("CodeDeployDefault.ECSCanary10Percent5Minutes")
    );
    let plain = get("plain").await;
    assert!(!plain.alarm_configuration().is_some_and(|a| a.enabled()));
}

/// IAM's service last-accessed jobs: served for the roles moto knows (a job of an unknown role is
/// `NoSuchEntity`), in progress for the seeded polls, then the seeded services paged by
/// `MaxItems` / `Marker`; the seeded creation date shows in `GetAccountAuthorizationDetails`.
#[tokio::test(flavor = "multi_thread")]
async fn service_last_accessed_jobs_and_backdated_principals() {
    use aws_sdk_iam::types::{EntityType, JobStatusType};
    let moto = Moto::start();
    let cfg = seed::management_config(&moto.endpoint).await;
    let iam = aws_sdk_iam::Client::new(&cfg);
    let arn = iam
        .create_role()
        .role_name("app")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_owned();
    let unknown = iam
        .generate_service_last_accessed_details()
        .arn(arn.replace("role/app", "role/nobody"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_iam::error::ProvideErrorMetadata::code(&unknown),
        Some("NoSuchEntity")
    );
    let created = chrono::Utc::now() - chrono::Duration::days(300);
    let used = Some(chrono::Utc::now() - chrono::Duration::days(2));
    integration_tests::shim::seed_last_accessed(
        &moto.endpoint,
        &arn,
        Some(created),
        &[("s3", used), ("ec2", None), ("sqs", used)],
        1,
    );
    let job = iam
        .generate_service_last_accessed_details()
        .arn(&arn)
        .send()
        .await
        .unwrap();
    let id = job.job_id().unwrap();
    let get = |marker: Option<String>| {
        iam.get_service_last_accessed_details()
            .job_id(id)
            .max_items(2)
            .set_marker(marker)
            .send()
    };
    let first = get(None).await.unwrap();
    assert_eq!(first.job_status(), &JobStatusType::InProgress);
    let page = get(None).await.unwrap();
    assert_eq!(page.job_status(), &JobStatusType::Completed);
    assert!(page.is_truncated());
    let names: Vec<&str> = page
        .services_last_accessed()
        .iter()
        .map(|s| s.service_namespace())
        .collect();
    assert_eq!(names, ["s3", "ec2"]);
    assert!(page.services_last_accessed()[0]
        .last_authenticated()
        .is_some());
    assert!(page.services_last_accessed()[1]
        .last_authenticated()
        .is_none());
    let rest = get(page.marker().map(str::to_owned)).await.unwrap();
    assert!(!rest.is_truncated());
    assert_eq!(rest.services_last_accessed()[0].service_namespace(), "sqs");

    let details = iam
        .get_account_authorization_details()
        .filter(EntityType::Role)
        .send()
        .await
        .unwrap();
    let role = &details.role_detail_list()[0];
    assert_eq!(
        role.create_date().map(|d| d.secs()),
        Some(created.timestamp()),
        "the seeded creation date"
    );
}

/// IAM serves an account's credential report for four hours: a user created after it is not in
/// it, while `ListMFADevices` (passed to moto) answers what is true now.
#[tokio::test(flavor = "multi_thread")]
async fn credential_report_kept_for_four_hours_per_account() {
    let moto = Moto::start();
    let mgmt = seed::management_config(&moto.endpoint).await;
    let (_, member_cfg) = member(&mgmt).await;
    let report = |cfg: SdkConfig| async move {
        let iam = aws_sdk_iam::Client::new(&cfg);
        iam.generate_credential_report().send().await.unwrap();
        let out = iam.get_credential_report().send().await.unwrap();
        let text = String::from_utf8(out.content().unwrap().as_ref().to_vec()).unwrap();
        (text, out.generated_time().copied())
    };
    let iam = aws_sdk_iam::Client::new(&mgmt);
    iam.create_user().user_name("early").send().await.unwrap();
    let (first, generated) = report(mgmt.clone()).await;
    assert!(first.contains("\nearly,"), "{first}");
    iam.create_user().user_name("late").send().await.unwrap();
    let (again, generated_again) = report(mgmt.clone()).await;
    assert_eq!(
        (again.as_str(), generated_again),
        (first.as_str(), generated)
    );
    assert!(!again.contains("\nlate,"), "{again}");
    // Each account has its own report, built when first asked for.
    let member_iam = aws_sdk_iam::Client::new(&member_cfg);
    member_iam
        .create_user()
        .user_name("m")
        .send()
        .await
        .unwrap();
    let (member_report, _) = report(member_cfg.clone()).await;
    assert!(member_report.contains("\nm,") && !member_report.contains("\nearly,"));
    // What the report does not show, IAM's own listing does.
    let devices = iam
        .list_mfa_devices()
        .user_name("late")
        .send()
        .await
        .unwrap();
    assert!(devices.mfa_devices().is_empty());
}

/// IAM's centralized root access: outside an organization there is none to read, a member may not
/// read it, and the management account enables, lists and disables its features.
#[tokio::test(flavor = "multi_thread")]
async fn organization_root_features_for_the_management_account() {
    use aws_sdk_iam::error::ProvideErrorMetadata;
    let moto = Moto::start();
    let mgmt = seed::management_config(&moto.endpoint).await;
    let iam = aws_sdk_iam::Client::new(&mgmt);
    let alone = iam.list_organizations_features().send().await.unwrap_err();
    assert_eq!(alone.code(), Some("OrganizationNotFoundException"));
    let (_, member_cfg) = member(&mgmt).await;
    let org_id = aws_sdk_organizations::Client::new(&mgmt)
        .describe_organization()
        .send()
        .await
        .unwrap()
        .organization()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let none = iam.list_organizations_features().send().await.unwrap();
    assert_eq!(none.organization_id(), Some(org_id.as_str()));
    assert!(none.enabled_features().is_empty());
    let enabled = iam
        .enable_organizations_root_credentials_management()
        .send()
        .await
        .unwrap();
    assert_eq!(
        enabled.enabled_features()[0].as_str(),
        "RootCredentialsManagement"
    );
    let listed = iam.list_organizations_features().send().await.unwrap();
    assert_eq!(listed.enabled_features().len(), 1);
    let denied = aws_sdk_iam::Client::new(&member_cfg)
        .list_organizations_features()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        denied.code(),
        Some("AccountNotManagementOrDelegatedAdministratorException")
    );
    iam.disable_organizations_root_credentials_management()
        .send()
        .await
        .unwrap();
    let after = iam.list_organizations_features().send().await.unwrap();
    assert!(after.enabled_features().is_empty());
}

/// `DescribeStacks` carries AWS's `DriftInformation`: `NOT_CHECKED` until `DetectStackDrift`
/// ran on the stack, `IN_SYNC` with the detection's time after; detection of a stack that does
/// not exist is refused as moto refuses to describe it.
#[tokio::test(flavor = "multi_thread")]
async fn cloudformation_drift_information() {
    use aws_sdk_cloudformation::types::StackDriftStatus;
    let moto = Moto::start();
    let cfg = seed::management_config(&moto.endpoint).await;
    let cfn = aws_sdk_cloudformation::Client::new(&cfg);
    let template = r#"{"Resources":{"P":{"Type":"AWS::SSM::Parameter","Properties":{"Name":"/shim/p","Type":"String","Value":"1"}}}}"#;
    for name in ["checked", "unchecked"] {
        cfn.create_stack()
            .stack_name(name)
            .template_body(template.replace("/shim/p", &format!("/shim/{name}")))
            .send()
            .await
            .unwrap();
    }
    let detection = cfn
        .detect_stack_drift()
        .stack_name("checked")
        .send()
        .await
        .unwrap();
    assert!(detection
        .stack_drift_detection_id()
        .is_some_and(|id| !id.is_empty()));
    let stacks = cfn.describe_stacks().send().await.unwrap();
    let drift = |name: &str| {
        let s = stacks
            .stacks()
            .iter()
            .find(|s| s.stack_name() == Some(name))
            .unwrap();
        let d = s.drift_information().unwrap();
        (
            d.stack_drift_status().cloned(),
            d.last_check_timestamp().is_some(),
        )
    };
    assert_eq!(drift("checked"), (Some(StackDriftStatus::InSync), true));
    assert_eq!(
        drift("unchecked"),
        (Some(StackDriftStatus::NotChecked), false)
    );
    let err = cfn
        .detect_stack_drift()
        .stack_name("missing")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.raw_response()
            .is_some_and(|r| r.status().as_u16() == 400),
        "{err:?}"
    );
}

/// ECS tasks stay `RUNNING` however often they are described, as on AWS (the harness pins
/// moto's task transition).
#[tokio::test(flavor = "multi_thread")]
async fn ecs_tasks_stay_running() {
    use aws_sdk_ecs::types::{ContainerDefinition, LaunchType};
    let moto = Moto::start();
    let cfg = seed::management_config(&moto.endpoint).await;
    let ecs = aws_sdk_ecs::Client::new(&cfg);
    ecs.create_cluster().cluster_name("c").send().await.unwrap();
    ecs.register_task_definition()
        .family("f")
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image("nginx:1.25")
                .memory(128)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let run = ecs
        .run_task()
        .cluster("c")
        .task_definition("f")
        .launch_type(LaunchType::Fargate)
        .send()
        .await
        .unwrap();
    let arn = run.tasks()[0].task_arn().unwrap().to_owned();
    for _ in 0..3 {
        let out = ecs
            .describe_tasks()
            .cluster("c")
            .tasks(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(out.tasks()[0].last_status(), Some("RUNNING"));
    }
}

/// Cost Anomaly Detection is served per account: a subscription must name a monitor that
/// exists, and both list back in AWS's shapes, paged.
#[tokio::test(flavor = "multi_thread")]
async fn cost_anomaly_monitors_and_subscriptions() {
    use aws_sdk_costexplorer::types::{
        AnomalyMonitor, AnomalySubscription, AnomalySubscriptionFrequency, MonitorType, Subscriber,
        SubscriberType,
    };
    let moto = Moto::start();
    let mgmt = seed::management_config(&moto.endpoint).await;
    let (_, other) = member(&mgmt).await;
    let ce = aws_sdk_costexplorer::Client::new(&mgmt);
    let subscription = |monitor: &str| {
        AnomalySubscription::builder()
            .subscription_name("finops")
            .monitor_arn_list(monitor)
            .subscribers(
                Subscriber::builder()
                    .address("finops@example.com")
                    .r#type(SubscriberType::Email)
                    .build(),
            )
            .frequency(AnomalySubscriptionFrequency::Daily)
            .build()
            .unwrap()
    };
    let unknown = ce
        .create_anomaly_subscription()
        .anomaly_subscription(subscription("arn:aws:ce::1:anomalymonitor/none"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        unknown.as_service_error().and_then(|e| e.meta().code()),
        Some("UnknownMonitorException")
    );
    let mut arns = Vec::new();
    for name in ["services", "accounts"] {
        let out = ce
            .create_anomaly_monitor()
            .anomaly_monitor(
                AnomalyMonitor::builder()
                    .monitor_name(name)
                    .monitor_type(MonitorType::Custom)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        arns.push(out.monitor_arn().to_owned());
    }
    ce.create_anomaly_subscription()
        .anomaly_subscription(subscription(&arns[0]))
        .send()
        .await
        .unwrap();
    let first = ce
        .get_anomaly_monitors()
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(first.anomaly_monitors().len(), 1);
    let rest = ce
        .get_anomaly_monitors()
        .next_page_token(first.next_page_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.anomaly_monitors()[0].monitor_name(), "accounts");
    assert_eq!(rest.next_page_token(), None);
    let subs = ce.get_anomaly_subscriptions().send().await.unwrap();
    assert_eq!(
        subs.anomaly_subscriptions()[0].monitor_arn_list(),
        &arns[..1]
    );
    // Another account sees none of them.
    let theirs = aws_sdk_costexplorer::Client::new(&other);
    assert!(theirs
        .get_anomaly_monitors()
        .send()
        .await
        .unwrap()
        .anomaly_monitors()
        .is_empty());
}

/// EC2 Image Builder pipelines are served per account and region, `ENABLED` by default, with
/// their schedule, and a second pipeline of the same name is refused.
#[tokio::test(flavor = "multi_thread")]
async fn image_builder_pipelines() {
    use aws_sdk_imagebuilder::types::{PipelineStatus, Schedule};
    let moto = Moto::start();
    let cfg = seed::management_config(&moto.endpoint).await;
    let ib = aws_sdk_imagebuilder::Client::new(&cfg);
    let create = |name: &str| {
        ib.create_image_pipeline()
            .name(name)
            .image_recipe_arn("arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/r/1.0.0")
            .infrastructure_configuration_arn(
                "arn:aws:imagebuilder:us-east-1:123456789012:infrastructure-configuration/i",
            )
            .schedule(
                Schedule::builder()
                    .schedule_expression("cron(0 2 * * ? *)")
                    .build(),
            )
            .send()
    };
    let arn = create("base")
        .await
        .unwrap()
        .image_pipeline_arn()
        .unwrap()
        .to_owned();
    assert!(arn.ends_with(":image-pipeline/base"), "{arn}");
    assert!(create("base").await.is_err());
    let listed = ib.list_image_pipelines().send().await.unwrap();
    let p = &listed.image_pipeline_list()[0];
    assert_eq!(p.arn(), Some(arn.as_str()));
    assert_eq!(p.status(), Some(&PipelineStatus::Enabled));
    assert_eq!(
        p.schedule().and_then(|s| s.schedule_expression()),
        Some("cron(0 2 * * ? *)")
    );
    let elsewhere = aws_sdk_imagebuilder::Client::new(&in_region(&cfg, "eu-west-1").await);
    assert!(elsewhere
        .list_image_pipelines()
        .send()
        .await
        .unwrap()
        .image_pipeline_list()
        .is_empty());
}

/// The CloudWatch agent's metrics over rpc-v2-cbor: `ListMetrics` filters by namespace, by a
/// dimension name (any value) and lists what was put within three hours, per account.
#[tokio::test(flavor = "multi_thread")]
async fn cloudwatch_metrics_over_rpc_v2_cbor() {
    use aws_sdk_cloudwatch::types::{Dimension, DimensionFilter, MetricDatum, RecentlyActive};
    let moto = Moto::start();
    let mgmt = seed::management_config(&moto.endpoint).await;
    let (_, cfg) = member(&mgmt).await;
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    let datum = |name: &str, dim: &str, value: &str| {
        MetricDatum::builder()
            .metric_name(name)
            .dimensions(Dimension::builder().name(dim).value(value).build())
            .value(1.0)
            .build()
    };
    cw.put_metric_data()
        .namespace("CWAgent")
        .metric_data(datum("mem_used_percent", "InstanceId", "i-1"))
        .metric_data(datum("mem_used_percent", "AutoScalingGroupName", "web"))
        .send()
        .await
        .unwrap();
    cw.put_metric_data()
        .namespace("Custom")
        .metric_data(datum("orders", "InstanceId", "i-2"))
        .send()
        .await
        .unwrap();
    let listed = cw
        .list_metrics()
        .namespace("CWAgent")
        .dimensions(DimensionFilter::builder().name("InstanceId").build())
        .recently_active(RecentlyActive::Pt3H)
        .send()
        .await
        .unwrap();
    let found: Vec<(&str, &str)> = listed
        .metrics()
        .iter()
        .flat_map(|m| m.dimensions())
        .map(|d| (d.name().unwrap(), d.value().unwrap()))
        .collect();
    assert_eq!(found, [("InstanceId", "i-1")]);
    // Another account sees none of them.
    let other = aws_sdk_cloudwatch::Client::new(&mgmt)
        .list_metrics()
        .namespace("CWAgent")
        .send()
        .await
        .unwrap();
    assert!(other.metrics().is_empty());
}

/// Security Hub's product integrations: AWS's own turn on with the hub, one can be turned off
/// and a partner's on; without a hub the calls are refused as AWS refuses them.
#[tokio::test(flavor = "multi_thread")]
async fn security_hub_product_integrations() {
    let moto = Moto::start();
    let mgmt = seed::management_config(&moto.endpoint).await;
    let (id, cfg) = member(&mgmt).await;
    let hub = aws_sdk_securityhub::Client::new(&cfg);
    let refused = hub
        .list_enabled_products_for_import()
        .send()
        .await
        .unwrap_err();
    assert!(
        refused.into_service_error().is_invalid_access_exception(),
        "no hub, no integrations"
    );
    hub.enable_security_hub().send().await.unwrap();
    let subscription =
        |p: &str| format!("arn:aws:securityhub:us-east-1:{id}:product-subscription/{p}");
    let listed = |hub: aws_sdk_securityhub::Client| async move {
        hub.list_enabled_products_for_import()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<String>, _>>()
            .await
            .unwrap()
    };
    assert!(listed(hub.clone())
        .await
        .contains(&subscription("aws/inspector")));
    hub.disable_import_findings_for_product()
        .product_subscription_arn(subscription("aws/inspector"))
        .send()
        .await
        .unwrap();
    let added = hub
        .enable_import_findings_for_product()
        .product_arn("arn:aws:securityhub:us-east-1::product/rapid7/insightvm")
        .send()
        .await
        .unwrap();
    assert_eq!(
        added.product_subscription_arn(),
        Some(subscription("rapid7/insightvm").as_str())
    );
    let now = listed(hub.clone()).await;
    assert!(!now.contains(&subscription("aws/inspector")), "{now:?}");
    assert!(now.contains(&subscription("rapid7/insightvm")), "{now:?}");
    let again = hub
        .enable_import_findings_for_product()
        .product_arn("arn:aws:securityhub:us-east-1::product/rapid7/insightvm")
        .send()
        .await
        .unwrap_err();
    assert!(again.into_service_error().is_resource_conflict_exception());
}

/// CloudWatch Logs' account-level subscription filter policies per account and region, and
/// cross-account observability links to a sink of another account in the same region.
#[tokio::test(flavor = "multi_thread")]
async fn log_account_policies_and_observability_links() {
    use aws_sdk_cloudwatchlogs::types::PolicyType;
    use aws_sdk_oam::types::ResourceType;
    let moto = Moto::start();
    let mgmt = seed::management_config(&moto.endpoint).await;
    let (_, cfg) = member(&mgmt).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    let doc = r#"{"DestinationArn":"arn:aws:logs:us-east-1:444455556666:destination:central"}"#;
    let put = logs
        .put_account_policy()
        .policy_name("ship")
        .policy_type(PolicyType::SubscriptionFilterPolicy)
        .policy_document(doc)
        .selection_criteria(r#"LogGroupName NOT IN ["noisy"]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        put.account_policy().and_then(|p| p.policy_name()),
        Some("ship")
    );
    let listed = logs
        .describe_account_policies()
        .policy_type(PolicyType::SubscriptionFilterPolicy)
        .send()
        .await
        .unwrap();
    let p = &listed.account_policies()[0];
    assert_eq!(
        (p.policy_document(), p.selection_criteria()),
        (Some(doc), Some(r#"LogGroupName NOT IN ["noisy"]"#))
    );
    let elsewhere = aws_sdk_cloudwatchlogs::Client::new(&in_region(&cfg, "eu-west-1").await)
        .describe_account_policies()
        .policy_type(PolicyType::SubscriptionFilterPolicy)
        .send()
        .await
        .unwrap();
    assert!(
        elsewhere.account_policies().is_empty(),
        "policies are regional"
    );
    let no_destination = logs
        .put_account_policy()
        .policy_name("bad")
        .policy_type(PolicyType::SubscriptionFilterPolicy)
        .policy_document("{}")
        .send()
        .await
        .unwrap_err();
    assert!(no_destination
        .into_service_error()
        .is_invalid_parameter_exception());

    let sink = aws_sdk_oam::Client::new(&mgmt)
        .create_sink()
        .name("monitoring")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let oam = aws_sdk_oam::Client::new(&cfg);
    oam.create_link()
        .label_template("$AccountName")
        .resource_types(ResourceType::AwsLogsLoggroup)
        .sink_identifier(&sink)
        .send()
        .await
        .unwrap();
    let links = oam.list_links().send().await.unwrap();
    assert_eq!(links.items().len(), 1);
    assert_eq!(links.items()[0].sink_arn(), Some(sink.as_str()));
    assert_eq!(links.items()[0].resource_types(), ["AWS::Logs::LogGroup"]);
    let far = aws_sdk_oam::Client::new(&in_region(&cfg, "eu-west-1").await)
        .create_link()
        .label_template("x")
        .resource_types(ResourceType::AwsLogsLoggroup)
        .sink_identifier(&sink)
        .send()
        .await;
    assert!(far.is_err(), "a sink of another region is refused");
}
