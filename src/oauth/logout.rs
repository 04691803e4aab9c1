//! Where a sign-out sends the browser: Cognito's /logout in its two forms
//! (https://docs.aws.amazon.com/cognito/latest/developerguide/logout-endpoint.html) and OpenID
//! Connect RP-Initiated Logout 1.0 §2–§3 (`id_token_hint`, `post_logout_redirect_uri`, `state`).
//! The browser is only ever sent to a sign-out URL registered on the client.

use super::authorize::AuthorizeError;
use super::params::{Params, redirect_with};
use crate::model::AppClient;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logout {
    /// Sign out, then go to this URL.
    Redirect(String),
    /// Sign out, then show the sign-in page with the request's authorization parameters.
    SignIn,
    /// Sign out and show the signed-out page.
    SignedOut,
    /// Do nothing but show this error.
    Page(String),
}

impl Logout {
    /// Whether the browser's session ends.
    pub fn signs_out(&self) -> bool {
        !matches!(self, Self::Page(_))
    }
}

/// What the `id_token_hint` parameter said, once its signature was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint<'a> {
    Absent,
    /// Not a token this pool signed.
    Foreign,
    /// Issued to this client (its `aud`).
    IssuedTo(&'a str),
}

/// Cognito's second form: sign out, then sign in again with authorization parameters.
pub fn signs_in_again(params: &Params) -> bool {
    params.get("redirect_uri").is_some() || params.get("response_type").is_some()
}

/// The second form, given the request's validation as an authorization request.
pub fn sign_in_again(validated: Result<(), AuthorizeError>) -> Logout {
    match validated {
        Ok(()) => Logout::SignIn,
        Err(AuthorizeError::Page(message)) => Logout::Page(message),
        // The request is the client's (its redirect URI is registered): sign out as asked,
        // then report the error there.
        Err(AuthorizeError::Redirect(redirect)) => Logout::Redirect(redirect.location()),
    }
}

