//! Costs of the hosted pages, in release: `cargo bench --bench pages`. Server-side rendering of
//! each page (template + translation + customization links), the stylesheet validator, a TOTP
//! check, and the whole sign-in page over HTTP (authorization request validated, client and
//! look from the cache, page rendered). Each figure is the median of 5 samples.

use gatehouse::app::{self, AppState};
use gatehouse::flows::hosted::{Field, Frame, Screen, View};
use gatehouse::http::pages::{self, PageSite};
use gatehouse::settings::Settings;
use gatehouse::store::Store;
use gatehouse::ui::i18n::{Catalogue, Text};
use gatehouse::{totp, ui};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn median_rate(mut run: impl FnMut() -> (usize, Duration)) -> f64 {
    let mut rates: Vec<f64> = (0..5)
        .map(|_| {
            let (n, elapsed) = run();
            n as f64 / elapsed.as_secs_f64()
        })
        .collect();
    rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rates[2]
}

fn timed(n: usize, mut op: impl FnMut()) -> (usize, Duration) {
    let start = Instant::now();
    for _ in 0..n {
        op();
    }
    (n, start.elapsed())
}

fn report(name: &str, rate: f64) {
    println!("{name:<52} {rate:>10.0} /s  {:>9.1} µs", 1_000_000.0 / rate);
}

fn field(name: &str, input_type: &'static str) -> Field {
    Field {
        name: name.into(),
        input_type,
        autocomplete: "on",
        value: String::new(),
    }
}

/// A valid value for each property the validator allows.
fn sample(property: &str) -> &'static str {
    match property {
        "font-weight" => "700",
        "width" | "max-width" | "max-height" => "90%",
        "height" => "40px",
        "border" => "1px solid #cbd2d9",
        "margin" | "padding" => "4px 8px 4px 8px",
        "display" => "block",
        "text-align" => "center",
        "box-sizing" => "border-box",
        "outline" => "2px solid #2f5fd0",
        "font-size" | "padding-top" | "padding-bottom" | "margin-bottom" => "14px",
        _ => "#123456",
    }
}

fn main() {
    gatehouse::tokens::signer::install_crypto_providers();
    let catalogue = Catalogue::built_in();
    let frame = Frame {
        client_id: "democlient0000000000000000".into(),
        client_name: "Demo".into(),
        lang: "en".into(),
        query: "response_type=code&client_id=democlient0000000000000000&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback&scope=openid+email&state=abc&code_challenge=E9Melhoa2OwvFrEMTJguCp7bhiNU1CYvAgBrEbeYT7U&code_challenge_method=S256".into(),
        signup_allowed: true,
        providers: vec!["Google".into(), "Upstream".into()],
        identifier_routing: false,
        cognito_allowed: true,
        password_rules: gatehouse::model::PasswordPolicy::default().violations(""),
        look: None,
        redirect_source: Some("http://localhost:3000".into()),
    };
    let secret = totp::new_secret();
    let setup = {
        let url = totp::otpauth_url(&secret, "demo", "demo@example.com").unwrap();
        Screen::MfaSetup {
            secret: secret.clone(),
            qr_svg: totp::qr_svg(&url).unwrap(),
            optional: false,
        }
    };
    let screens = [
        (
            "render sign-in page",
            Screen::SignIn {
                username: "demo".into(),
            },
            "en",
        ),
        (
            "render sign-in page (Korean)",
            Screen::SignIn {
                username: "demo".into(),
            },
            "ko",
        ),
        (
            "render sign-up page (4 fields, 5 rules)",
            Screen::SignUp {
                fields: vec![
                    field("username", "text"),
                    field("email", "email"),
                    field("given_name", "text"),
                    field("family_name", "text"),
                ],
            },
            "en",
        ),
        ("render TOTP set-up page (QR in SVG)", setup, "en"),
    ];
    let site = PageSite {
        catalogue: &catalogue,
        base: "/local_DemoPool1".into(),
        csrf: "c".repeat(43),
        templates: None,
    };
    for (name, screen, lang) in screens {
        let view = View {
            frame: Frame {
                lang: lang.into(),
                ..frame.clone()
            },
            screen,
            error: Some(Text::new("error.wrong_credentials")),
            field_errors: Vec::new(),
            notice: None,
        };
        report(
            name,
            median_rate(|| timed(5_000, || drop(black_box(pages::render_view(&site, &view))))),
        );
    }
    report(
        "QR code for the set-up page (SVG)",
        median_rate(|| {
            timed(500, || {
                drop(black_box(totp::qr_svg(
                    "otpauth://totp/demo:demo%40example.com?secret=ABCDEFGHIJKLMNOPQRSTUVWXYZ234567&issuer=demo",
                )))
            })
        }),
    );
    // Every allowed class with its first two properties: a realistic full sheet under 3 KB.
    let sheet = ui::css::allowed()
        .iter()
        .map(|(selector, properties)| {
            let declarations: String = properties
                .iter()
                .take(2)
                .map(|p| format!(" {p}: {};", sample(p)))
                .collect();
            format!(".{selector} {{{declarations} }}\n")
        })
        .collect::<String>();
    let valid = ui::css::validate(&sheet).is_ok();
    report(
        &format!("validate a {} B stylesheet (valid: {valid})", sheet.len()),
        median_rate(|| timed(5_000, || drop(black_box(ui::css::validate(&sheet))))),
    );
    let code = totp::code_at(&secret, 1_800_000_000).unwrap();
    report(
        "TOTP check (3 steps, HMAC-SHA1)",
        median_rate(|| {
            timed(50_000, || {
                black_box(totp::accepted_step(&secret, &code, 1_800_000_000, 0));
            })
        }),
    );

    // The whole page over HTTP: GET /login on the demo pool (SQLite), one keep-alive client.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Store::connect(&url).unwrap();
    store.migrate().unwrap();
    gatehouse::provision::ensure_demo(&mut store.conn().unwrap(), "http://localhost:7070").unwrap();
    let mut settings =
        Settings::new("127.0.0.1:0".into(), "http://localhost:7070", url, None).unwrap();
    settings.mail = gatehouse::mail::MailSettings::Outbox(dir.path().join("outbox.jsonl"));
    actix_web::rt::System::new().block_on(async move {
        let (server, addrs) = app::bind(AppState::new(store, settings).unwrap()).unwrap();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let client = reqwest::Client::new();
        let login = format!("http://{}/local_DemoPool1/login?{}", addrs[0], frame.query);
        let mut rates = Vec::new();
        for _ in 0..5 {
            let n = 1_000;
            let start = Instant::now();
            for _ in 0..n {
                let response = client.get(&login).send().await.unwrap();
                assert!(response.status().is_success());
                response.bytes().await.unwrap();
            }
            rates.push(n as f64 / start.elapsed().as_secs_f64());
        }
        rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
        report("GET /login (HTTP, keep-alive, 1 client)", rates[2]);
        handle.stop(true).await;
    });
}
