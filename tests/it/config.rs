//! The declarative file: the example is valid, every invalid case reports its key path and
//! problem, and `env:` secrets resolve.

use crate::support::{EXAMPLE_CONFIG, example_declaration, example_env};
use gatehouse::config::{self, ConfigError};
use std::path::{Path, PathBuf};

fn parse(text: &str) -> Result<config::Declaration, ConfigError> {
    config::parse(
        text,
        Path::new("gatehouse.toml"),
        Path::new("."),
        &example_env,
    )
}

/// The example with `from` replaced by `to` (which must occur in it).
fn example_with(from: &str, to: &str) -> String {
    assert!(EXAMPLE_CONFIG.contains(from), "example contains {from}");
    EXAMPLE_CONFIG.replacen(from, to, 1)
}

/// Parses `text`, expecting failure, and checks that the message names the file, the path
/// and the problem.
fn expect_error(text: &str, path: &str, problem: &str) {
    let error = parse(text).expect_err("the file is invalid");
    let message = error.to_string();
    let wanted = format!("gatehouse.toml: {path}: ");
    assert!(
        message
            .lines()
            .any(|line| line.starts_with(&wanted) && line.contains(problem)),
        "expected `{wanted}…{problem}…` in:\n{message}"
    );
}

#[test]
fn the_example_file_is_valid_and_resolves_env_secrets() {
    let declaration = example_declaration();
    assert_eq!(declaration.pools.len(), 1);
    let pool = &declaration.pools[0];
    assert_eq!(pool.pool.id.as_str(), "local_Example01");
    assert_eq!(pool.clients.len(), 2);
    let web = &pool.clients[0];
    assert!(
        web.secret
            .as_ref()
            .unwrap()
            .matches("example-client-secret-0123456789abcdefghijklmnop")
    );
    assert_eq!(pool.users[0].password.as_deref(), Some("Alice-Passw0rd"));
    assert!(pool.clients[1].secret.is_none());
    assert_eq!(pool.resource_servers[0].scopes.len(), 2);
    assert_eq!(pool.groups[0].precedence, Some(0));
}

#[test]
fn a_missing_env_secret_is_reported() {
    let error = config::parse(
        EXAMPLE_CONFIG,
        Path::new("gatehouse.toml"),
        Path::new("."),
        &|_| None,
    )
    .expect_err("secrets are missing");
    let message = error.to_string();
    assert!(
        message.contains(
            "pool[0].client[0].secret: environment variable `EXAMPLE_CLIENT_SECRET` is not set"
        ),
        "{message}"
    );
    assert!(
        message
            .contains("pool[0].user[0].password: environment variable `ALICE_PASSWORD` is not set"),
        "{message}"
    );
}

#[test]
fn an_insecure_callback_url_is_rejected() {
    expect_error(
        &example_with(
            r#"callback_urls = ["myapp://callback"]"#,
            r#"callback_urls = ["http://example.com/cb"]"#,
        ),
        "pool[0].client[1].callback_urls[0]",
        "is not https, not http://localhost and not a custom scheme",
    );
    expect_error(
        &example_with(
            r#"logout_urls = ["http://localhost:3000/"]"#,
            r#"logout_urls = ["https://x.example/#frag"]"#,
        ),
        "pool[0].client[0].logout_urls[0]",
        "fragment",
    );
}

#[test]
fn an_unknown_flow_is_rejected() {
    expect_error(
        &example_with(
            r#"allowed_oauth_flows = ["code"]"#,
            r#"allowed_oauth_flows = ["code", "password"]"#,
        ),
        "pool[0].client[1].allowed_oauth_flows[1]",
        "unknown flow `password`",
    );
}

#[test]
fn client_credentials_needs_a_secret() {
    expect_error(
        &example_with(
            r#"allowed_oauth_flows = ["code"]"#,
            r#"allowed_oauth_flows = ["code", "client_credentials"]"#,
        ),
        "pool[0].client[1].allowed_oauth_flows",
        "client_credentials needs a client secret",
    );
}

#[test]
fn a_scope_no_resource_server_defines_is_rejected() {
    expect_error(
        &example_with(
            r#""https://api.example.com/read"]"#,
            r#""https://api.example.com/delete"]"#,
        ),
        "pool[0].client[0].allowed_oauth_scopes[5]",
        "`https://api.example.com/delete` is neither a reserved scope",
    );
}

