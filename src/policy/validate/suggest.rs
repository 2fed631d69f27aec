//! "Did you mean" for a misspelt action or condition key: the closest name by edit distance.

use super::super::catalog::Service;
use super::lower;

/// ` (did you mean s3:GetObject?)` for a near miss, or nothing when no action is close.
/// Closest by edit distance (a transposition counts once), ties to the longer shared
/// prefix: `GetObjectt` is one edit from `GetObject`, six from `GetObjectTorrent`.
pub(super) fn did_you_mean(service: &Service, name: &str) -> String {
    match closest(name, service.actions.iter().map(|a| a.name.as_str())) {
        Some(a) => format!(" (did you mean {}:{a}?)", service.prefix),
        None => String::new(),
    }
}

/// The candidate closest to `name` (case-insensitive), if any is near enough.
pub(super) fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let wanted: Vec<char> = lower(name).chars().collect();
    // Names longer than any candidate cannot be near misses; skip the quadratic work.
    if wanted.len() > 128 {
        return None;
    }
    let limit = (wanted.len() / 3).max(2);
    candidates
        .map(|c| {
            let cand: Vec<char> = lower(c).chars().collect();
            let prefix = cand.iter().zip(&wanted).take_while(|(x, y)| x == y).count();
            (edit_distance(&wanted, &cand), std::cmp::Reverse(prefix), c)
        })
        .filter(|(d, _, _)| *d <= limit)
        .min_by_key(|(d, p, c)| (*d, *p, c.len()))
        .map(|(_, _, c)| c)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
/// transpositions each cost one.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=m).collect();
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

#[cfg(test)]
mod tests {
    use super::super::super::catalog;
    use super::*;

    fn hint(prefix: &str, name: &str) -> String {
        catalog::service(prefix).map_or_else(String::new, |s| did_you_mean(s, name))
    }

    #[test]
    fn closest_action() {
        assert_eq!(hint("s3", "GetObjectt"), " (did you mean s3:GetObject?)");
        assert_eq!(hint("s3", "GetObjekt"), " (did you mean s3:GetObject?)");
        assert_eq!(hint("s3", "GteObject"), " (did you mean s3:GetObject?)");
        assert_eq!(hint("s3", "putobjet"), " (did you mean s3:PutObject?)");
        assert_eq!(hint("iam", "PassRoel"), " (did you mean iam:PassRole?)");
        assert_eq!(hint("s3", "Frobnicate"), "");
        assert_eq!(hint("s3", &"x".repeat(5000)), "");
    }
}
