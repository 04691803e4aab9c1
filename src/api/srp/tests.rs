//! Vectors from pycognito and amazon-cognito-identity-js (tests/srp_vectors/README.md).

use super::*;
use serde_json::Value;

const INPUTS: &str = include_str!("../../../tests/srp_vectors/inputs.json");
const PYCOGNITO: &str = include_str!("../../../tests/srp_vectors/pycognito.json");
const COGNITO_JS: &str = include_str!("../../../tests/srp_vectors/cognito_js.json");

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    BigUint::parse_bytes(s.as_bytes(), 16)
        .unwrap()
        .to_bytes_be()
}

struct Fixture {
    inp: Value,
    verifier: Verifier,
    server: ServerEphemeral,
    a: Vec<u8>,
    srp_a: String,
}

fn fixture() -> Fixture {
    let inp = json(INPUTS);
    let s = |k: &str| inp[k].as_str().unwrap().to_string();
    let salt: [u8; 16] = unhex(&s("salt")).try_into().unwrap();
    let verifier = make_verifier(&s("pool_id"), &s("user_id_for_srp"), &s("password"), salt);
    let server = server_start_with(&verifier, &unhex(&s("b")));
    let (a, srp_a) = client::start_with(&unhex(&s("a")));
    Fixture {
        inp,
        verifier,
        server,
        a,
        srp_a,
    }
}

impl Fixture {
    fn s(&self, k: &str) -> &str {
        self.inp[k].as_str().unwrap()
    }
    fn sign(&self, password: &str, timestamp: &str) -> String {
        client::respond(
            self.s("pool_id"),
            self.s("user_id_for_srp"),
            password,
            &self.a,
            &salt_param(&self.verifier),
            &b_param(&self.server),
            self.s("secret_block"),
            timestamp,
        )
        .unwrap()
    }
    fn claim<'a>(&'a self, srp_a: &'a str, block: &'a str, ts: &'a str, sig: &'a str) -> Claim<'a> {
        Claim {
            pool_id: self.s("pool_id"),
            user_id_for_srp: self.s("user_id_for_srp"),
            verifier: &self.verifier,
            b: &self.server.b,
            big_b: &self.server.big_b,
            srp_a,
            secret_block: block,
            timestamp: ts,
            signature: sig,
        }
    }
}

#[test]
fn srp_matches_pycognito_and_cognito_js() {
    let f = fixture();
    let ts = f.s("timestamp");
    let now = parse_timestamp(ts).unwrap();
    for expected in [json(PYCOGNITO), json(COGNITO_JS)] {
        let e = |k: &str| expected[k].as_str().unwrap().to_string();
        assert_eq!(hex(&K.to_bytes_be()), e("k"));
        assert_eq!(
            e("k"),
            "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6"
        );
        assert_eq!(salt_param(&f.verifier), e("salt_param"));
        assert_eq!(
            pad_hex(&BigUint::from_bytes_be(&f.verifier.verifier)),
            e("verifier")
        );
        assert_eq!(f.srp_a, e("srp_a"));
        assert_eq!(b_param(&f.server), e("srp_b"));
        let a = check_a(&f.srp_a).unwrap();
        let (u, s) = server_secret(&a, &f.verifier, &f.server.b, &f.server.big_b).unwrap();
        assert_eq!(pad_hex(&u), e("u"));
        assert_eq!(pad_hex(&s), e("s"));
        assert_eq!(hex(&session_key(&u, &s)), e("key"));
        let client_key = client::session_key_for(
            f.s("pool_id"),
            f.s("user_id_for_srp"),
            f.s("password"),
            &f.a,
            &e("salt_param"),
            &e("srp_b"),
        )
        .unwrap();
        assert_eq!(hex(&client_key), e("key"), "client S agrees with server S");
        let sig = f.sign(f.s("password"), ts);
        assert_eq!(sig, e("signature"));
        let claim = f.claim(&f.srp_a, f.s("secret_block"), ts, &sig);
        assert_eq!(verify_claim(&claim, now), Ok(()));
    }
}

