//! Time-based one-time passwords as every authenticator app makes them: RFC 6238 over the HOTP
//! of RFC 4226 with HMAC-SHA-1, six digits and 30-second steps. Other algorithms, lengths or
//! periods are left out on purpose: several popular apps silently ignore those parameters of
//! the `otpauth://` URI and would then show codes that never match.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

pub const DIGITS: u32 = 6;
pub const STEP_MS: i64 = 30_000;
/// Steps accepted on either side of the server's own: a phone clock a little off, or a code
/// typed just as it changed, still works.
pub const WINDOW: i64 = 1;
/// 160 bits, the key length RFC 4226 recommends (and the output size of SHA-1).
pub const SECRET_BYTES: usize = 20;

/// The HOTP value of `counter` with `digits` digits (RFC 4226, section 5.3: dynamic truncation).
pub fn hotp(key: &[u8], counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of every length")
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[h.len() - 1] & 0x0f);
    let bin = u32::from_be_bytes([
        h[offset] & 0x7f,
        h[offset + 1],
        h[offset + 2],
        h[offset + 3],
    ]);
    bin % 10u32.pow(digits)
}

/// The time step a Unix time in milliseconds falls into (T0 = 0).
pub fn step_at(unix_ms: i64) -> i64 {
    unix_ms.div_euclid(STEP_MS)
}

/// The six-digit code of a step, with leading zeros.
pub fn code(key: &[u8], step: i64) -> String {
    let counter = u64::try_from(step).unwrap_or(0);
    format!(
        "{:0width$}",
        hotp(key, counter, DIGITS),
        width = DIGITS as usize
    )
}

/// The step whose code `input` is, if it lies within the window around `now_step` and after
/// `last_step` (the step last accepted for this key), so that a code works once only.
/// Spaces are ignored ("123 456", as some apps show it); anything but six digits is refused.
pub fn verify(key: &[u8], input: &str, now_step: i64, last_step: i64) -> Option<i64> {
    let input: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if input.len() != DIGITS as usize || !input.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    (now_step - WINDOW..=now_step + WINDOW)
        .filter(|s| *s > last_step)
        .find(|s| constant_time_eq(code(key, *s).as_bytes(), input.as_bytes()))
}

