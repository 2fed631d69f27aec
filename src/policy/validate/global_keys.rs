//! The global condition keys (`aws:...`) and the session keys some services add to every
//! request a role session makes. From AWS's "AWS global condition context keys" and
//! "properties of the role session" pages; parliament's GLOBAL_CONDITION_KEYS is a subset.

use super::super::catalog::KeyType;

/// (name, type, multivalued). A name ending in `/` takes any non-empty suffix (tag keys).
pub(super) const GLOBAL_KEYS: &[(&str, KeyType, bool)] = &[
    // Principal
    ("aws:PrincipalArn", KeyType::Arn, false),
    ("aws:PrincipalAccount", KeyType::String, false),
    ("aws:PrincipalOrgID", KeyType::String, false),
    ("aws:PrincipalOrgPaths", KeyType::String, true),
    ("aws:PrincipalTag/", KeyType::String, false),
    ("aws:PrincipalIsAWSService", KeyType::Bool, false),
    ("aws:PrincipalServiceName", KeyType::String, false),
    ("aws:PrincipalServiceNamesList", KeyType::String, true),
    ("aws:PrincipalType", KeyType::String, false),
    ("aws:userid", KeyType::String, false),
    ("aws:username", KeyType::String, false),
    ("aws:AssumedRoot", KeyType::Bool, false),
    // Role session
    ("aws:FederatedProvider", KeyType::String, false),
    ("aws:TokenIssueTime", KeyType::Date, false),
    ("aws:MultiFactorAuthAge", KeyType::Numeric, false),
    ("aws:MultiFactorAuthPresent", KeyType::Bool, false),
    ("aws:Ec2InstanceSourceVpc", KeyType::String, false),
    ("aws:Ec2InstanceSourcePrivateIPv4", KeyType::Ip, false),
    ("aws:SourceIdentity", KeyType::String, false),
    ("aws:ChatbotSourceArn", KeyType::Arn, false),
    // Network
    ("aws:SourceIp", KeyType::Ip, false),
    ("aws:SourceVpc", KeyType::String, false),
    ("aws:SourceVpcArn", KeyType::Arn, false),
    ("aws:SourceVpce", KeyType::String, false),
    ("aws:VpcSourceIp", KeyType::Ip, false),
    ("aws:VpceAccount", KeyType::String, false),
    ("aws:VpceOrgID", KeyType::String, false),
    ("aws:VpceOrgPaths", KeyType::String, true),
    // Resource
    ("aws:ResourceAccount", KeyType::String, false),
    ("aws:ResourceOrgID", KeyType::String, false),
    ("aws:ResourceOrgPaths", KeyType::String, true),
    ("aws:ResourceTag/", KeyType::String, false),
    // Request
    ("aws:CalledVia", KeyType::String, true),
    ("aws:CalledViaFirst", KeyType::String, false),
    ("aws:CalledViaLast", KeyType::String, false),
    ("aws:CalledViaAWSMCP", KeyType::String, false),
    ("aws:ViaAWSService", KeyType::Bool, false),
    ("aws:ViaAWSMCPService", KeyType::Bool, false),
    ("aws:CurrentTime", KeyType::Date, false),
    // Also compared with Numeric operators; see `epoch`.
    ("aws:EpochTime", KeyType::Date, false),
    ("aws:referer", KeyType::String, false),
    ("aws:RequestedRegion", KeyType::String, false),
    ("aws:RequestTag/", KeyType::String, false),
    ("aws:TagKeys", KeyType::String, true),
    ("aws:SecureTransport", KeyType::Bool, false),
    ("aws:SourceAccount", KeyType::String, false),
    ("aws:SourceArn", KeyType::Arn, false),
    ("aws:SourceOrgID", KeyType::String, false),
    ("aws:SourceOrgPaths", KeyType::String, true),
    ("aws:SourceOwner", KeyType::String, false),
    ("aws:UserAgent", KeyType::String, false),
    ("aws:IsMcpServiceAction", KeyType::Bool, false),
    // Keys services add to requests made with the role sessions they hand out.
    ("ec2:SourceInstanceArn", KeyType::Arn, false),
    ("ec2:SourceInstancePrivateIPv4", KeyType::Ip, false),
    ("ec2:RoleDelivery", KeyType::Numeric, false),
    ("glue:RoleAssumedBy", KeyType::String, false),
    ("glue:CredentialIssuingService", KeyType::String, false),
    ("lambda:SourceFunctionArn", KeyType::Arn, false),
    ("ssm:SourceInstanceArn", KeyType::Arn, false),
    ("identitystore:UserId", KeyType::String, false),
];

/// A global or session key: (documented name, type, multivalued).
pub(super) fn find(key: &str) -> Option<(&'static str, KeyType, bool)> {
    GLOBAL_KEYS.iter().copied().find(|(name, _, _)| {
        match name.strip_suffix('/') {
            // `aws:ResourceTag/` takes a non-empty tag key.
            Some(prefix) => {
                key.len() > name.len()
                    && key
                        .get(..name.len())
                        .is_some_and(|p| p.eq_ignore_ascii_case(name))
                    && !prefix.is_empty()
            }
            None => key.eq_ignore_ascii_case(name),
        }
    })
}

/// `aws:EpochTime` is documented as Date or Numeric.
pub(super) fn epoch(key: &str) -> bool {
    key.eq_ignore_ascii_case("aws:EpochTime")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup() {
        assert!(find("aws:SourceIp").is_some_and(|k| k.1 == KeyType::Ip));
        assert!(find("AWS:sourceip").is_some());
        assert!(find("aws:SourceIpp").is_none());
        assert!(find("aws:PrincipalTag/team").is_some());
        assert!(find("aws:PrincipalTag/").is_none());
        assert!(find("aws:TagKeys").is_some_and(|k| k.2));
        assert!(find("ec2:SourceInstanceArn").is_some());
    }
}
