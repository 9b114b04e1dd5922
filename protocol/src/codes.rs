//! Status codes (facts §3.1) and alert codes (facts §3.3) as enums with their numeric values.
//!
//! An unknown code is kept as `Other(n)`, never lost: a conformance tool must be able to show
//! exactly what a peer sent. Both serialize as plain numbers.

use std::fmt;

macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A code this enum does not name, kept as received.
            Other(u16),
        }

        impl $name {
            /// Every named code, in numeric order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The code for a number (`Other` when the number is not a named code).
            pub fn from_u16(n: u16) -> Self {
                match n {
                    $( $value => $name::$variant, )+
                    other => $name::Other(other),
                }
            }

            /// The numeric value.
            pub fn as_u16(self) -> u16 {
                match self {
                    $( $name::$variant => $value, )+
                    $name::Other(n) => n,
                }
            }

            /// The variant name (`Other` for unknown codes).
            pub fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => stringify!($variant), )+
                    $name::Other(_) => "Other",
                }
            }
        }

        impl From<u16> for $name {
            fn from(n: u16) -> Self {
                Self::from_u16(n)
            }
        }

        impl From<$name> for u16 {
            fn from(c: $name) -> u16 {
                c.as_u16()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.as_u16())
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse::<u16>().map(Self::from_u16)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u16(self.as_u16())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <u16 as serde::Deserialize>::deserialize(d).map(Self::from_u16)
            }
        }
    };
}

code_enum! {
    /// A SyncML status code (facts §3.1; DM usage in §3.2).
    StatusCode {
        /// 101 In progress.
        InProgress = 101,
        /// 200 OK (also: the user answered "yes" to a 1101 confirm).
        Ok = 200,
        /// 201 Item added (DS).
        ItemAdded = 201,
        /// 202 Accepted for processing (asynchronous Exec, Generic Alert acknowledgement).
        Accepted = 202,
        /// 203 Non-authoritative response (DS).
        NonAuthoritative = 203,
        /// 204 No content (DS).
        NoContent = 204,
        /// 205 Reset content (DS).
        ResetContent = 205,
        /// 206 Partial content (DS).
        PartialContent = 206,
        /// 207 Conflict resolved with merge (DS).
        ConflictResolvedWithMerge = 207,
        /// 208 Conflict resolved with client's command "winning" (DS).
        ConflictResolvedClientWins = 208,
        /// 209 Conflict resolved with duplicate (DS).
        ConflictResolvedWithDuplicate = 209,
        /// 210 Delete without archive (DS).
        DeleteWithoutArchive = 210,
        /// 211 Item not deleted (DS).
        ItemNotDeleted = 211,
        /// 212 Authentication accepted for the rest of the session.
        AuthenticationAccepted = 212,
        /// 213 Chunked item accepted and buffered (large objects).
        ChunkedItemAccepted = 213,
        /// 214 Operation cancelled (user cancelled a UI alert).
        OperationCancelled = 214,
        /// 215 Not executed (user aborted, sequence bypass).
        NotExecuted = 215,
        /// 216 Atomic roll back OK.
        AtomicRollBackOk = 216,
        /// 300 Multiple choices.
        MultipleChoices = 300,
        /// 301 Moved permanently.
        MovedPermanently = 301,
        /// 302 Found.
        Found = 302,
        /// 303 See other.
        SeeOther = 303,
        /// 304 Not modified (the user answered "no" to a 1101 confirm).
        NotModified = 304,
        /// 305 Use proxy.
        UseProxy = 305,
        /// 400 Bad request (malformed SyncML).
        BadRequest = 400,
        /// 401 Invalid credentials / unauthorized (a Chal must accompany it).
        InvalidCredentials = 401,
        /// 402 Payment required.
        PaymentRequired = 402,
        /// 403 Forbidden.
        Forbidden = 403,
        /// 404 Not found.
        NotFound = 404,
        /// 405 Command not allowed.
        CommandNotAllowed = 405,
        /// 406 Optional feature not supported.
        OptionalFeatureNotSupported = 406,
        /// 407 Missing credentials / authentication required (a Chal must accompany it).
        MissingCredentials = 407,
        /// 408 Request timeout (UI alert timed out).
        RequestTimeout = 408,
        /// 409 Conflict.
        Conflict = 409,
        /// 410 Gone.
        Gone = 410,
        /// 411 Size required.
        SizeRequired = 411,
        /// 412 Incomplete command.
        IncompleteCommand = 412,
        /// 413 Request entity too large.
        RequestEntityTooLarge = 413,
        /// 414 URI too long (total length, segment length or depth).
        UriTooLong = 414,
        /// 415 Unsupported media type or format.
        UnsupportedMediaType = 415,
        /// 416 Requested size too big.
        RequestedSizeTooBig = 416,
        /// 417 Retry later.
        RetryLater = 417,
        /// 418 Already exists.
        AlreadyExists = 418,
        /// 419 Conflict resolved with server data.
        ConflictResolvedWithServerData = 419,
        /// 420 Device full.
        DeviceFull = 420,
        /// 421 Unknown search grammar.
        UnknownSearchGrammar = 421,
        /// 422 Bad CGI script.
        BadCgiScript = 422,
        /// 423 Soft-delete conflict.
        SoftDeleteConflict = 423,
        /// 424 Size mismatch (reassembled large object differs from Meta Size).
        SizeMismatch = 424,
        /// 425 Permission denied (ACL).
        PermissionDenied = 425,
        /// 426 Partial item not accepted.
        PartialItemNotAccepted = 426,
        /// 427 Item not empty.
        ItemNotEmpty = 427,
        /// 428 Move failed.
        MoveFailed = 428,
        /// 500 Command failed.
        CommandFailed = 500,
        /// 501 Command not implemented.
        CommandNotImplemented = 501,
        /// 502 Bad gateway.
        BadGateway = 502,
        /// 503 Service unavailable.
        ServiceUnavailable = 503,
        /// 504 Gateway timeout.
        GatewayTimeout = 504,
        /// 505 DTD version not supported.
        DtdVersionNotSupported = 505,
        /// 506 Processing error.
        ProcessingError = 506,
        /// 507 Atomic failed.
        AtomicFailed = 507,
        /// 508 Refresh required (DS).
        RefreshRequired = 508,
        /// 510 Data store failure.
        DataStoreFailure = 510,
        /// 511 Server failure.
        ServerFailure = 511,
        /// 512 Synchronization failed.
        SynchronizationFailed = 512,
        /// 513 Protocol version not supported.
        ProtocolVersionNotSupported = 513,
        /// 514 Operation cancelled.
        OperationCancelledByServer = 514,
        /// 516 Atomic roll back failed.
        AtomicRollBackFailed = 516,
        /// 517 Atomic response too large to fit.
        AtomicResponseTooLarge = 517,
    }
}

