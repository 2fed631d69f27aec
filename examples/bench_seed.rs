//! `make bench` helper: write N active IAM grants straight into a Redis store, through the
//! same transitions (request, approve, attach begun, attached) and atomic commits the CLI
//! uses, so `status` and `expire` can be timed at 10,000 grants without 30,000 CLI runs.
//! Their policies (`arn:aws:iam::...:policy/jit/<id>`) do not exist in AWS; removing
//! them finds nothing, which is still every call a removal makes.
//!
//!   bench_seed REDIS_URL PREFIX COUNT DUE_IN_SECS USER
//!
//! DUE_IN_SECS may be negative (already due).

use std::time::Duration;

use aws_jit::request::{self, Claim, NewRequest, Request, Target};
use aws_jit::store::redis::RedisStore;
use aws_jit::store::Store;
use aws_jit::time::Timestamp;

/// `jit-` and 12 random characters of the id alphabet.
fn new_id() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut bytes = [0u8; 12];
    let _ = getrandom::fill(&mut bytes);
    let tail: String = bytes
        .iter()
        .map(|b| ALPHABET[(*b % 32) as usize] as char)
        .collect();
    format!("jit-{tail}")
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, prefix, count, due_in, user] = args.as_slice() else {
        anyhow::bail!("usage: bench_seed REDIS_URL PREFIX COUNT DUE_IN_SECS USER");
    };
    let count: usize = count.parse()?;
    let due_in: i64 = due_in.parse()?;
    let store = RedisStore::connect_url(url, prefix)?;
    let ttl = Duration::from_secs(3600);
    let now = Timestamp::now();
    // Attached one TTL before the wanted expiry.
    let attached_at = Timestamp((now.0 as i64 + due_in - ttl.as_secs() as i64).max(0) as u64);
    let approvers = vec!["boss@example.com".to_string()];
    for _ in 0..count {
        let id = new_id();
        let r = Request::new(NewRequest {
            id: id.clone(),
            requester: "dev@example.com".into(),
            purpose: "bench".into(),
            ttl,
            target: Target::IamUser { name: user.clone() },
            policy: Some(serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]
            })),
            policy_name: id.clone(),
            policy_source: "structured".into(),
            policy_notes: vec![],
            findings: vec![],
            quorum: 1,
            terms: None,
            beneficiary: None,
            permission_set_contents: None,
            now: attached_at,
        });
        let mut steps = vec![request::created(&r)];
        let approved = request::approve(
            &r,
            request::ApproveInput {
                approver: "boss@example.com",
                comment: None,
                acknowledge: &[],
                approvers: &approvers,
                quorum: 1,
            },
            attached_at,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let claim = Claim {
            by: "bench",
            owner: "bench",
            lease: Duration::from_secs(60),
            now: attached_at,
        };
        let attaching =
            request::begin_attach(&approved.next, &claim).map_err(|e| anyhow::anyhow!("{e}"))?;
        let grant = aws_jit::grant::Grant {
            policy_arn: Some(format!("arn:aws:iam::123456789012:policy/jit/{id}")),
            details: None,
        };
        let active = request::attached(&attaching.next, "bench", grant, attached_at)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        steps.extend([approved, attaching, active]);
        for t in &steps {
            store.commit(t, &[])?;
        }
    }
    Ok(())
}
