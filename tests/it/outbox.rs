//! The mail outbox against a real SMTP server (aiosmtpd): a stalled server slows no page, a
//! message committed before `kill -9` is delivered once after the restart, and two processes
//! on one PostgreSQL deliver every message once.

use crate::hosted::{CONFIG, HOSTED, PLAIN, Site, browser, location};
use crate::support::{SmtpSink, TestDb, free_port};
use gatehouse::store::mail_outbox;
use reqwest::StatusCode;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Every DATA command of the stalled server waits this long.
const STALL_SECONDS: f64 = 8.0;
/// What "at once" means beside that stall: far below it, far above any real page time.
const AT_ONCE: Duration = Duration::from_secs(4);

async fn stalled_mail_server_slows_no_page(db: TestDb) {
    let sink = SmtpSink::start(STALL_SECONDS);
    let dir = tempfile::tempdir().unwrap();
    let unused = dir.path().join("unused.jsonl");
    let site = Site::start_with_mail(db, sink.mail_settings(), dir, unused);
    let signup = site.page(HOSTED, "signup", PLAIN);
    let b = browser();
    let started = Instant::now();
    let signed_up = site
        .submit(
            &b,
            &signup,
            &[
                ("username", "slowmail"),
                ("email", "slow@example.com"),
                ("given_name", "Slow"),
                ("password", "Slowmail-Passw0rd"),
            ],
        )
        .await;
    let sign_up_took = started.elapsed();
    assert_eq!(signed_up.status(), StatusCode::FOUND);
    assert!(location(&signed_up).contains("/confirm?"));
    assert!(sign_up_took < AT_ONCE, "sign-up took {sign_up_took:?}");

    // While the sender waits on the stalled server, other people sign in as usual.
    let started = Instant::now();
    let other = site
        .sign_in(&browser(), HOSTED, PLAIN, "dora", "Dora-Passw0rd")
        .await;
    let sign_in_took = started.elapsed();
    assert_eq!(other.status(), StatusCode::OK);
    assert!(other.text().await.unwrap().contains("totpSecret"));
    assert!(sign_in_took < AT_ONCE, "sign-in took {sign_in_took:?}");

    // Forgot-password answers alike, and at once, for an account and for nobody.
    let forgot = site.page(HOSTED, "forgotPassword", PLAIN);
    let mut took = Vec::new();
    for name in ["dora", "nobody", "dora", "nobody"] {
        let b = browser();
        let (_, page) = site.get(&b, &forgot).await;
        let csrf = crate::hosted::input_value(&page, "_csrf");
        let started = Instant::now();
        let response = b
            .post(&forgot)
            .form(&[("_csrf", csrf.as_str()), ("username", name)])
            .send()
            .await
            .unwrap();
        took.push((name, started.elapsed()));
        assert_eq!(response.status(), StatusCode::FOUND);
    }
    eprintln!("forgot-password with the mail server stalled: {took:?}");
    for (name, elapsed) in &took {
        assert!(
            *elapsed < AT_ONCE,
            "forgot-password for {name} took {elapsed:?}"
        );
    }

    // The code still arrives, once the server answers.
    let deadline = Instant::now() + Duration::from_secs(60);
    while sink.messages_to("slow@example.com").is_empty() {
        assert!(Instant::now() < deadline, "the code never arrived");
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    let code = &sink.messages_to("slow@example.com")[0];
    assert!(code["message_id"].as_str().unwrap().starts_with('<'));
}

mod stalled {
    use super::*;

    #[actix_web::test]
    async fn sqlite() {
        stalled_mail_server_slows_no_page(TestDb::sqlite()).await;
    }

    #[actix_web::test]
    async fn postgres() {
        if let Some(db) = TestDb::postgres() {
            stalled_mail_server_slows_no_page(db).await;
        }
    }
}

// ---- the real binary, killed and restarted ----

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

/// `gatehouse serve` with the test configuration, mail to `smtp_port`, on a free port.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(dir: &Path, database_url: &str, smtp_port: u16) -> Server {
        let config = dir.join("gatehouse.toml");
        // Without erin's invitation: the only messages are the ones a test queues, so nothing
        // else is being delivered (and leased) at the moment a test kills the process.
        let without_invitation = CONFIG.replace("status = \"FORCE_CHANGE_PASSWORD\"", "");
        std::fs::write(
            &config,
            format!(
                "[mail.smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\nsecurity = \"none\"\n{without_invitation}"
            ),
        )
        .unwrap();
        let port = free_port();
        let mut child = Command::new(BIN)
            .current_dir(dir)
            .env_remove("DATABASE_URL")
            .env(
                "GATEHOUSE_ENCRYPTION_KEY",
                crate::binary::TEST_ENCRYPTION_KEY,
            )
            .env("GATEHOUSE_LOG", "warn")
            .args(["serve", "--config"])
            .arg(&config)
            .args(["--database-url", database_url])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--public-url", &format!("http://127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()
            .expect("gatehouse starts");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while reqwest::blocking::get(format!("{base}/health")).is_err() {
            assert!(
                child.try_wait().unwrap().is_none(),
                "gatehouse exited at start"
            );
            assert!(Instant::now() < deadline, "gatehouse never answered");
            std::thread::sleep(Duration::from_millis(100));
        }
        Server { child, base }
    }

    /// SIGKILL: no shutdown, no clean-up.
    fn kill_hard(mut self) {
        let status = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn blocking_browser() -> reqwest::blocking::Client {
    gatehouse::tokens::signer::install_crypto_providers();
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn sign_up(base: &str, username: &str, email: &str) {
    let b = blocking_browser();
    let url = format!(
        "{base}/{HOSTED}/signup?{}",
        crate::hosted::authorize_query(PLAIN)
    );
    let page = b.get(&url).send().unwrap().text().unwrap();
    let csrf = crate::hosted::input_value(&page, "_csrf");
    let response = b
        .post(&url)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", username),
            ("email", email),
            ("given_name", "Crash"),
            ("password", "Crash-Passw0rd1"),
        ])
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
}