/// Compares without stopping at the first difference, so timing says nothing about how many
/// digits were right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new random key.
pub fn new_secret() -> Vec<u8> {
    let mut key = vec![0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 Base32 without padding: the form authenticator apps take a key in.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Reads Base32 as people type it: either case, with spaces, hyphens or padding.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars() {
        if c.is_whitespace() || c == '-' || c == '=' {
            continue;
        }
        let value = BASE32
            .iter()
            .position(|&b| char::from(b) == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | u32::try_from(value).ok()?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// The key in groups of four characters, for typing it into an app by hand.
pub fn grouped(base32: &str) -> String {
    base32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Percent-encoding of everything but RFC 3986's unreserved characters (a space becomes `%20`,
/// never `+`, which apps would show as a plus sign in the account name).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `otpauth://` URI (Key Uri Format) that a QR code carries into an authenticator app:
/// the issuer names the portal in the app's list, the account is the user's address.
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={}",
        percent_encode(issuer),
        percent_encode(account),
        percent_encode(issuer),
        STEP_MS / 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The SHA-1 key of RFC 6238, appendix B (and of RFC 4226, appendix D).
    const RFC_KEY: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_4226_hotp_values() {
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, value) in expected.into_iter().enumerate() {
            assert_eq!(hotp(RFC_KEY, counter as u64, 6), value, "counter {counter}");
        }
    }

    #[test]
    fn rfc_6238_sha1_test_vectors() {
        // Appendix B: Unix time in seconds, eight-digit TOTP (SHA-1 rows).
        let vectors = [
            (59_i64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (secs, totp8) in vectors {
            let step = step_at(secs * 1000);
            let counter = u64::try_from(step).unwrap();
            assert_eq!(
                format!("{:08}", hotp(RFC_KEY, counter, 8)),
                totp8,
                "T = {secs}"
            );
            // The six-digit code is the same value to a shorter modulus.
            assert_eq!(code(RFC_KEY, step), totp8[2..], "T = {secs}");
        }
    }

    #[test]
    fn steps_are_thirty_seconds() {
        assert_eq!(step_at(0), 0);
        assert_eq!(step_at(29_999), 0);
        assert_eq!(step_at(30_000), 1);
        assert_eq!(step_at(59_000), 1);
        assert_eq!(step_at(1_111_111_109_000), 0x023523EC);
    }

    #[test]
    fn window_of_one_step_and_no_replay() {
        let now = step_at(1_234_567_890_000);
        let at = |s| code(RFC_KEY, s);
        assert_eq!(verify(RFC_KEY, &at(now), now, 0), Some(now));
        assert_eq!(verify(RFC_KEY, &at(now - 1), now, 0), Some(now - 1));
        assert_eq!(verify(RFC_KEY, &at(now + 1), now, 0), Some(now + 1));
        assert_eq!(verify(RFC_KEY, &at(now - 2), now, 0), None, "too old");
        assert_eq!(verify(RFC_KEY, &at(now + 2), now, 0), None, "too far ahead");
        assert_eq!(verify(RFC_KEY, &at(now), now, now), None, "used already");
        assert_eq!(
            verify(RFC_KEY, &at(now - 1), now, now - 1),
            None,
            "an older step after a newer one was used"
        );
        let spaced = format!("{} {}", &at(now)[..3], &at(now)[3..]);
        assert_eq!(verify(RFC_KEY, &spaced, now, 0), Some(now));
        assert_eq!(verify(RFC_KEY, "12345", now, 0), None);
        assert_eq!(verify(RFC_KEY, "12345a", now, 0), None);
        assert_eq!(verify(RFC_KEY, "", now, 0), None);
    }

    #[test]
    fn base32_as_in_rfc_4648() {
        let cases = [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(
            base32_decode("mzxw 6ytb-oi======").unwrap(),
            b"foobar",
            "lower case, spaces, hyphens and padding are tolerated"
        );
        assert_eq!(base32_decode("MZXW1"), None, "1 is not a Base32 digit");
        assert_eq!(base32_encode(RFC_KEY), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn otpauth_uri_as_apps_read_it() {
        let uri = otpauth_uri(
            "Amtsweg",
            "erika mustermann@example.org",
            "GEZDGNBVGY3TQOJQ",
        );
        assert_eq!(
            uri,
            "otpauth://totp/Amtsweg:erika%20mustermann%40example.org?secret=GEZDGNBVGY3TQOJQ\
             &issuer=Amtsweg&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(grouped("GEZDGNBVGY3TQOJQGE"), "GEZD GNBV GY3T QOJQ GE");
    }

    proptest! {
        #[test]
        fn base32_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let text = base32_encode(&bytes);
            prop_assert!(text.bytes().all(|b| BASE32.contains(&b)));
            prop_assert_eq!(base32_decode(&text).unwrap(), bytes.clone());
            prop_assert_eq!(base32_decode(&grouped(&text).to_lowercase()).unwrap(), bytes);
        }

        #[test]
        fn a_code_is_accepted_within_the_window_and_once(
            key in proptest::collection::vec(any::<u8>(), 1..40),
            now in 1_000_i64..100_000_000,
            offset in -3_i64..=3,
        ) {
            let step = now + offset;
            let c = code(&key, step);
            prop_assert_eq!(c.len(), 6);
            let accepted = verify(&key, &c, now, 0);
            if offset.abs() <= WINDOW {
                // Another step in the window may share the code (one in a million); then the
                // earliest such step is taken, still within the window.
                let s = accepted.expect("a code within the window is accepted");
                prop_assert!((s - now).abs() <= WINDOW);
                // Once used, that step is never accepted again.
                prop_assert!(verify(&key, &c, now, s).is_none_or(|later| later > s));
            } else if let Some(s) = accepted {
                // Only by coincidence with a step inside the window.
                prop_assert!((s - now).abs() <= WINDOW);
                prop_assert_eq!(code(&key, s), c);
            }
        }
    }
}
