//! Checks of the hosted forms that report every problem at once, each tied to its input, so a
//! person fixes them in one go (docs/hosted-ui.md, "Mistakes on a form"; WCAG 2.2 success
//! criterion 3.3.1, <https://www.w3.org/WAI/WCAG22/Understanding/error-identification.html>).

use super::signup::{looks_like_phone, policy_text, set_attribute, username_error};
use crate::model::attributes::Attributes;
use crate::model::pool::PoolSettings;
use crate::ui::i18n::Text;
use crate::ui::view::{Field, FieldError};

/// A sign-up form that passed every check.
#[derive(Debug)]
pub struct SignUpForm {
    /// The typed username; empty in pools where an email or phone number is the sign-in name.
    pub username: String,
    pub attributes: Attributes,
}

/// Every problem of a sign-up form, in the form's order: missing or invalid attributes, the
/// username, then the password.
pub fn sign_up(
    settings: &PoolSettings,
    providers: &[String],
    fields: &[Field],
    password: &str,
) -> Result<SignUpForm, Vec<FieldError>> {
    let mut problems = Vec::new();
    let mut attributes = Attributes::new();
    let mut username = String::new();
    for field in fields {
        if field.name == "username" {
            username = field.value.clone();
            if let Some(text) = username_error(settings, providers, &username) {
                problems.push(FieldError::new("username", text));
            }
            continue;
        }
        if let Err(text) = set_attribute(&mut attributes, field) {
            problems.push(FieldError::new(field.name.clone(), text));
            continue;
        }
        // Email or phone *is* the sign-in name there; the real username is the sub.
        let sign_in_phone = !settings.username_attributes.is_empty();
        if field.name == "phone_number" && sign_in_phone && !looks_like_phone(&field.value) {
            let text = Text::new("error.attribute_invalid").with("attribute", "phone_number");
            problems.push(FieldError::new("phone_number", text));
        }
    }
    problems.extend(new_password(settings, "password", password, None));
    if problems.is_empty() {
        Ok(SignUpForm {
            username,
            attributes,
        })
    } else {
        Err(problems)
    }
}

/// The problems of a new password typed in `field` (and again in `confirm_password`, when the
/// form has that field): missing, against the pool's policy, not the same twice.
pub fn new_password(
    settings: &PoolSettings,
    field: &str,
    password: &str,
    confirm: Option<&str>,
) -> Vec<FieldError> {
    let mut problems = Vec::new();
    if password.is_empty() {
        problems.push(FieldError::new(
            field,
            Text::new("error.new_password_missing"),
        ));
    } else if let Some(text) = policy_text(&settings.password_policy, password) {
        problems.push(FieldError::new(field, text));
    }
    if let Some(confirm) = confirm
        && confirm != password
        && !password.is_empty()
    {
        problems.push(FieldError::new(
            "confirm_password",
            Text::new("error.passwords_differ"),
        ));
    }
    problems
}

/// Whether the pool's schema has attribute `name`: every standard attribute, and the
/// `custom:` ones the pool declares, as Cognito's schema rule has it. `None` when it does;
/// else the reason.
pub fn schema_problem(settings: &PoolSettings, name: &str) -> Option<&'static str> {
    let custom = name.strip_prefix(crate::model::attributes::CUSTOM_PREFIX)?;
    (!settings.custom_attributes.iter().any(|a| a.name == custom))
        .then_some("not in the pool's schema")
}

/// Whether attribute `name` may be changed once set (`sub` and immutable custom attributes may
/// not).
pub fn is_mutable(settings: &PoolSettings, name: &str) -> bool {
    if name == "sub" {
        return false;
    }
    match name.strip_prefix(crate::model::attributes::CUSTOM_PREFIX) {
        Some(custom) => settings
            .custom_attributes
            .iter()
            .find(|a| a.name == custom)
            .is_none_or(|a| a.mutable),
        None => true,
    }
}

/// A one-time code field left empty: said without spending an attempt.
pub fn code_entered(code: &str) -> Option<FieldError> {
    code.trim()
        .is_empty()
        .then(|| FieldError::new("code", Text::new("error.code_missing")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, value: &str) -> Field {
        Field {
            name: name.into(),
            input_type: "text",
            autocomplete: "on",
            value: value.into(),
        }
    }

    fn settings() -> PoolSettings {
        PoolSettings {
            alias_attributes: vec!["email".into()],
            required_attributes: vec!["given_name".into()],
            ..PoolSettings::default()
        }
    }

    fn problems(result: Result<SignUpForm, Vec<FieldError>>) -> Vec<(String, &'static str)> {
        result
            .unwrap_err()
            .into_iter()
            .map(|p| (p.field, p.text.key))
            .collect()
    }

    #[test]
    fn a_sign_up_form_reports_every_problem_with_its_field() {
        let fields = [
            field("username", "a@b.example"),
            field("email", "not-an-email"),
            field("given_name", ""),
        ];
        let found = problems(sign_up(&settings(), &[], &fields, "short"));
        assert_eq!(
            found,
            [
                ("username".to_owned(), "error.username_like_alias"),
                ("email".to_owned(), "error.attribute_invalid"),
                ("given_name".to_owned(), "error.attribute_required"),
                ("password".to_owned(), "error.password_policy"),
            ]
        );
    }

    #[test]
    fn an_empty_sign_up_form_names_each_missing_input() {
        let fields = [field("username", ""), field("given_name", "")];
        let found = problems(sign_up(&settings(), &[], &fields, ""));
        assert_eq!(
            found,
            [
                ("username".to_owned(), "error.attribute_required"),
                ("given_name".to_owned(), "error.attribute_required"),
                ("password".to_owned(), "error.new_password_missing"),
            ]
        );
    }

    #[test]
    fn a_valid_sign_up_form_yields_its_username_and_attributes() {
        let fields = [
            field("username", "nina"),
            field("email", "nina@example.com"),
            field("given_name", "Nina"),
        ];
        let form = sign_up(&settings(), &[], &fields, "Nina-Passw0rd!").unwrap();
        assert_eq!(form.username, "nina");
        assert_eq!(form.attributes.get("given_name"), Some("Nina"));
        assert_eq!(form.attributes.get("email"), Some("nina@example.com"));
    }

    #[test]
    fn a_phone_sign_in_name_must_look_like_one() {
        let settings = PoolSettings {
            username_attributes: vec!["phone_number".into()],
            ..PoolSettings::default()
        };
        let fields = [field("phone_number", "0100")];
        let found = problems(sign_up(&settings, &["Corp".into()], &fields, "x"));
        assert_eq!(
            found[0],
            ("phone_number".to_owned(), "error.attribute_invalid")
        );
        assert_eq!(found[1], ("password".to_owned(), "error.password_policy"));
    }

    #[test]
    fn a_new_password_reports_policy_and_mismatch_together() {
        let s = settings();
        let found: Vec<_> = new_password(&s, "new_password", "weak", Some("weak2"))
            .into_iter()
            .map(|p| (p.field, p.text.key))
            .collect();
        assert_eq!(
            found,
            [
                ("new_password".to_owned(), "error.password_policy"),
                ("confirm_password".to_owned(), "error.passwords_differ"),
            ]
        );
        let missing = new_password(&s, "password", "", Some(""));
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].text.key, "error.new_password_missing");
        assert!(new_password(&s, "password", "Good-Passw0rd", Some("Good-Passw0rd")).is_empty());
    }

    #[test]
    fn an_empty_code_is_named() {
        assert_eq!(code_entered(" ").unwrap().field, "code");
        assert!(code_entered("123456").is_none());
    }
}
