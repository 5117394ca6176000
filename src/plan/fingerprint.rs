//! Digests of one user's live state (direct policy assignments and numbers
//! held), so `apply` can refuse a plan made against a state that has since
//! changed. Pure.

use sha2::{Digest, Sha256};

use crate::live::{NumberAssignment, User};

/// `sha256:…` of a user's direct assignments and held numbers, in a
/// canonical order.
pub fn fingerprint(user: &User, numbers: &[&NumberAssignment]) -> String {
    let mut h = Sha256::new();
    h.update(user.id.as_bytes());
    h.update([0]);
    for (ty, name) in &user.policies {
        h.update(ty.to_lowercase().as_bytes());
        h.update([1]);
        h.update(name.to_lowercase().as_bytes());
        h.update([2]);
    }
    let mut held: Vec<(String, String)> = numbers
        .iter()
        .map(|n| {
            (
                n.number.to_string(),
                n.category.clone().unwrap_or_default().to_lowercase(),
            )
        })
        .collect();
    held.sort();
    for (n, c) in held {
        h.update([3]);
        h.update(n.as_bytes());
        h.update([4]);
        h.update(c.as_bytes());
    }
    format!("sha256:{:x}", h.finalize())
}
