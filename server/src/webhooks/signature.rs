//! Signatures exactly as the Standard Webhooks specification defines them, so that receivers
//! can use any of its libraries (or Svix's) instead of code written for us: HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}` with the decoded key bytes, sent as `v1,<base64>`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// How secrets are written for people, as the specification's libraries expect them.
pub const SECRET_PREFIX: &str = "whsec_";

/// 32 bytes: the specification asks for 24 to 64, and HMAC-SHA256 gains nothing beyond 32.
const KEY_BYTES: usize = 32;

/// A new signing secret, `whsec_` followed by the base64 of random key bytes.
pub fn new_secret() -> String {
    let mut key = [0u8; KEY_BYTES];
    rand::thread_rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The key bytes of a secret; the prefix is optional, as in the reference libraries.
pub fn key_bytes(secret: &str) -> Option<Vec<u8>> {
    let b64 = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD.decode(b64).ok().filter(|k| !k.is_empty())
}

fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `webhook-signature` header value for one attempt.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac(key, id, timestamp, body).finalize().into_bytes();
    format!("v1,{}", STANDARD.encode(tag))
}

#[derive(Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// The secret is not `whsec_` + base64.
    BadSecret,
    /// The timestamp is missing, not a number, or too far from now (a replay).
    Stale,
    /// No `v1` signature in the header matches.
    Mismatch,
}

/// What a receiver does with a request: timestamp within `tolerance_secs` of `now_secs`, and
/// one of the space-separated `v1,` signatures matching (compared in constant time).
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let key = key_bytes(secret).ok_or(VerifyError::BadSecret)?;
    let ts: i64 = timestamp.trim().parse().map_err(|_| VerifyError::Stale)?;
    if (now_secs - ts).abs() > tolerance_secs {
        return Err(VerifyError::Stale);
    }
    let expected = mac(&key, id, ts, body);
    let ok = signatures
        .split_whitespace()
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .any(|tag| expected.clone().verify_slice(&tag).is_ok());
    if ok {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks reference libraries: reproducing it shows that a
    /// receiver's library accepts what we send, which a round trip through our own verifier
    /// cannot (it would pass with the separator or the key decoding wrong as well).
    #[test]
    fn the_specifications_test_vector() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        let key = key_bytes(secret).unwrap();
        let sig = sign(&key, id, 1_614_265_330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(
            verify(secret, id, "1614265330", &sig, body, 1_614_265_330, 300),
            Ok(())
        );
    }

    #[test]
    fn tampering_fails() {
        let secret = new_secret();
        assert!(secret.starts_with(SECRET_PREFIX));
        let key = key_bytes(&secret).unwrap();
        assert_eq!(key.len(), 32);
        let body = br#"{"type":"fee.paid","data":{"case_reference":"A"}}"#;
        let sig = sign(&key, "d1", 1000, body);
        let check = |id: &str, ts: &str, sigs: &str, body: &[u8]| {
            verify(&secret, id, ts, sigs, body, 1000, 300)
        };
        assert_eq!(check("d1", "1000", &sig, body), Ok(()));
        let tampered = br#"{"type":"fee.paid","data":{"case_reference":"B"}}"#;
        assert_eq!(
            check("d1", "1000", &sig, tampered),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(check("d2", "1000", &sig, body), Err(VerifyError::Mismatch));
        assert_eq!(check("d1", "1001", &sig, body), Err(VerifyError::Mismatch));
        assert_eq!(
            check("d1", "1000", &format!("v1,bm9wZQ== {sig}"), body),
            Ok(()),
            "any of several signatures (key rotation)"
        );
        assert_eq!(
            check("d1", "1000", &sig.replace("v1,", "v2,"), body),
            Err(VerifyError::Mismatch)
        );
        let other = key_bytes(&new_secret()).unwrap();
        assert_eq!(
            check("d1", "1000", &sign(&other, "d1", 1000, body), body),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn stale_or_missing_timestamps_fail() {
        let secret = new_secret();
        let key = key_bytes(&secret).unwrap();
        let sig = sign(&key, "d", 1000, b"{}");
        let at = |now| verify(&secret, "d", "1000", &sig, b"{}", now, 300);
        assert_eq!(at(1300), Ok(()));
        assert_eq!(at(700), Ok(()));
        assert_eq!(at(1301), Err(VerifyError::Stale));
        assert_eq!(at(699), Err(VerifyError::Stale));
        assert_eq!(
            verify(&secret, "d", "", &sig, b"{}", 1000, 300),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify("whsec_!!", "d", "1000", &sig, b"{}", 1000, 300),
            Err(VerifyError::BadSecret)
        );
    }
}
