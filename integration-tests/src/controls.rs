//! Controls of the production demo account that tests break and restore through the AWS SDK, as
//! an operator would: alice's MFA device, the organization trail's logging, and a `bastion`
//! security group (created closed both ways) whose SSH rule opens to the world.

use crate::seed;

pub struct Controls {
    pub iam: aws_sdk_iam::Client,
    pub trail: aws_sdk_cloudtrail::Client,
    pub ec2: aws_sdk_ec2::Client,
    /// The closed `bastion` group the tests open and close.
    pub sg: String,
    /// alice's MFA device.
    pub serial: String,
}

impl Controls {
    pub async fn new(endpoint: &str, account: &str) -> Controls {
        let mgmt = seed::management_config(endpoint).await;
        let cfg = seed::member_config(&mgmt, account)
            .await
            .expect("member config");
        let iam = aws_sdk_iam::Client::new(&cfg);
        let serial = seed::mfa_serial(&iam, "alice").await;
        let ec2 = aws_sdk_ec2::Client::new(&cfg);
        let sg = ec2
            .create_security_group()
            .group_name("bastion")
            .description("bastion host")
            .send()
            .await
            .unwrap()
            .group_id()
            .unwrap()
            .to_owned();
        // Closed both ways: production restricts egress, so the default allow-all egress rule of a
        // new group would itself be a regression (ec2_security_group_egress_restricted).
        ec2.revoke_security_group_egress()
            .group_id(&sg)
            .ip_permissions(
                aws_sdk_ec2::types::IpPermission::builder()
                    .ip_protocol("-1")
                    .ip_ranges(
                        aws_sdk_ec2::types::IpRange::builder()
                            .cidr_ip("0.0.0.0/0")
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
        Controls {
            iam,
            trail: aws_sdk_cloudtrail::Client::new(&cfg),
            ec2,
            sg,
            serial,
        }
    }

    pub async fn ssh_open(&self, open: bool) {
        let perm = aws_sdk_ec2::types::IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(22)
            .to_port(22)
            .ip_ranges(
                aws_sdk_ec2::types::IpRange::builder()
                    .cidr_ip("0.0.0.0/0")
                    .build(),
            )
            .build();
        if open {
            self.ec2
                .authorize_security_group_ingress()
                .group_id(&self.sg)
                .ip_permissions(perm)
                .send()
                .await
                .unwrap();
        } else {
            self.ec2
                .revoke_security_group_ingress()
                .group_id(&self.sg)
                .ip_permissions(perm)
                .send()
                .await
                .unwrap();
        }
    }

    pub async fn break_all(&self) {
        self.iam
            .deactivate_mfa_device()
            .user_name("alice")
            .serial_number(&self.serial)
            .send()
            .await
            .unwrap();
        self.trail
            .stop_logging()
            .name("organization-audit")
            .send()
            .await
            .unwrap();
        self.ssh_open(true).await;
    }

    pub async fn restore_all(&self) {
        self.iam
            .enable_mfa_device()
            .user_name("alice")
            .serial_number(&self.serial)
            .authentication_code1("123456")
            .authentication_code2("654321")
            .send()
            .await
            .unwrap();
        self.trail
            .start_logging()
            .name("organization-audit")
            .send()
            .await
            .unwrap();
        self.ssh_open(false).await;
    }
}