/// The first form (`client_id` and `logout_uri`) and RP-initiated logout. `find_client` looks
/// up the client the request names, once it is known which.
pub fn decide<E>(
    params: &Params,
    hint: Hint,
    find_client: impl FnOnce(&str) -> Result<Option<AppClient>, E>,
) -> Result<Logout, E> {
    let page = |message: &str| Ok(Logout::Page(message.to_owned()));
    let hinted = match hint {
        Hint::Absent => None,
        Hint::Foreign => return page("The id_token_hint was not issued by this user pool."),
        Hint::IssuedTo(aud) => Some(aud),
    };
    let client_id = match (params.get("client_id"), hinted) {
        (Some(given), Some(hinted)) if given != hinted => {
            return page("The client_id does not match the id_token_hint.");
        }
        (given, hinted) => given.or(hinted),
    };
    let Some(target) = params
        .get("logout_uri")
        .or(params.get("post_logout_redirect_uri"))
    else {
        return Ok(Logout::SignedOut);
    };
    let Some(client_id) = client_id else {
        return page("A sign-out redirect needs the client_id.");
    };
    let Some(client) = find_client(client_id)? else {
        return page("The client_id is not a client of this user pool.");
    };
    if !client.settings.logout_urls.iter().any(|u| u == target) {
        return page("The sign-out URL is not registered for this client.");
    }
    // `state` goes back only to an RP-initiated logout; Cognito's logout_uri gets none.
    Ok(Logout::Redirect(
        match (params.get("post_logout_redirect_uri"), params.get("state")) {
            (Some(_), Some(state)) => redirect_with(target, &[("state", state)], false),
            _ => target.to_owned(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientId, ClientSettings, PoolId};
    use crate::oauth::authorize::ErrorRedirect;
    use crate::oauth::{ErrorCode, OAuthError};
    use std::convert::Infallible;

    const CLIENT: &str = "exampleclientid0000000000a";
    const OTHER: &str = "exampleclientid0000000000b";

    fn client() -> AppClient {
        AppClient {
            id: ClientId::parse(CLIENT).unwrap(),
            pool_id: PoolId::parse("local_Example01").unwrap(),
            name: "web".into(),
            secret: None,
            sealed_secret: None,
            settings: ClientSettings {
                logout_urls: vec!["https://app.example/bye".into()],
                ..ClientSettings::default()
            },
        }
    }

    /// Decides `query` in a pool whose only client is `CLIENT`.
    fn run(query: &str, hint: Hint) -> Logout {
        let params = Params::parse(query).unwrap();
        decide(&params, hint, |id| {
            Ok::<_, Infallible>((id == CLIENT).then(client))
        })
        .unwrap_or_else(|never| match never {})
    }

    fn page(message: &str) -> Logout {
        Logout::Page(message.into())
    }

    #[test]
    fn cognitos_first_form_goes_to_a_registered_logout_uri_only() {
        let bye = "logout_uri=https%3A%2F%2Fapp.example%2Fbye";
        assert_eq!(
            run(&format!("client_id={CLIENT}&{bye}"), Hint::Absent),
            Logout::Redirect("https://app.example/bye".into())
        );
        // Cognito's logout_uri carries no state back.
        assert_eq!(
            run(&format!("client_id={CLIENT}&{bye}&state=s1"), Hint::Absent),
            Logout::Redirect("https://app.example/bye".into())
        );
        assert_eq!(
            run(
                &format!("client_id={CLIENT}&logout_uri=https%3A%2F%2Fevil.example%2F"),
                Hint::Absent
            ),
            page("The sign-out URL is not registered for this client.")
        );
        assert_eq!(
            run(&format!("client_id={OTHER}&{bye}"), Hint::Absent),
            page("The client_id is not a client of this user pool.")
        );
        assert_eq!(
            run(bye, Hint::Absent),
            page("A sign-out redirect needs the client_id.")
        );
    }

    #[test]
    fn without_a_target_the_browser_is_signed_out_here() {
        assert_eq!(run("", Hint::Absent), Logout::SignedOut);
        assert_eq!(
            run(&format!("client_id={OTHER}"), Hint::Absent),
            Logout::SignedOut
        );
        assert_eq!(run("", Hint::IssuedTo(CLIENT)), Logout::SignedOut);
        assert!(Logout::SignedOut.signs_out());
        assert!(!page("x").signs_out());
    }

    #[test]
    fn rp_initiated_logout_names_its_client_by_the_hint_and_gets_its_state_back() {
        let query = "post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye&state=a%20b";
        assert_eq!(
            run(query, Hint::IssuedTo(CLIENT)),
            Logout::Redirect("https://app.example/bye?state=a+b".into())
        );
        assert_eq!(
            run(
                &format!("{query}&client_id={CLIENT}"),
                Hint::IssuedTo(CLIENT)
            ),
            Logout::Redirect("https://app.example/bye?state=a+b".into())
        );
        assert_eq!(
            run(
                "post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye",
                Hint::IssuedTo(CLIENT)
            ),
            Logout::Redirect("https://app.example/bye".into())
        );
        assert_eq!(
            run(
                &format!("{query}&client_id={OTHER}"),
                Hint::IssuedTo(CLIENT)
            ),
            page("The client_id does not match the id_token_hint.")
        );
        // A hint this pool did not sign is refused whatever else is asked.
        assert_eq!(
            run(&format!("{query}&client_id={CLIENT}"), Hint::Foreign),
            page("The id_token_hint was not issued by this user pool.")
        );
        assert_eq!(
            run("", Hint::Foreign),
            page("The id_token_hint was not issued by this user pool.")
        );
    }

    #[test]
    fn the_client_is_looked_up_only_when_a_redirect_needs_it() {
        let params = Params::parse(&format!("client_id={CLIENT}")).unwrap();
        let decided = decide(&params, Hint::Absent, |_| Err("looked up"));
        assert_eq!(decided, Ok(Logout::SignedOut));
        let params = Params::parse(&format!(
            "client_id={CLIENT}&logout_uri=https%3A%2F%2Fapp.example%2Fbye"
        ))
        .unwrap();
        let decided = decide(&params, Hint::Absent, |_| Err("looked up"));
        assert_eq!(decided, Err("looked up"));
    }

    #[test]
    fn cognitos_second_form_signs_in_again() {
        let params = Params::parse("response_type=code&client_id=x").unwrap();
        assert!(signs_in_again(&params));
        let params = Params::parse("redirect_uri=https%3A%2F%2Fapp.example%2F").unwrap();
        assert!(signs_in_again(&params));
        let params = Params::parse("logout_uri=https%3A%2F%2Fapp.example%2F").unwrap();
        assert!(!signs_in_again(&params));
        assert_eq!(sign_in_again(Ok(())), Logout::SignIn);
        assert_eq!(
            sign_in_again(Err(AuthorizeError::Page("bad".into()))),
            page("bad")
        );
        let redirect = ErrorRedirect {
            redirect_uri: "https://app.example/cb".into(),
            fragment: false,
            error: OAuthError::new(ErrorCode::InvalidScope, "no"),
            state: Some("s".into()),
        };
        assert_eq!(
            sign_in_again(Err(AuthorizeError::Redirect(redirect))),
            Logout::Redirect(
                "https://app.example/cb?error=invalid_scope&error_description=no&state=s".into()
            )
        );
    }
}
