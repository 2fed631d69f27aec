//! The shapes of resource names, where AWS documents one: bucket names are 3 to 63
//! lowercase letters, digits, dots and hyphens; EC2 ids are a prefix (`i-`, `vol-`,
//! `snap-`) and hex digits; every secret ARN ends in `-` and six random characters; KMS
//! key ids are UUIDs (or `mrk-` and 32 hex digits). A pattern that matches every name of
//! the shape reaches every resource of the type, even if it would not match every string:
//! `arn:aws:s3:::???*/*` is every object, `instance/i-*` every instance.
//!
//! Shapes describe names as AWS makes them today. They only ever make `reach` say
//! "every" more often (a legacy bucket name with capitals is not needed to call
//! `*a*`…`*9*` every bucket); whether an ARN fits a type at all does not use them.
//!
//! Keyed by the ARN's service and the template variable, so a type another service lists
//! (`ebs` snapshots are `arn:…:ec2:…:snapshot/${SnapshotId}`) gets the same shape.

/// Inclusive character ranges.
pub type Ranges = &'static [(char, char)];

/// One piece of a shape.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    /// These characters, as they are.
    Lit(&'static str),
    /// `min..=max` characters of the ranges (`None`: no upper bound).
    Run(Ranges, u16, Option<u16>),
}

/// Alternatives, each a sequence of parts (KMS: a UUID or a multi-Region key id).
pub type Shape = &'static [&'static [Part]];

