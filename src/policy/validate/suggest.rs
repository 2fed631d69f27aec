//! "Did you mean" for a misspelt action name.

use super::super::catalog::Service;
use super::lower;

/// ` (did you mean s3:GetObject?)` for a near miss: same name ignoring case was handled by
/// the lookup, so try a shared prefix.
pub(super) fn did_you_mean(service: &Service, name: &str) -> String {
    let l = lower(name);
    let best = service
        .actions
        .iter()
        .map(|a| {
            let al = lower(&a.name);
            let common = al
                .chars()
                .zip(l.chars())
                .take_while(|(x, y)| x == y)
                .count();
            (common, a)
        })
        .filter(|(c, _)| *c >= 4)
        .max_by_key(|(c, _)| *c);
    match best {
        Some((_, a)) => format!(" (did you mean {}:{}?)", service.prefix, a.name),
        None => String::new(),
    }
}