fn wait_until(what: &str, seconds: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {seconds} s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn delivered_once_after_a_crash(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let smtp_port = free_port();
    // The mail server is down while the user signs up.
    let server = Server::start(dir.path(), &db.url, smtp_port);
    sign_up(&server.base, "crashy", "crashy@example.com");
    // The sender has tried, failed and let go of the message; then the process dies holding
    // no lease. It is killed just after a second failure, when the next attempt is two seconds
    // away: killed at any moment, it could hold a lease and the restart would wait it out.
    let released_after = |attempts: i32| {
        let rows = mail_outbox::deliveries(&mut db.store.conn().unwrap()).unwrap();
        rows.len() == 1
            && rows
                .iter()
                .all(|d| d.attempts >= attempts && d.lease_until.is_none() && d.status == "pending")
    };
    wait_until("a failed attempt", 60, || released_after(1));
    let first = mail_outbox::deliveries(&mut db.store.conn().unwrap()).unwrap()[0].attempts;
    wait_until("the next failed attempt", 60, || released_after(first + 1));
    server.kill_hard();

    let sink = SmtpSink::start_on(smtp_port, 0.0);
    let _again = Server::start(dir.path(), &db.url, smtp_port);
    wait_until("the code after the restart", 90, || {
        !sink.messages_to("crashy@example.com").is_empty()
    });
    // A while longer: nothing is sent twice.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(sink.messages_to("crashy@example.com").len(), 1);
    let rows = mail_outbox::deliveries(&mut db.store.conn().unwrap()).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows.iter().all(|r| r.status == "sent"), "{rows:?}");
}

#[test]
fn sqlite_mail_committed_before_kill_9_is_delivered_once_after_restart() {
    delivered_once_after_a_crash(TestDb::sqlite());
}

#[test]
fn postgres_mail_committed_before_kill_9_is_delivered_once_after_restart() {
    if let Some(db) = TestDb::postgres() {
        delivered_once_after_a_crash(db);
    }
}

/// Two processes, each with its own sender, on one PostgreSQL: every message goes out once.
#[test]
fn postgres_two_senders_deliver_every_message_once() {
    let Some(db) = TestDb::postgres() else { return };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Each DATA takes a moment, so both senders are busy at once.
    let sink = SmtpSink::start(0.05);
    let a = Server::start(dir_a.path(), &db.url, sink.port);
    let b = Server::start(dir_b.path(), &db.url, sink.port);
    const MESSAGES: usize = 60;
    {
        let mut conn = db.store.conn().unwrap();
        gatehouse::store::write_transaction(&mut conn, |conn| {
            for i in 0..MESSAGES {
                let email = gatehouse::mail::Email {
                    from: "no-reply@hosted.test".into(),
                    reply_to: None,
                    to: format!("user{i}@example.com"),
                    subject: format!("Message {i}"),
                    body: format!("Body {i}"),
                    html: false,
                };
                mail_outbox::enqueue(conn, HOSTED, &email, gatehouse::store::now())?;
            }
            Ok::<_, gatehouse::store::StoreError>(())
        })
        .unwrap();
    }
    wait_until("every message delivered", 60, || {
        sink.messages().len() >= MESSAGES
    });
    std::thread::sleep(Duration::from_secs(2));
    let received: Vec<_> = sink
        .messages()
        .into_iter()
        .filter(|m| m["subject"].as_str().unwrap().starts_with("Message "))
        .collect();
    assert_eq!(received.len(), MESSAGES, "no message twice");
    for i in 0..MESSAGES {
        assert_eq!(sink.messages_to(&format!("user{i}@example.com")).len(), 1);
    }
    let ids: std::collections::HashSet<_> =
        received.iter().map(|m| m["message_id"].clone()).collect();
    assert_eq!(ids.len(), MESSAGES, "one Message-ID per message");
    let rows = mail_outbox::deliveries(&mut db.store.conn().unwrap()).unwrap();
    assert!(rows.iter().all(|r| r.status == "sent" && r.attempts == 1));
    let senders: std::collections::HashSet<_> =
        rows.iter().map(|r| r.lease_owner.clone()).collect();
    assert_eq!(senders.len(), 2, "both processes delivered some");
    drop((a, b));
}
