//! `prompt` and `max_age` (OpenID Connect Core 1.0 §3.1.2.1, §3.1.2.6): whether an authorization
//! request is answered from the browser's session, sends the user to the sign-in page, or fails
//! with `login_required`.

use super::error::{ErrorCode, OAuthError};

/// The `prompt` values that change what happens (`consent` and `select_account` do not here).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// `prompt=none`: never show a page.
    pub none: bool,
    /// `prompt=login`: authenticate again even with a session.
    pub login: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// Single sign-on: answer with the session's user, authenticated at this `auth_time`.
    Reuse { auth_time: i64 },
    /// Show the sign-in page.
    Show,
    /// `prompt=none` and no session that may answer: this error goes back to the client.
    Refuse(OAuthError),
}

/// Decides from the request's `prompt` and `max_age`, and the `auth_time` of the browser's
/// signed-in session if it has one, at `now`.
pub fn decide(prompt: Prompt, max_age: Option<i64>, session: Option<i64>, now: i64) -> SignIn {
    // A session authenticated `max_age` seconds ago or more is too old; max_age=0 always asks.
    let fresh = |auth_time: i64| max_age.is_none_or(|age| now.saturating_sub(auth_time) < age);
    match session {
        Some(auth_time) if !prompt.login && fresh(auth_time) => SignIn::Reuse { auth_time },
        _ if prompt.none => SignIn::Refuse(OAuthError::new(
            ErrorCode::LoginRequired,
            "the user is not signed in",
        )),
        _ => SignIn::Show,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;
    const NONE: Prompt = Prompt {
        none: true,
        login: false,
    };
    const LOGIN: Prompt = Prompt {
        none: false,
        login: true,
    };
    const DEFAULT: Prompt = Prompt {
        none: false,
        login: false,
    };

    fn login_required(decision: SignIn) -> bool {
        matches!(decision, SignIn::Refuse(error)
            if error.code == ErrorCode::LoginRequired
                && error.description == "the user is not signed in")
    }

    #[test]
    fn a_session_answers_unless_prompt_login() {
        let reuse = SignIn::Reuse {
            auth_time: NOW - 3600,
        };
        assert_eq!(decide(DEFAULT, None, Some(NOW - 3600), NOW), reuse);
        assert_eq!(decide(NONE, None, Some(NOW - 3600), NOW), reuse);
        assert_eq!(decide(LOGIN, None, Some(NOW - 3600), NOW), SignIn::Show);
        assert_eq!(decide(LOGIN, None, Some(NOW), NOW), SignIn::Show);
    }

    #[test]
    fn without_a_session_prompt_none_is_login_required() {
        assert_eq!(decide(DEFAULT, None, None, NOW), SignIn::Show);
        assert_eq!(decide(LOGIN, None, None, NOW), SignIn::Show);
        assert!(login_required(decide(NONE, None, None, NOW)));
        assert!(login_required(decide(NONE, Some(600), None, NOW)));
    }

    #[test]
    fn max_age_bounds_the_age_of_the_authentication() {
        let at = NOW - 600;
        // Authenticated 599 seconds ago is within 600; 600 seconds ago is not.
        assert_eq!(
            decide(DEFAULT, Some(600), Some(at + 1), NOW),
            SignIn::Reuse { auth_time: at + 1 }
        );
        assert_eq!(decide(DEFAULT, Some(600), Some(at), NOW), SignIn::Show);
        assert_eq!(
            decide(NONE, Some(600), Some(at + 1), NOW),
            SignIn::Reuse { auth_time: at + 1 }
        );
        assert!(login_required(decide(NONE, Some(600), Some(at), NOW)));
    }

    #[test]
    fn max_age_zero_always_authenticates_again() {
        assert_eq!(decide(DEFAULT, Some(0), Some(NOW), NOW), SignIn::Show);
        assert!(login_required(decide(NONE, Some(0), Some(NOW), NOW)));
    }

    #[test]
    fn an_extreme_auth_time_does_not_overflow() {
        assert_eq!(
            decide(DEFAULT, Some(i64::MAX), Some(i64::MIN), i64::MAX),
            SignIn::Show
        );
    }
}
