//! Whether a stored grant may be used (RFC 6749 §4.1.3, §6; RFC 7636 §4.6): an authorization
//! code being redeemed, a refresh token being used. The store makes each single-use (one
//! conditional `UPDATE`); these functions decide, from what it returns, whether the use is
//! allowed and what the client is told.

use super::error::OAuthError;
use super::pkce;

/// An authorization code as it was issued.
#[derive(Debug, Clone, Copy)]
pub struct IssuedCode<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub code_challenge: Option<&'a str>,
    pub expires_at: i64,
}

/// The token request that redeems it.
#[derive(Debug, Clone, Copy)]
pub struct CodeRedemption<'a> {
    /// The authenticated client.
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub code_verifier: Option<&'a str>,
}

/// A code that matches no issued one.
pub fn unknown_code() -> OAuthError {
    OAuthError::invalid_grant("the authorization code is not valid")
}

/// A code redeemed before: what it issued is revoked (RFC 6749 §4.1.2), and the client told so.
pub fn replayed_code() -> OAuthError {
    OAuthError::invalid_grant("the authorization code has already been used")
}

/// Whether a code just redeemed may be exchanged for tokens by this request at `now`.
pub fn check_code(code: &IssuedCode, request: &CodeRedemption, now: i64) -> Result<(), OAuthError> {
    if code.client_id != request.client_id {
        return Err(OAuthError::invalid_grant(
            "the authorization code was issued to another client",
        ));
    }
    if code.expires_at <= now {
        return Err(OAuthError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    if code.redirect_uri != request.redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the one authorized",
        ));
    }
    match (code.code_challenge, request.code_verifier) {
        (Some(challenge), Some(verifier)) if pkce::verify(challenge, verifier) => Ok(()),
        (Some(_), Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge",
        )),
        (Some(_), None) => Err(OAuthError::invalid_grant(
            "code_verifier is required: the code was requested with PKCE",
        )),
        // A verifier the code was not bound to is refused rather than ignored: the client
        // expects a protection that would not be there.
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier given, but the code was requested without PKCE",
        )),
        (None, None) => Ok(()),
    }
}

/// A refresh token as the store holds it, with the state of its family.
#[derive(Debug, Clone, Copy)]
pub struct StoredRefresh<'a> {
    pub client_id: &'a str,
    pub expires_at: i64,
    /// Already exchanged for a new one (rotation).
    pub rotated: bool,
    /// The family exists and is not revoked.
    pub family_live: bool,
}

/// A refused use of a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRefusal {
    pub error: OAuthError,
    /// A rotated token used again: its family is revoked, so every token it issued dies.
    pub revoke_family: bool,
}

impl RefreshRefusal {
    fn only(error: OAuthError) -> Self {
        Self {
            error,
            revoke_family: false,
        }
    }

    /// A token that was exchanged already, used again: someone else may hold it.
    pub fn reused() -> Self {
        Self {
            error: OAuthError::invalid_grant(
                "the refresh token was already used; its tokens are revoked",
            ),
            revoke_family: true,
        }
    }

    /// A token that matches no stored one, or belongs to another client.
    pub fn unknown() -> Self {
        Self::only(OAuthError::invalid_grant("the refresh token is not valid"))
    }
}

/// Whether `client_id` may use this refresh token at `now`.
pub fn check_refresh(
    token: &StoredRefresh,
    client_id: &str,
    now: i64,
) -> Result<(), RefreshRefusal> {
    // Another client's token is not told apart from one that does not exist.
    if token.client_id != client_id {
        return Err(RefreshRefusal::unknown());
    }
    if token.expires_at <= now {
        return Err(RefreshRefusal::only(OAuthError::invalid_grant(
            "the refresh token has expired",
        )));
    }
    if !token.family_live {
        return Err(RefreshRefusal::only(OAuthError::invalid_grant(
            "the refresh token has been revoked",
        )));
    }
    if token.rotated {
        return Err(RefreshRefusal::reused());
    }
    Ok(())
}

