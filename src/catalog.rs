//! The Teams per-user policy type catalog and the user attributes that rules
//! can test: data, looked up without regard to case, with "did you mean"
//! suggestions for typos.
//!
//! Microsoft adds policy types over time: extending the catalog is adding a
//! line to [`POLICY_TYPES`].

/// Teams per-user policy types, as `Grant-Cs<Type>` and Graph's
/// `userAssignments/assign` spell them (PascalCase).
pub const POLICY_TYPES: &[&str] = &[
    // Voice and calling
    "TeamsCallingPolicy",
    "OnlineVoiceRoutingPolicy",
    "TenantDialPlan",
    "CallingLineIdentity",
    "TeamsEmergencyCallingPolicy",
    "TeamsEmergencyCallRoutingPolicy",
    "OnlineVoicemailPolicy",
    "TeamsCallParkPolicy",
    "TeamsCallHoldPolicy",
    "TeamsVoiceApplicationsPolicy",
    "TeamsSharedCallingRoutingPolicy",
    "TeamsSurvivableBranchAppliancePolicy",
    "TeamsPersonalAttendantPolicy",
    "DialoutPolicy",
    // Conferencing and meetings
    "OnlineAudioConferencingRoutingPolicy",
    "TeamsAudioConferencingPolicy",
    "TeamsMeetingPolicy",
    "TeamsMeetingBroadcastPolicy",
    "TeamsMeetingBrandingPolicy",
    "TeamsMeetingTemplatePermissionPolicy",
    "TeamsEventsPolicy",
    "TeamsVirtualAppointmentsPolicy",
    "TeamsRoomVideoTeleConferencingPolicy",
    "TeamsVideoInteropServicePolicy",
    "TeamsEnhancedEncryptionPolicy",
    // Messaging, apps and clients
    "TeamsMessagingPolicy",
    "TeamsChannelsPolicy",
    "TeamsFilesPolicy",
    "TeamsAppSetupPolicy",
    "TeamsAppPermissionPolicy",
    "TeamsAIPolicy",
    "TeamsFeedbackPolicy",
    "TeamsUpdateManagementPolicy",
    "TeamsUpgradePolicy",
    "TeamsMobilityPolicy",
    "TeamsIPPhonePolicy",
    "TeamsVdiPolicy",
    "TeamsShiftsPolicy",
    "TeamsComplianceRecordingPolicy",
    "TeamsMediaLoggingPolicy",
    "TeamsMediaConnectivityPolicy",
    "TeamsCortanaPolicy",
    "TeamsWorkLoadPolicy",
    "TeamsWorkLocationDetectionPolicy",
    // Access
    "ExternalAccessPolicy",
    "ApplicationAccessPolicy",
];

/// The canonical spelling of a policy type, matched without regard to case.
pub fn policy_type(name: &str) -> Option<&'static str> {
    POLICY_TYPES
        .iter()
        .copied()
        .find(|t| t.eq_ignore_ascii_case(name.trim()))
}

/// Rule attributes: Microsoft Graph user properties (and `memberOf`).
/// The index of an attribute in this list is its [`AttrId`].
pub const ATTRIBUTES: &[&str] = &[
    "userPrincipalName",
    "mail",
    "displayName",
    "givenName",
    "surname",
    "jobTitle",
    "department",
    "companyName",
    "employeeType",
    "employeeId",
    "officeLocation",
    "city",
    "state",
    "country",
    "postalCode",
    "usageLocation",
    "preferredLanguage",
    "extensionAttribute1",
    "extensionAttribute2",
    "extensionAttribute3",
    "extensionAttribute4",
    "extensionAttribute5",
    "extensionAttribute6",
    "extensionAttribute7",
    "extensionAttribute8",
    "extensionAttribute9",
    "extensionAttribute10",
    "extensionAttribute11",
    "extensionAttribute12",
    "extensionAttribute13",
    "extensionAttribute14",
    "extensionAttribute15",
    "memberOf",
];

/// Index into [`ATTRIBUTES`].
pub type AttrId = usize;

/// The id of `memberOf`, which is not a user property but group membership.
pub const MEMBER_OF: AttrId = ATTRIBUTES.len() - 1;

/// Number of plain (non-`memberOf`) attributes a user carries.
pub const USER_ATTRIBUTE_COUNT: usize = ATTRIBUTES.len() - 1;

/// Index of the first `extensionAttributeN`.
pub const FIRST_EXTENSION_ATTRIBUTE: AttrId = 17;

pub fn attribute(name: &str) -> Option<AttrId> {
    ATTRIBUTES
        .iter()
        .position(|a| a.eq_ignore_ascii_case(name.trim()))
}

/// The closest candidate to a misspelt `name`, if one is close enough to be
/// a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_lowercase()), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `did you mean `X`?` as a help line, when there is a close candidate.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    suggest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case() {
        assert_eq!(
            policy_type("teamsmeetingpolicy"),
            Some("TeamsMeetingPolicy")
        );
        assert_eq!(policy_type("TeamsMeetingPolicies"), None);
        assert_eq!(attribute("JOBTITLE"), Some(5));
        assert_eq!(attribute("memberof"), Some(MEMBER_OF));
        assert_eq!(ATTRIBUTES[FIRST_EXTENSION_ATTRIBUTE], "extensionAttribute1");
        assert_eq!(POLICY_TYPES.len(), 46);
    }

    #[test]
    fn suggestions_catch_typos_only() {
        assert_eq!(
            suggest("jobtitel", ATTRIBUTES.iter().copied()),
            Some("jobTitle")
        );
        assert_eq!(
            suggest("TeamsMeetingPolcy", POLICY_TYPES.iter().copied()),
            Some("TeamsMeetingPolicy")
        );
        assert_eq!(suggest("zzzz", ATTRIBUTES.iter().copied()), None);
    }
}
