//! The Graph routes roster calls and the application permissions each one
//! needs: the one table the client (to name the permission a 403 lacks)
//! and the emulator (to enforce it) both read. Pure: it names routes and
//! must not send requests or serve them.

/// Normalise OData spellings: drop `microsoft.graph.*` qualifiers and
/// turn `operations('id')` into `operations/id`.
pub fn normalize_path(path: &str) -> String {
    let mut segs = Vec::new();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        let seg = seg
            .strip_prefix("microsoft.graph.teamsAdministration.")
            .or_else(|| seg.strip_prefix("microsoft.graph."))
            .unwrap_or(seg);
        if let Some(rest) = seg.strip_prefix("operations(") {
            segs.push("operations".to_string());
            segs.push(rest.trim_end_matches(')').trim_matches('\'').to_string());
        } else if seg == "delta()" {
            segs.push("delta".into());
        } else {
            segs.push(seg.to_string());
        }
    }
    format!("/{}", segs.join("/"))
}

/// Route name (for statistics) and the application permissions any one
/// of which allows it.
pub fn route(method: &str, path: &str) -> Option<(String, &'static [&'static str])> {
    const USERS: &[&str] = &[
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    const GROUPS: &[&str] = &[
        "GroupMember.Read.All",
        "Group.Read.All",
        "Directory.Read.All",
        "User.Read.All",
    ];
    const SKUS: &[&str] = &[
        "LicenseAssignment.Read.All",
        "Organization.Read.All",
        "Directory.Read.All",
    ];
    const CONFIG: &[&str] = &["TeamsUserConfiguration.Read.All"];
    const POLICY: &[&str] = &["TeamsPolicyUserAssign.ReadWrite.All"];
    const NUM_READ: &[&str] = &[
        "TeamsTelephoneNumber.Read.All",
        "TeamsTelephoneNumber.ReadWrite.All",
    ];
    const NUM_WRITE: &[&str] = &["TeamsTelephoneNumber.ReadWrite.All"];
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let r = |name: &str, p: &'static [&'static str]| Some((format!("{method} {name}"), p));
    match (method, segs.as_slice()) {
        ("GET", ["users"]) => r("/users", USERS),
        ("GET", ["users", "delta"]) => r("/users/delta", USERS),
        ("GET", ["users", _, "transitiveMemberOf", ..]) => {
            r("/users/{id}/transitiveMemberOf", GROUPS)
        }
        ("GET", ["groups"]) => r("/groups", GROUPS),
        ("GET", ["subscribedSkus"]) => r("/subscribedSkus", SKUS),
        ("GET", ["groups", _, "transitiveMembers", ..]) => {
            r("/groups/{id}/transitiveMembers", GROUPS)
        }
        ("GET", ["admin", "teams", "userConfigurations"]) => {
            r("/admin/teams/userConfigurations", CONFIG)
        }
        ("GET", ["admin", "teams", "userConfigurations", _]) => {
            r("/admin/teams/userConfigurations/{id}", CONFIG)
        }
        ("GET", ["admin", "teams", "policy", f]) if f.starts_with("getPolicyId(") => {
            r("/admin/teams/policy/getPolicyId", POLICY)
        }
        ("POST", ["admin", "teams", "policy", "userAssignments", "assign"]) => {
            r("/admin/teams/policy/userAssignments/assign", POLICY)
        }
        ("POST", ["admin", "teams", "policy", "userAssignments", "unassign"]) => {
            r("/admin/teams/policy/userAssignments/unassign", POLICY)
        }
        (
            "GET",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "numberAssignments",
            ],
        ) => r(
            "/admin/teams/telephoneNumberManagement/numberAssignments",
            NUM_READ,
        ),
        (
            "POST",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "numberAssignments",
                a @ ("assignNumber" | "unassignNumber" | "updateNumber"),
            ],
        ) => Some((
            format!("POST /admin/teams/telephoneNumberManagement/numberAssignments/{a}"),
            NUM_WRITE,
        )),
        (
            "GET",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "numberAssignments",
                _,
            ],
        ) => r(
            "/admin/teams/telephoneNumberManagement/numberAssignments/{id}",
            NUM_READ,
        ),
        (
            "GET",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "operations",
                _,
            ],
        ) => r(
            "/admin/teams/telephoneNumberManagement/operations/{id}",
            NUM_READ,
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn permissions(method: &str, path: &str) -> Option<&'static [&'static str]> {
        route(method, &normalize_path(path)).map(|(_, p)| p)
    }

    #[test]
    fn normalises_odata_spellings() {
        assert_eq!(
            normalize_path(
                "/admin/teams/telephoneNumberManagement/microsoft.graph.teamsAdministration.operations('abc')"
            ),
            "/admin/teams/telephoneNumberManagement/operations/abc"
        );
        assert_eq!(normalize_path("/users/delta()"), "/users/delta");
        assert_eq!(
            normalize_path("//users/u1/transitiveMemberOf/microsoft.graph.group/"),
            "/users/u1/transitiveMemberOf/group"
        );
    }

    #[test]
    fn routes_name_their_least_privileged_permission_first() {
        assert_eq!(
            permissions("GET", "/users").and_then(|p| p.first().copied()),
            Some("User.Read.All")
        );
        assert_eq!(
            permissions("GET", "/groups/g1/transitiveMembers/microsoft.graph.user")
                .and_then(|p| p.first().copied()),
            Some("GroupMember.Read.All")
        );
        assert_eq!(
            permissions("POST", "/admin/teams/policy/userAssignments/assign"),
            Some(&["TeamsPolicyUserAssign.ReadWrite.All"][..])
        );
        assert_eq!(
            permissions(
                "GET",
                "/admin/teams/telephoneNumberManagement/numberAssignments"
            )
            .and_then(|p| p.first().copied()),
            Some("TeamsTelephoneNumber.Read.All")
        );
        assert_eq!(
            permissions(
                "POST",
                "/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber"
            ),
            Some(&["TeamsTelephoneNumber.ReadWrite.All"][..])
        );
        assert_eq!(
            permissions("GET", "/admin/teams/userConfigurations/u1"),
            Some(&["TeamsUserConfiguration.Read.All"][..])
        );
        assert_eq!(
            permissions("GET", "/subscribedSkus").and_then(|p| p.first().copied()),
            Some("LicenseAssignment.Read.All")
        );
    }

    #[test]
    fn route_names_hide_ids_and_unknown_routes_have_none() {
        let (name, _) = route(
            "GET",
            &normalize_path("/admin/teams/telephoneNumberManagement/operations('op-1')"),
        )
        .unwrap();
        assert_eq!(
            name,
            "GET /admin/teams/telephoneNumberManagement/operations/{id}"
        );
        let (name, _) = route(
            "GET",
            "/admin/teams/policy/getPolicyId(type='TeamsCallingPolicy',name='Sales')",
        )
        .unwrap();
        assert_eq!(name, "GET /admin/teams/policy/getPolicyId");
        assert!(route("DELETE", "/users").is_none());
        assert!(route("GET", "/sites").is_none());
        assert!(
            route(
                "POST",
                "/admin/teams/telephoneNumberManagement/numberAssignments/deleteNumber"
            )
            .is_none()
        );
    }
}