/// Why a rotation (the conditional `UPDATE` that checks all of `check_refresh` at once) matched
/// nothing, given the token as read afterwards. A token that passes every check now was rotated
/// a moment ago by a concurrent use: that is a reuse too.
pub fn refused_rotation(
    token: Option<&StoredRefresh>,
    client_id: &str,
    now: i64,
) -> RefreshRefusal {
    match token {
        None => RefreshRefusal::unknown(),
        Some(token) => match check_refresh(token, client_id, now) {
            Err(refusal) => refusal,
            Ok(()) => RefreshRefusal::reused(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;
    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn code(challenge: Option<&str>) -> IssuedCode<'_> {
        IssuedCode {
            client_id: "web",
            redirect_uri: "https://app.example/cb",
            code_challenge: challenge,
            expires_at: NOW + 300,
        }
    }

    fn redeem(verifier: Option<&str>) -> CodeRedemption<'_> {
        CodeRedemption {
            client_id: "web",
            redirect_uri: "https://app.example/cb",
            code_verifier: verifier,
        }
    }

    fn refused(result: Result<(), OAuthError>) -> String {
        let error = result.unwrap_err();
        assert_eq!(error.code.as_str(), "invalid_grant");
        assert_eq!(error.status(), 400);
        error.description
    }

    #[test]
    fn a_code_redeems_for_its_client_and_redirect_uri_until_it_expires() {
        assert_eq!(check_code(&code(None), &redeem(None), NOW), Ok(()));
        assert_eq!(check_code(&code(None), &redeem(None), NOW + 299), Ok(()));
        assert_eq!(
            refused(check_code(&code(None), &redeem(None), NOW + 300)),
            "the authorization code has expired"
        );
        let other_client = CodeRedemption {
            client_id: "native",
            ..redeem(None)
        };
        assert_eq!(
            refused(check_code(&code(None), &other_client, NOW)),
            "the authorization code was issued to another client"
        );
        // RFC 6749 §4.1.3: identical to the authorization request's, not merely registered.
        let other_uri = CodeRedemption {
            redirect_uri: "https://app.example/cb/",
            ..redeem(None)
        };
        assert_eq!(
            refused(check_code(&code(None), &other_uri, NOW)),
            "redirect_uri differs from the one authorized"
        );
    }

    #[test]
    fn another_clients_code_is_refused_before_its_expiry_is_told() {
        let other_client = CodeRedemption {
            client_id: "native",
            ..redeem(None)
        };
        assert_eq!(
            refused(check_code(&code(None), &other_client, NOW + 3600)),
            "the authorization code was issued to another client"
        );
    }

    #[test]
    fn pkce_binds_the_code_to_its_verifier() {
        let bound = code(Some(CHALLENGE));
        assert_eq!(check_code(&bound, &redeem(Some(VERIFIER)), NOW), Ok(()));
        let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj";
        assert_eq!(
            refused(check_code(&bound, &redeem(Some(wrong)), NOW)),
            "code_verifier does not match the code_challenge"
        );
        // The plain method (verifier == challenge) is not S256.
        assert_eq!(
            refused(check_code(&bound, &redeem(Some(CHALLENGE)), NOW)),
            "code_verifier does not match the code_challenge"
        );
        assert_eq!(
            refused(check_code(&bound, &redeem(None), NOW)),
            "code_verifier is required: the code was requested with PKCE"
        );
        assert_eq!(
            refused(check_code(&code(None), &redeem(Some(VERIFIER)), NOW)),
            "code_verifier given, but the code was requested without PKCE"
        );
    }

    fn token() -> StoredRefresh<'static> {
        StoredRefresh {
            client_id: "web",
            expires_at: NOW + 3600,
            rotated: false,
            family_live: true,
        }
    }

    fn refusal(result: Result<(), RefreshRefusal>) -> (String, bool) {
        let refusal = result.unwrap_err();
        assert_eq!(refusal.error.code.as_str(), "invalid_grant");
        (refusal.error.description, refusal.revoke_family)
    }

    #[test]
    fn a_refresh_token_serves_its_client_while_unexpired_live_and_unused() {
        assert_eq!(check_refresh(&token(), "web", NOW), Ok(()));
        assert_eq!(check_refresh(&token(), "web", NOW + 3599), Ok(()));
        assert_eq!(
            refusal(check_refresh(&token(), "web", NOW + 3600)),
            ("the refresh token has expired".into(), false)
        );
        assert_eq!(
            refusal(check_refresh(&token(), "native", NOW)),
            ("the refresh token is not valid".into(), false)
        );
        let revoked = StoredRefresh {
            family_live: false,
            ..token()
        };
        assert_eq!(
            refusal(check_refresh(&revoked, "web", NOW)),
            ("the refresh token has been revoked".into(), false)
        );
    }

    #[test]
    fn a_rotated_refresh_token_used_again_revokes_its_family() {
        let rotated = StoredRefresh {
            rotated: true,
            ..token()
        };
        assert_eq!(
            refusal(check_refresh(&rotated, "web", NOW)),
            (
                "the refresh token was already used; its tokens are revoked".into(),
                true
            )
        );
        // Once the family is revoked, further uses are told so and revoke nothing more.
        let after = StoredRefresh {
            family_live: false,
            ..rotated
        };
        assert_eq!(
            refusal(check_refresh(&after, "web", NOW)),
            ("the refresh token has been revoked".into(), false)
        );
        // Nor does another client's use of it, or a use after it expired.
        assert!(
            !check_refresh(&rotated, "native", NOW)
                .unwrap_err()
                .revoke_family
        );
        assert!(
            !check_refresh(&rotated, "web", NOW + 3600)
                .unwrap_err()
                .revoke_family
        );
    }

    #[test]
    fn a_rotation_that_matched_nothing_says_why() {
        assert_eq!(
            refused_rotation(None, "web", NOW),
            RefreshRefusal::unknown()
        );
        let expired = refused_rotation(Some(&token()), "web", NOW + 3600);
        assert_eq!(expired.error.description, "the refresh token has expired");
        // Usable as read now: a concurrent use rotated it first.
        assert_eq!(
            refused_rotation(Some(&token()), "web", NOW),
            RefreshRefusal::reused()
        );
    }
}