const LOWER_DIGIT: Ranges = &[('0', '9'), ('a', 'z')];
const LOWER: Ranges = &[('a', 'z')];
const HEX: Ranges = &[('0', '9'), ('a', 'f')];
const ALNUM: Ranges = &[('0', '9'), ('A', 'Z'), ('a', 'z')];
/// Bucket names: lowercase letters, digits, dots and hyphens.
const BUCKET: Ranges = &[('-', '.'), ('0', '9'), ('a', 'z')];
/// Secret names: letters, digits and /_+=.@-
const SECRET: Ranges = &[
    ('+', '+'),
    ('-', '9'), // - . / 0-9
    ('=', '='),
    ('@', 'Z'), // @ A-Z
    ('_', '_'),
    ('a', 'z'),
];
/// IAM names and paths: letters, digits and +=,.@_-/
const IAM: Ranges = &[
    ('+', '9'), // + , - . / 0-9
    ('=', '='),
    ('@', 'Z'),
    ('_', '_'),
    ('a', 'z'),
];
/// DynamoDB tables, SQS queues, SNS topics, Lambda functions: letters, digits, _ . -
const NAME: Ranges = &[('-', '.'), ('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
/// ECR repositories: lowercase letters, digits and ._-/
const ECR: Ranges = &[('-', '9'), ('_', '_'), ('a', 'z')];
/// CloudWatch Logs log groups: letters, digits and ._-/#
const LOG_GROUP: Ranges = &[('#', '#'), ('-', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
/// SSM parameters: letters, digits and _.-/
const PARAMETER: Ranges = &[('-', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
/// RDS identifiers: lowercase letters, digits and hyphens.
const RDS: Ranges = &[('-', '-'), ('0', '9'), ('a', 'z')];

const BUCKET_SHAPE: Shape = &[&[
    Part::Run(LOWER_DIGIT, 1, Some(1)),
    Part::Run(BUCKET, 1, Some(61)),
    Part::Run(LOWER_DIGIT, 1, Some(1)),
]];
const SECRET_SHAPE: Shape = &[&[
    Part::Run(SECRET, 1, Some(512)),
    Part::Lit("-"),
    Part::Run(ALNUM, 6, Some(6)),
]];
const KMS_KEY_SHAPE: Shape = &[
    &[
        Part::Run(HEX, 8, Some(8)),
        Part::Lit("-"),
        Part::Run(HEX, 4, Some(4)),
        Part::Lit("-"),
        Part::Run(HEX, 4, Some(4)),
        Part::Lit("-"),
        Part::Run(HEX, 4, Some(4)),
        Part::Lit("-"),
        Part::Run(HEX, 12, Some(12)),
    ],
    &[Part::Lit("mrk-"), Part::Run(HEX, 32, Some(32))],
];
const IAM_SHAPE: Shape = &[&[Part::Run(IAM, 1, None)]];
const NAME_SHAPE: Shape = &[&[Part::Run(NAME, 1, None)]];
const TABLE_SHAPE: Shape = &[&[Part::Run(NAME, 3, Some(255))]];
const ECR_SHAPE: Shape = &[&[
    Part::Run(LOWER, 1, Some(1)),
    Part::Run(ECR, 0, Some(254)),
    Part::Run(LOWER_DIGIT, 1, Some(1)),
]];
const LOG_GROUP_SHAPE: Shape = &[&[Part::Run(LOG_GROUP, 1, Some(512))]];
const PARAMETER_SHAPE: Shape = &[&[Part::Run(PARAMETER, 1, None)]];
const RDS_SHAPE: Shape = &[&[Part::Run(LOWER, 1, Some(1)), Part::Run(RDS, 0, Some(62))]];

/// EC2 resource ids: a prefix, then 8 or 17 lowercase hex digits.
macro_rules! ec2_ids {
    ($($var:literal => $prefix:literal),* $(,)?) => {
        &[$(($var, &[&[Part::Lit($prefix), Part::Run(HEX, 8, Some(17))]])),*]
    };
}

/// EC2 id variables and their prefixes (the EC2 API reference's resource id formats).
const EC2_IDS: &[(&str, Shape)] = ec2_ids![
    "InstanceId" => "i-",
    "VolumeId" => "vol-",
    "SnapshotId" => "snap-",
    "ImageId" => "ami-",
    "SecurityGroupId" => "sg-",
    "SecurityGroupRuleId" => "sgr-",
    "SubnetId" => "subnet-",
    "VpcId" => "vpc-",
    "NetworkInterfaceId" => "eni-",
    "InternetGatewayId" => "igw-",
    "EgressOnlyInternetGatewayId" => "eigw-",
    "NatGatewayId" => "nat-",
    "RouteTableId" => "rtb-",
    "NaclId" => "acl-",
    "AllocationId" => "eipalloc-",
    "DhcpOptionsId" => "dopt-",
    "LaunchTemplateId" => "lt-",
    "VpcPeeringConnectionId" => "pcx-",
    "VpcEndpointId" => "vpce-",
    "VpcFlowLogId" => "fl-",
    "TransitGatewayId" => "tgw-",
    "TransitGatewayAttachmentId" => "tgw-attach-",
    "TransitGatewayRouteTableId" => "tgw-rtb-",
    "CustomerGatewayId" => "cgw-",
    "VpnGatewayId" => "vgw-",
    "VpnConnectionId" => "vpn-",
    "CarrierGatewayId" => "cagw-",
    "PrefixListId" => "pl-",
    "DedicatedHostId" => "h-",
    "CapacityReservationId" => "cr-",
    "SpotInstanceRequestId" => "sir-",
    "InstanceConnectEndpointId" => "eice-",
    "LocalGatewayId" => "lgw-",
    "FpgaImageId" => "afi-",
    "ImportImageTaskId" => "import-ami-",
    "ImportSnapshotTaskId" => "import-snap-",
    "ExportTaskId" => "export-i-",
    "ExportImageTaskId" => "export-ami-",
];

/// The documented shape of a name variable of an ARN of `service`, if AWS documents one.
pub fn lookup(service: &str, var: &str) -> Option<Shape> {
    let shape = match (service, var) {
        ("s3", "BucketName") => BUCKET_SHAPE,
        ("secretsmanager", "SecretId") => SECRET_SHAPE,
        ("kms", "KeyId") => KMS_KEY_SHAPE,
        ("ec2", _) => return EC2_IDS.iter().find(|(v, _)| *v == var).map(|(_, s)| *s),
        (
            "iam",
            "RoleNameWithPath"
            | "RoleName"
            | "UserNameWithPath"
            | "UserName"
            | "GroupNameWithPath"
            | "PolicyNameWithPath"
            | "InstanceProfileNameWithPath",
        ) => IAM_SHAPE,
        ("dynamodb", "TableName") => TABLE_SHAPE,
        ("lambda", "FunctionName") | ("sqs", "QueueName") | ("sns", "TopicName") => NAME_SHAPE,
        ("ecr", "RepositoryName") => ECR_SHAPE,
        ("rds", "DbInstanceName" | "DbClusterInstanceName") => RDS_SHAPE,
        ("logs", "LogGroupName") => LOG_GROUP_SHAPE,
        ("ssm", "ParameterNameWithoutLeadingSlash") => PARAMETER_SHAPE,
        _ => return None,
    };
    Some(shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_ranges(r: Ranges, c: char) -> bool {
        r.iter().any(|&(a, b)| (a..=b).contains(&c))
    }

    #[test]
    fn ranges_hold_what_the_names_hold() {
        for c in "abc-09.".chars() {
            assert!(in_ranges(BUCKET, c), "{c}");
        }
        for c in "A_/:".chars() {
            assert!(!in_ranges(BUCKET, c), "{c}");
        }
        for c in "prod/db_+=.@-Z9".chars() {
            assert!(in_ranges(SECRET, c), "{c}");
        }
        for c in ":*? ".chars() {
            assert!(!in_ranges(SECRET, c), "{c}");
        }
        for c in "a/b+=,.@_-Z9".chars() {
            assert!(in_ranges(IAM, c), "{c}");
        }
        for c in ":*".chars() {
            assert!(!in_ranges(IAM, c), "{c}");
        }
        for c in "/aws/lambda/f#1_x.Y-2".chars() {
            assert!(in_ranges(LOG_GROUP, c), "{c}");
        }
        for c in "app/prod_1.x-Y".chars() {
            assert!(in_ranges(PARAMETER, c), "{c}");
        }
        assert!(!in_ranges(PARAMETER, ':') && !in_ranges(LOG_GROUP, ':'));
        assert!(lookup("ec2", "InstanceId").is_some());
        assert!(lookup("ec2", "KeyPairName").is_none());
    }
}
