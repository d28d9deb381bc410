//! Sealed text values in database columns: `enc:v1:<data key id>:<base64url(nonce, ciphertext)>`.
//! The marker keeps the format self-describing, so legacy plaintext rows still read and a
//! value can be decrypted without knowing which case it belongs to. The data key id is also
//! the associated data: a value cannot be passed off under another key's name.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::aead;
use super::CryptoError;

const PREFIX: &str = "enc:v1:";

pub fn is_sealed(value: &str) -> bool {
    value.starts_with(PREFIX)
}

pub fn seal(key_id: &str, key: &[u8; aead::KEY_LEN], plaintext: &str) -> String {
    let sealed = aead::seal(key, key_id.as_bytes(), plaintext.as_bytes());
    format!("{PREFIX}{key_id}:{}", URL_SAFE_NO_PAD.encode(sealed))
}

/// The data key id of a sealed value; `None` for plaintext.
pub fn key_id(value: &str) -> Result<Option<&str>, CryptoError> {
    let Some(rest) = value.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    rest.split_once(':')
        .map(|(id, _)| Some(id))
        .ok_or(CryptoError::Malformed)
}

pub fn open(value: &str, key_id: &str, key: &[u8; aead::KEY_LEN]) -> Result<String, CryptoError> {
    let body = value
        .strip_prefix(PREFIX)
        .and_then(|r| r.strip_prefix(key_id))
        .and_then(|r| r.strip_prefix(':'))
        .ok_or(CryptoError::Malformed)?;
    let sealed = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| CryptoError::Malformed)?;
    let plain = aead::open(key, key_id.as_bytes(), &sealed)?;
    String::from_utf8(plain).map_err(|_| CryptoError::Malformed)
}