#[test]
fn srp_pad_hex_is_java_to_byte_array() {
    assert_eq!(pad_hex(&BigUint::from(0u32)), "00");
    assert_eq!(pad_hex(&BigUint::from(0x7fu32)), "7f");
    assert_eq!(pad_hex(&BigUint::from(0x80u32)), "0080");
    assert_eq!(pad_hex(&BigUint::from(0x1234u32)), "1234");
    assert_eq!(pad_hex(&BigUint::from(0x123u32)), "0123");
    assert!(pad_hex(&N).starts_with("00ffffffffffffffffc90f"));
}

#[test]
fn srp_round_trip_and_refusals() {
    let f = fixture();
    let (pool, user, pw, block) = (
        f.s("pool_id"),
        f.s("user_id_for_srp"),
        f.s("password"),
        f.s("secret_block"),
    );
    // A fresh random sign-in.
    let v = make_verifier(pool, user, pw, new_salt());
    let server = server_start(&v);
    let (a, srp_a) = client::start();
    let now = 1_796_115_907; // Tue Dec 1 09:05:07 UTC 2026
    let ts = format_timestamp(now);
    assert_eq!(ts, "Tue Dec 1 09:05:07 UTC 2026");
    let sign = |password: &str, ts: &str| {
        client::respond(
            pool,
            user,
            password,
            &a,
            &salt_param(&v),
            &b_param(&server),
            block,
            ts,
        )
        .unwrap()
    };
    let good = sign(pw, &ts);
    let check = |srp_a: &str, block: &str, ts: &str, sig: &str| {
        verify_claim(
            &Claim {
                pool_id: pool,
                user_id_for_srp: user,
                verifier: &v,
                b: &server.b,
                big_b: &server.big_b,
                srp_a,
                secret_block: block,
                timestamp: ts,
                signature: sig,
            },
            now,
        )
    };
    assert_eq!(check(&srp_a, block, &ts, &good), Ok(()));
    // 14 minutes off is fine, 16 is not.
    let ts14 = format_timestamp(now - 14 * 60);
    assert_eq!(check(&srp_a, block, &ts14, &sign(pw, &ts14)), Ok(()));
    let ts16 = format_timestamp(now + 16 * 60);
    assert_eq!(
        check(&srp_a, block, &ts16, &sign(pw, &ts16)),
        Err(SrpError::BadTimestamp)
    );
    let old = "Mon Jan 1 00:00:00 UTC 2001";
    assert_eq!(
        check(&srp_a, block, old, &sign(pw, old)),
        Err(SrpError::BadTimestamp)
    );
    assert_eq!(
        check(&srp_a, block, &ts, &sign("Correct horse 8!", &ts)),
        Err(SrpError::BadSignature)
    );
    let other_block = B64.encode(b"another block");
    assert_eq!(
        check(&srp_a, &other_block, &ts, &good),
        Err(SrpError::BadSignature)
    );
    // The signature covers the timestamp as sent.
    let ts_other = format_timestamp(now + 1);
    assert_eq!(
        check(&srp_a, block, &ts_other, &good),
        Err(SrpError::BadSignature)
    );
    // A = 0, N, 2N would force S = 0.
    let n_hex = N.to_str_radix(16);
    let two_n = (&*N * 2u32).to_str_radix(16);
    for bad_a in ["0", "00", n_hex.as_str(), two_n.as_str()] {
        assert_eq!(
            check(bad_a, block, &ts, &good),
            Err(SrpError::BadA),
            "{bad_a}"
        );
    }
    // The deterministic vectors' claim is refused by a verifier for another password.
    let wrong = make_verifier(
        pool,
        user,
        "Correct horse 8!",
        f.verifier.salt.clone().try_into().unwrap(),
    );
    let sig = f.sign(pw, f.s("timestamp"));
    let mut c = f.claim(&f.srp_a, block, f.s("timestamp"), &sig);
    c.verifier = &wrong;
    assert_eq!(verify_claim(&c, now), Err(SrpError::BadSignature));
}