impl StatusCode {
    /// True for 2xx codes.
    pub fn is_success(self) -> bool {
        (200..300).contains(&self.as_u16())
    }

    /// True for 401 and 407, the codes that MUST carry a `Chal` (facts §6.2).
    pub fn needs_challenge(self) -> bool {
        matches!(
            self,
            StatusCode::InvalidCredentials | StatusCode::MissingCredentials
        )
    }
}

code_enum! {
    /// An alert code valid in OMA DM (facts §3.3: DM codes start at 1100).
    AlertCode {
        /// 1100 DISPLAY (server to client).
        Display = 1100,
        /// 1101 CONFIRM OR REJECT.
        ConfirmOrReject = 1101,
        /// 1102 TEXT INPUT.
        TextInput = 1102,
        /// 1103 SINGLE CHOICE.
        SingleChoice = 1103,
        /// 1104 MULTIPLE CHOICE.
        MultipleChoice = 1104,
        /// 1200 SERVER-INITIATED MGMT (package 1 after a notification).
        ServerInitiatedMgmt = 1200,
        /// 1201 CLIENT-INITIATED MGMT.
        ClientInitiatedMgmt = 1201,
        /// 1222 NEXT MESSAGE.
        NextMessage = 1222,
        /// 1223 SESSION ABORT.
        SessionAbort = 1223,
        /// 1224 CLIENT EVENT.
        ClientEvent = 1224,
        /// 1225 NO END OF DATA (chunked object not terminated).
        NoEndOfData = 1225,
        /// 1226 GENERIC ALERT.
        GenericAlert = 1226,
    }
}

impl AlertCode {
    /// True for the user-interaction alerts 1100–1104 (facts §3.4).
    pub fn is_ui(self) -> bool {
        (1100..=1104).contains(&self.as_u16())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_round_trip_and_unknowns_are_kept() {
        for c in StatusCode::ALL {
            assert_eq!(StatusCode::from_u16(c.as_u16()), *c);
        }
        for c in AlertCode::ALL {
            assert_eq!(AlertCode::from_u16(c.as_u16()), *c);
        }
        assert_eq!(StatusCode::from_u16(0), StatusCode::Other(0));
        assert_eq!(StatusCode::from_u16(299).as_u16(), 299);
        assert_eq!(
            "1226".parse::<AlertCode>().unwrap(),
            AlertCode::GenericAlert
        );
        assert_eq!(
            serde_json::to_string(&StatusCode::SizeMismatch).unwrap(),
            "424"
        );
        assert!(StatusCode::MissingCredentials.needs_challenge());
        assert!(AlertCode::MultipleChoice.is_ui());
        assert!(!AlertCode::GenericAlert.is_ui());
    }
}
