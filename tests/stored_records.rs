//! Records written by earlier versions still read, and write back unchanged: the typed
//! grant details (`GrantDetails`), audit actions and the rest of the record keep the
//! stored JSON shape. The files in tests/data/records/ are records as the version before
//! the typed grants stored them.

use aws_jit::grant::GrantDetails;
use aws_jit::request::{Request, State};
use serde_json::Value;

fn read(name: &str) -> (Value, Request) {
    let path = format!("{}/tests/data/records/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    let value: Value = serde_json::from_str(&text).expect("fixture is JSON");
    let record: Request = serde_json::from_str(&text).expect("the record reads");
    (value, record)
}

#[test]
fn an_iam_grant_reads_and_writes_back_unchanged() {
    let (stored, r) = read("iam-active.json");
    assert_eq!(r.state, State::Active);
    let g = r.grant.as_ref().expect("grant");
    match &g.details {
        Some(GrantDetails::Iam(d)) => {
            assert_eq!(d.path, "/jit/");
            assert_eq!(d.policy_name, "jit-7k2m9q4x1zab");
        }
        other => panic!("IAM details expected, got {other:?}"),
    }
    assert_eq!(serde_json::to_value(&r).expect("serialise"), stored);
}

#[test]
fn an_identity_center_grant_reads_and_writes_back_unchanged() {
    let (stored, r) = read("sso-removing.json");
    assert_eq!(r.state, State::Removing);
    let d = r.grant.as_ref().and_then(|g| g.sso()).expect("sso details");
    assert_eq!(d.user_id, "a1b2c3d4-1111-2222-3333-444455556666");
    assert!(!d.ephemeral);
    assert_eq!(
        d.assignment.as_ref().map(|a| a.status.as_str()),
        Some("SUCCEEDED")
    );
    assert_eq!(serde_json::to_value(&r).expect("serialise"), stored);
}