#[test]
fn srp_timestamps() {
    for (epoch, s) in [
        (0, "Thu Jan 1 00:00:00 UTC 1970"),
        (951_782_400, "Tue Feb 29 00:00:00 UTC 2000"),
        (1_796_115_907, "Tue Dec 1 09:05:07 UTC 2026"),
        (1_798_761_599, "Thu Dec 31 23:59:59 UTC 2026"),
    ] {
        assert_eq!(format_timestamp(epoch), s);
        assert_eq!(parse_timestamp(s), Some(epoch));
    }
    assert_eq!(
        parse_timestamp("Tue Dec 01 09:05:07 UTC 2026"),
        Some(1_796_115_907)
    );
    for bad in [
        "",
        "Wed Dec 1 09:05:07 UTC 2026",
        "Tue Dec 1 09:05:07 GMT 2026",
        "Tue Dec  1 09:05:07 UTC 2026",
        "Tue Dec 1 9:05:07 UTC 2026",
        "Tue Dec 1 24:05:07 UTC 2026",
        "Mon Feb 30 00:00:00 UTC 2026",
        "Tue Dec 1 09:05:07 UTC 2026 ",
        "Tue Dec +1 09:05:07 UTC 2026",
        "Tue Dec 1 09:05:07 UTC 99999",
    ] {
        assert_eq!(parse_timestamp(bad), None, "{bad:?}");
    }
}

#[test]
fn srp_garbage_never_panics() {
    let f = fixture();
    let garbage = [
        "",
        " ",
        "=",
        "zz",
        "0x12",
        "-1",
        "+1",
        "1_0",
        "\u{1F600}",
        "AAAA====",
        "%%%",
        "ffff\n",
        "Tue Dec 1 09:05:07 UTC 2026",
        "\0",
        &"f".repeat(5000),
    ];
    for g1 in garbage {
        for g2 in garbage {
            let c = f.claim(g1, g2, g1, g2);
            assert!(verify_claim(&c, 0).is_err());
            let c = f.claim(&f.srp_a, g1, g2, g1);
            assert!(verify_claim(&c, i64::MIN).is_err());
            let _ = parse_timestamp(g1);
            let _ = Verifier::from_bytes(g1.as_bytes());
            let r = client::respond(g1, g2, g1, g2.as_bytes(), g1, g2, g1, g2);
            let _ = r;
        }
    }
    let empty = Verifier {
        salt: vec![],
        verifier: vec![],
    };
    let c = Claim {
        verifier: &empty,
        b: &[],
        big_b: &[],
        ..f.claim(&f.srp_a, "", "x", "")
    };
    assert!(verify_claim(&c, 0).is_err());
    let _ = format_timestamp(i64::MIN);
    let _ = format_timestamp(i64::MAX);
}

#[test]
fn srp_verifier_bytes_and_decoy() {
    let f = fixture();
    let bytes = f.verifier.to_bytes();
    assert_eq!(Verifier::from_bytes(&bytes), Ok(f.verifier.clone()));
    assert!(Verifier::from_bytes(&bytes[..18]).is_err());
    assert!(Verifier::from_bytes(&[2, 0, 1]).is_err());
    assert_eq!(pool_name("us-east-1_AbCdEf123"), "AbCdEf123");
    assert_eq!(pool_name("local_Example01"), "Example01");
    let (salt1, e1) = decoy(b"k", "local_Example01", "nobody");
    let (salt2, e2) = decoy(b"k", "local_Example01", "nobody");
    let (salt3, _) = decoy(b"k", "local_Example01", "somebody");
    assert_eq!(salt1, salt2);
    assert_ne!(salt1, salt3);
    assert_ne!(e1.big_b, e2.big_b);
    assert!(parse_hex(&salt1, "SALT").is_ok() && salt1.len() % 2 == 0);
    assert!(BigUint::from_bytes_be(&e1.big_b) < *N);
}