#[test]
fn an_id_token_scope_without_openid_is_rejected() {
    expect_error(
        &example_with(
            r#"allowed_oauth_scopes = ["openid", "email", "profile"]"#,
            r#"allowed_oauth_scopes = ["email", "profile"]"#,
        ),
        "pool[0].client[1].allowed_oauth_scopes[0]",
        "`email` needs `openid`",
    );
}

#[test]
fn duplicate_ids_are_rejected() {
    expect_error(
        &example_with(
            r#"id = "examplepublicclient0000000""#,
            r#"id = "exampleclientid0000000000a""#,
        ),
        "pool[0].client[1].id",
        "duplicate client id `exampleclientid0000000000a`",
    );
    let two_pools =
        format!("{EXAMPLE_CONFIG}\n[[pool]]\nid = \"local_Example01\"\nname = \"again\"\n");
    expect_error(
        &two_pools,
        "pool[1].id",
        "duplicate pool id `local_Example01`",
    );
    expect_error(
        &example_with(
            "[[pool.group]]\nname = \"admins\"",
            "[[pool.group]]\nname = \"x\"\n[[pool.group]]\nname = \"x\"",
        ),
        "pool[0].group[1].name",
        "duplicate group `x`",
    );
}

#[test]
fn malformed_ids_are_rejected() {
    expect_error(
        &example_with(r#"id = "local_Example01""#, r#"id = "Example01""#),
        "pool[0].id",
        "<region>_<9 letters or digits>",
    );
    expect_error(
        &example_with(r#"id = "exampleclientid0000000000a""#, r#"id = "short""#),
        "pool[0].client[0].id",
        "26 lowercase letters or digits",
    );
}

#[test]
fn unknown_keys_and_wrong_types_name_their_path() {
    expect_error(
        &example_with(
            "refresh_token_validity_days = 30",
            "refresh_token_validity_day = 30",
        ),
        "pool[0].client[0].refresh_token_validity_day",
        "unknown field `refresh_token_validity_day`",
    );
    expect_error(
        &example_with("minimum_length = 8", "minimum_length = \"eight\""),
        "pool[0].password_policy.minimum_length",
        "invalid type",
    );
    let error = parse("[[pool]\nname=").expect_err("not TOML");
    assert!(error.to_string().starts_with("gatehouse.toml: "), "{error}");
    assert!(error.to_string().contains("line 1"), "{error}");
}

#[test]
fn values_out_of_range_are_rejected() {
    expect_error(
        &example_with(
            "refresh_token_validity_days = 30",
            "refresh_token_validity_days = 4000",
        ),
        "pool[0].client[0].refresh_token_validity_days",
        "between 1 and 3650",
    );
    expect_error(
        &example_with("minimum_length = 8", "minimum_length = 4"),
        "pool[0].password_policy.minimum_length",
        "between 6 and 99",
    );
    expect_error(
        &example_with(
            r#"alias_attributes = ["email"]"#,
            r#"alias_attributes = ["address"]"#,
        ),
        "pool[0].alias_attributes[0]",
        "`address` is not one of",
    );
}

#[test]
fn refresh_tokens_may_live_from_an_hour() {
    let minutes = example_with(
        "refresh_token_validity_days = 30",
        "refresh_token_validity_minutes = 90",
    );
    let declaration = parse(&minutes).unwrap();
    assert_eq!(
        declaration.pools[0].clients[0]
            .settings
            .refresh_token_seconds(),
        90 * 60
    );
    assert_eq!(
        declaration.pools[0].clients[1]
            .settings
            .refresh_token_seconds(),
        30 * 86_400
    );
    expect_error(
        &example_with(
            "refresh_token_validity_days = 30",
            "refresh_token_validity_minutes = 59",
        ),
        "pool[0].client[0].refresh_token_validity_minutes",
        "between 60 and 5256000",
    );
    expect_error(
        &example_with(
            "refresh_token_validity_days = 30",
            "refresh_token_validity_days = 30\nrefresh_token_validity_minutes = 120",
        ),
        "pool[0].client[0].refresh_token_validity_minutes",
        "not both",
    );
}

#[test]
fn users_are_checked_against_the_pool() {
    let weak = |name: &str| {
        (name == "ALICE_PASSWORD")
            .then(|| "password".to_owned())
            .or_else(|| example_env(name))
    };
    let error = config::parse(
        EXAMPLE_CONFIG,
        Path::new("gatehouse.toml"),
        Path::new("."),
        &weak,
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("pool[0].user[0].password: does not meet the pool's password policy: needs an uppercase letter, a number"),
        "{error}"
    );
    expect_error(
        &example_with(r#"groups = ["admins"]"#, r#"groups = ["owners"]"#),
        "pool[0].user[0].groups[0]",
        "`owners` is not a group",
    );
    expect_error(
        &example_with(r#""custom:tier" = "gold""#, r#"tier = "gold""#),
        "pool[0].user[0].attributes.tier",
        "not a standard attribute",
    );
    expect_error(
        &example_with(r#"email_verified = "true""#, r#"email_verified = "yes""#),
        "pool[0].user[0].attributes.email_verified",
        "\"true\" or \"false\"",
    );
}

#[test]
fn identity_providers_from_the_federation_example_are_accepted_and_checked() {
    // The example file carries the federation issue's block exactly as written.
    assert!(EXAMPLE_CONFIG.contains(
        r#"attribute_mapping = { email = "email", email_verified = "email_verified", given_name = "given_name", family_name = "family_name", username = "sub" }"#
    ));
    assert!(EXAMPLE_CONFIG.contains(r#"supported_identity_providers = ["COGNITO", "Upstream"]"#));
    let text = EXAMPLE_CONFIG.to_owned();
    let declaration = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let upstream = &declaration.pools[0].identity_providers[0];
    assert_eq!(upstream.details["client_secret"], "upstream-secret");
    assert_eq!(upstream.attribute_mapping["username"], "sub");

    let insecure = text.replace("http://localhost:8081", "http://idp.example.com");
    expect_error(
        &insecure,
        "pool[0].identity_provider[0].details.oidc_issuer",
        "must be an https URL",
    );
    let no_openid = text.replace(
        r#"authorize_scopes = "openid email profile""#,
        r#"authorize_scopes = "email""#,
    );
    expect_error(
        &no_openid,
        "pool[0].identity_provider[0].details.authorize_scopes",
        "must include openid",
    );
    let unknown = example_with(
        r#"supported_identity_providers = ["COGNITO"]"#,
        r#"supported_identity_providers = ["Google"]"#,
    );
    expect_error(
        &unknown,
        "pool[0].client[0].supported_identity_providers[0]",
        "neither COGNITO nor an identity provider",
    );
}

#[test]
fn customizations_are_read_from_files_and_limited() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("style.css"),
        ".banner-customizable { background-color: #000; }",
    )
    .unwrap();
    std::fs::write(dir.path().join("big.css"), "a".repeat(4000)).unwrap();
    let with = |extra: &str| {
        config::parse(
            &format!("{EXAMPLE_CONFIG}{extra}"),
            &PathBuf::from("gatehouse.toml"),
            dir.path(),
            &example_env,
        )
    };
    let ok = with("\n[[pool.ui_customization]]\nclient_id = \"ALL\"\ncss_file = \"style.css\"\n")
        .unwrap();
    assert!(
        ok.pools[0].ui_customizations[0]
            .css
            .as_deref()
            .unwrap()
            .contains("banner-customizable")
    );
    let big = with("\n[[pool.ui_customization]]\ncss_file = \"big.css\"\n").unwrap_err();
    assert!(
        big.to_string()
            .contains("pool[0].ui_customization[0].css_file: line 1")
            && big.to_string().contains("3072 bytes"),
        "{big}"
    );
    let unknown = with("\n[[pool.ui_customization]]\nclient_id = \"nosuchclient00000000000000\"\n")
        .unwrap_err();
    assert!(
        unknown
            .to_string()
            .contains("pool[0].ui_customization[0].client_id"),
        "{unknown}"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = example_with(
        r#"allowed_oauth_flows = ["code"]"#,
        r#"allowed_oauth_flows = ["nope"]"#,
    )
    .replacen("minimum_length = 8", "minimum_length = 1", 1);
    let error = parse(&text).unwrap_err();
    assert_eq!(error.issues.len(), 2, "{error}");
}

#[test]
fn ids_left_out_are_derived_from_names_and_stable() {
    let text = "[[pool]]\nname = \"shop\"\n[[pool.client]]\nname = \"spa\"\ncallback_urls = [\"https://shop.example/cb\"]\nallowed_oauth_flows = [\"code\"]\n";
    let first = parse(text).unwrap();
    let second = parse(text).unwrap();
    assert_eq!(first.pools[0].pool.id, second.pools[0].pool.id);
    assert!(first.pools[0].pool.id.as_str().starts_with("local_"));
    assert_eq!(first.pools[0].clients[0].id, second.pools[0].clients[0].id);
}

#[test]
fn stylesheets_logos_messages_and_mail_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("logo.png"), b"\x89PNG\r\n\x1a\nrest").unwrap();
    std::fs::write(
        dir.path().join("logo.svg"),
        "<svg xmlns='http://www.w3.org/2000/svg'/>",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.css"),
        ".label-customizable { font-weight: 700; }\n\n.label-customizable { color: red; }\n@import \"x.css\";\n.nope { color: red; }\n",
    )
    .unwrap();
    let with = |extra: &str| {
        config::parse(
            &format!("{EXAMPLE_CONFIG}{extra}"),
            &PathBuf::from("gatehouse.toml"),
            dir.path(),
            &example_env,
        )
    };
    let ok = with("\n[pool.ui]\nlogo_file = \"logo.png\"\ncss = \".banner-customizable { background-color: #000 }\"\n").unwrap();
    let all = &ok.pools[0].ui_customizations[0];
    assert_eq!(all.client_id, "ALL");
    assert!(all.logo.is_some() && all.css.as_deref().unwrap().contains("banner-customizable"));
    let svg = with("\n[pool.ui]\nlogo_file = \"logo.svg\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        svg.contains("pool[0].ui.logo_file") && svg.contains("SVG"),
        "{svg}"
    );
    let css = with("\n[pool.ui]\ncss_file = \"bad.css\"\n").unwrap_err();
    let text = css.to_string();
    assert_eq!(css.issues.len(), 3, "{text}");
    assert!(
        text.contains("line 3") && text.contains("`color` is not allowed on `.label-customizable`"),
        "{text}"
    );
    assert!(
        text.contains("line 4") && text.contains("@import"),
        "{text}"
    );
    assert!(text.contains("line 5") && text.contains(".nope"), "{text}");
    let messages = with(
        "\n[pool.messages]\nverification_message = \"no code here\"\nemail_from = \"not an address\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        messages.contains(
            "pool[0].messages.verification_message: must contain the code placeholder {####}"
        ),
        "{messages}"
    );
    assert!(
        messages.contains("pool[0].messages.email_from"),
        "{messages}"
    );
    let mail = config::parse(
        &format!("[mail.smtp]\nhost = \"smtp.example.com\"\nsecurity = \"ssl\"\nusername = \"u\"\n{EXAMPLE_CONFIG}"),
        &PathBuf::from("gatehouse.toml"),
        dir.path(),
        &example_env,
    )
    .unwrap_err()
    .to_string();
    assert!(
        mail.contains("mail.smtp.security") && mail.contains("username and password"),
        "{mail}"
    );
    let smtp = config::parse(
        &format!("[mail.smtp]\nhost = \"smtp.example.com\"\nusername = \"u\"\npassword = \"env:EXAMPLE_CLIENT_SECRET\"\n{EXAMPLE_CONFIG}"),
        &PathBuf::from("gatehouse.toml"),
        dir.path(),
        &example_env,
    )
    .unwrap();
    match smtp.mail {
        Some(gatehouse::mail::MailSettings::Smtp(s)) => {
            assert_eq!((s.port, s.timeout_seconds), (587, 10));
            assert_eq!(s.password, example_env("EXAMPLE_CLIENT_SECRET"));
        }
        other => panic!("{other:?}"),
    }
}

/// The example stylesheet in docs/customization.md passes the validator it documents.
#[test]
fn the_documented_example_stylesheet_is_valid() {
    let guide = include_str!("../../docs/customization.md");
    let section = guide
        .split("## A complete example stylesheet")
        .nth(1)
        .expect("the guide has the example section");
    let css = section
        .split("```css\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a css block in the section");
    let served = gatehouse::ui::css::validate(css).unwrap_or_else(|errors| {
        panic!(
            "{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    for (selector, _) in gatehouse::ui::css::allowed() {
        assert!(
            served.contains(&format!(".{selector} ")),
            "{selector} is in the example"
        );
    }
}
