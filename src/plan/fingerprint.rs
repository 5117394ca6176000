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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numbers::E164;

    fn user(policies: &[(&str, &str)]) -> User {
        let mut u = User::new("id-1", "a@x.com");
        for (t, n) in policies {
            u.policies.insert(t.to_string(), n.to_string());
        }
        u
    }

    fn number(n: &str, category: Option<&str>) -> NumberAssignment {
        NumberAssignment {
            number: E164::parse(n).unwrap(),
            number_type: None,
            target: Some("id-1".into()),
            category: category.map(str::to_string),
            status: "userAssigned".into(),
            capabilities: Vec::new(),
            location_id: None,
        }
    }

    #[test]
    fn is_a_sha256_in_hex() {
        let f = fingerprint(&user(&[]), &[]);
        let hex = f.strip_prefix("sha256:").expect(&f);
        assert_eq!(hex.len(), 64);
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }

    #[test]
    fn ignores_case_and_the_order_of_numbers() {
        let a = number("+442071230001", Some("primary"));
        let b = number("+442071230002", Some("private"));
        assert_eq!(
            fingerprint(&user(&[("TenantDialPlan", "London")]), &[&a, &b]),
            fingerprint(&user(&[("tenantdialplan", "LONDON")]), &[&b, &a]),
        );
        let a_upper = number("+442071230001", Some("PRIMARY"));
        assert_eq!(
            fingerprint(&user(&[]), &[&a]),
            fingerprint(&user(&[]), &[&a_upper])
        );
    }

    #[test]
    fn changes_with_anything_apply_checks() {
        let held = number("+442071230001", Some("primary"));
        let base = fingerprint(&user(&[("TenantDialPlan", "London")]), &[&held]);
        let variants = [
            // Another policy name, another assignment, none.
            fingerprint(&user(&[("TenantDialPlan", "Dublin")]), &[&held]),
            fingerprint(
                &user(&[("TenantDialPlan", "London"), ("TeamsMeetingPolicy", "X")]),
                &[&held],
            ),
            fingerprint(&user(&[]), &[&held]),
            // Another number, another category, no category, no number.
            fingerprint(
                &user(&[("TenantDialPlan", "London")]),
                &[&number("+442071230002", Some("primary"))],
            ),
            fingerprint(
                &user(&[("TenantDialPlan", "London")]),
                &[&number("+442071230001", Some("private"))],
            ),
            fingerprint(
                &user(&[("TenantDialPlan", "London")]),
                &[&number("+442071230001", None)],
            ),
            fingerprint(&user(&[("TenantDialPlan", "London")]), &[]),
            // Another user.
            fingerprint(
                &{
                    let mut u = user(&[("TenantDialPlan", "London")]);
                    u.id = "id-2".into();
                    u
                },
                &[&held],
            ),
        ];
        for (i, v) in variants.iter().enumerate() {
            assert_ne!(*v, base, "variant {i}");
        }
    }

    #[test]
    fn fields_are_delimited() {
        // The same bytes split differently between type and name.
        assert_ne!(
            fingerprint(&user(&[("ab", "c")]), &[]),
            fingerprint(&user(&[("a", "bc")]), &[]),
        );
    }
}
