//! Password hashing with argon2id at (at least) the OWASP minimum, m=19456 KiB, t=2, p=1.
//!
//! Hashing costs ~19 MiB and tens of milliseconds of CPU, so it runs on the blocking pool with a
//! bounded number in parallel: a burst of logins queues instead of exhausting memory.

use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::{rand_core::OsRng, Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use crate::secret::Secret;

pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

fn params() -> Params {
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(32)).expect("valid argon2 parameters")
}

fn permits() -> &'static Arc<Semaphore> {
    static P: OnceLock<Arc<Semaphore>> = OnceLock::new();
    P.get_or_init(|| {
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Arc::new(Semaphore::new(n * 2))
    })
}

/// Work memory, one buffer per permit, reused: allocating 19 MiB per hash lets the allocator
/// keep freed blocks per thread, and a burst of logins then grows the process by hundreds of MB.
fn buffers() -> &'static Mutex<Vec<Vec<Block>>> {
    static B: OnceLock<Mutex<Vec<Vec<Block>>>> = OnceLock::new();
    B.get_or_init(|| Mutex::new(Vec::new()))
}

/// Runs `f` on the blocking pool with a work buffer, at most `permits` at a time.
async fn with_memory<T, F>(f: F) -> anyhow::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Vec<Block>) -> anyhow::Result<T> + Send + 'static,
{
    let _permit = permits().clone().acquire_owned().await?;
    let mut buf = buffers()
        .lock()
        .map(|mut b| b.pop())
        .ok()
        .flatten()
        .unwrap_or_default();
    let (buf, out) = tokio::task::spawn_blocking(move || {
        let out = f(&mut buf);
        (buf, out)
    })
    .await?;
    if let Ok(mut b) = buffers().lock() {
        b.push(buf);
    }
    out
}

fn compute(
    alg: Algorithm,
    version: Version,
    params: Params,
    pwd: &[u8],
    salt: &[u8],
    out: &mut [u8],
    blocks: &mut Vec<Block>,
) -> anyhow::Result<()> {
    blocks.resize(params.block_count(), Block::default());
    Argon2::new(alg, version, params)
        .hash_password_into_with_memory(pwd, salt, out, &mut blocks[..])
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

/// A PHC string `$argon2id$v=19$m=19456,t=2,p=1$salt$hash`.
pub async fn hash(password: Secret<String>) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    with_memory(move |blocks| {
        let mut salt_buf = [0u8; 64];
        let salt_bytes = salt
            .decode_b64(&mut salt_buf)
            .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        let mut out = [0u8; 32];
        compute(
            Algorithm::Argon2id,
            Version::V0x13,
            params(),
            password.expose().as_bytes(),
            salt_bytes,
            &mut out,
            blocks,
        )?;
        let output = Output::new(&out).map_err(|e| anyhow::anyhow!("output: {e}"))?;
        Ok(format!(
            "$argon2id$v=19$m={MEMORY_KIB},t={ITERATIONS},p={PARALLELISM}${}${output}",
            salt.as_str()
        ))
    })
    .await
}

/// Verifies a password. Unknown users are checked against a dummy hash so that the answer takes
/// as long as for a real account.
pub async fn verify(password: Secret<String>, stored: Option<String>) -> anyhow::Result<bool> {
    let known = stored.is_some();
    let stored = match stored {
        Some(s) => s,
        None => dummy_hash().await?,
    };
    with_memory(move |blocks| {
        let parsed =
            PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("bad stored hash: {e}"))?;
        let alg =
            Algorithm::try_from(parsed.algorithm).map_err(|e| anyhow::anyhow!("algorithm: {e}"))?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(|e| anyhow::anyhow!("version: {e}"))?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).map_err(|e| anyhow::anyhow!("params: {e}"))?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            anyhow::bail!("stored hash lacks salt or output");
        };
        let mut salt_buf = [0u8; 64];
        let salt_bytes = salt
            .decode_b64(&mut salt_buf)
            .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        let mut out = vec![0u8; expected.len()];
        compute(
            alg,
            version,
            params,
            password.expose().as_bytes(),
            salt_bytes,
            &mut out,
            blocks,
        )?;
        // `Output` compares in constant time.
        let ok = Output::new(&out).map(|o| o == expected).unwrap_or(false);
        Ok(known && ok)
    })
    .await
}

async fn dummy_hash() -> anyhow::Result<String> {
    static H: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    H.get_or_try_init(|| hash(Secret::new("dummy password for unknown accounts".into())))
        .await
        .cloned()
}

/// Minimum length and an upper bound that still allows long passphrases.
pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 256;

pub fn check_length(password: &str) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < MIN_LEN {
        Err("error.password.too_short")
    } else if n > MAX_LEN {
        Err("error.password.too_long")
    } else {
        Ok(())
    }
}

/// Rules for a new password: length, then no password that appears in (or is a trivial
/// variation of) the lists of leaked passwords zxcvbn ships, nor one built from the user's own
/// mail address. No composition rules.
pub fn check_new(password: &str, user_inputs: &[&str]) -> Result<(), &'static str> {
    use zxcvbn::matching::patterns::MatchPattern;
    // zxcvbn does not export its dictionary enum; its Debug names are stable identifiers.
    let from_dictionary = |m: &zxcvbn::Match, name: &str| matches!(&m.pattern, MatchPattern::Dictionary(d) if format!("{:?}", d.dictionary_name) == name);
    check_length(password)?;
    let plain = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let pw = plain(password);
    for input in user_inputs {
        let local = plain(input.split('@').next().unwrap_or(""));
        if local.chars().count() >= 4 && pw.contains(&local) {
            return Err("error.password.personal");
        }
    }
    // Leaked-password lists hold short strings; the first 64 characters decide.
    let sample: String = password.chars().take(64).collect();
    let inputs: Vec<String> = user_inputs
        .iter()
        .flat_map(|i| {
            i.split(['@', '.', '-', '_', ' '])
                .map(str::to_string)
                .chain([i.to_string()])
        })
        .filter(|s| s.chars().count() >= 3)
        .collect();
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let entropy = zxcvbn::zxcvbn(&sample, &refs);
    if u8::from(entropy.score()) >= 3 {
        return Ok(());
    }
    let leaked = entropy
        .sequence()
        .iter()
        .any(|m| from_dictionary(m, "Passwords"));
    let personal = entropy
        .sequence()
        .iter()
        .any(|m| from_dictionary(m, "UserInputs"));
    Err(if personal {
        "error.password.personal"
    } else if leaked {
        "error.password.common"
    } else {
        "error.password.guessable"
    })
}

/// True when a stored hash is weaker than today's parameters (or not argon2id), so that it is
/// replaced at the next successful login.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    if parsed.algorithm.as_str() != "argon2id" {
        return true;
    }
    let get = |name: &str| parsed.params.get_decimal(name).unwrap_or(0);
    get("m") < MEMORY_KIB || get("t") < ITERATIONS || get("p") < PARALLELISM
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_uses_argon2id_with_required_parameters_and_verifies() {
        let h = hash(Secret::new("correct horse battery staple".into()))
            .await
            .unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(
            Secret::new("correct horse battery staple".into()),
            Some(h.clone())
        )
        .await
        .unwrap());
        assert!(!verify(Secret::new("wrong".into()), Some(h)).await.unwrap());
        assert!(!verify(
            Secret::new("dummy password for unknown accounts".into()),
            None
        )
        .await
        .unwrap());
    }

    #[test]
    fn common_and_personal_passwords_are_refused_with_a_reason() {
        assert_eq!(check_new("password1234", &[]), Err("error.password.common"));
        assert!(check_new("qwertyuiop123", &[]).is_err());
        assert_eq!(
            check_new("erika.mustermann", &["erika.mustermann@example.org"]),
            Err("error.password.personal")
        );
        assert_eq!(check_new("kurz", &[]), Err("error.password.too_short"));
        assert!(check_new("Fahrrad Hafen Regen Lampe", &[]).is_ok());
        assert!(check_new("Amtsweg-Demo-2026", &[]).is_ok());
        assert!(
            check_new("żółć gęślą jaźń kwiat", &[]).is_ok(),
            "any Unicode"
        );
    }

    #[tokio::test]
    async fn hashes_interoperate_with_the_reference_implementation() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash(Secret::new("Fahrrad Hafen Regen Lampe".into()))
            .await
            .unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"Fahrrad Hafen Regen Lampe", &parsed)
            .is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 3, 1, None).unwrap(),
        )
        .hash_password(b"older weaker hash", &salt)
        .unwrap()
        .to_string();
        assert!(verify(
            Secret::new("older weaker hash".into()),
            Some(theirs.clone())
        )
        .await
        .unwrap());
        assert!(!verify(Secret::new("wrong".into()), Some(theirs.clone()))
            .await
            .unwrap());
        assert!(needs_rehash(&theirs));
    }

    #[test]
    fn weaker_hashes_are_rehashed() {
        assert!(needs_rehash(
            "$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo"
        ));
        assert!(needs_rehash(
            "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo"
        ));
        assert!(!needs_rehash(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo"
        ));
        assert!(!needs_rehash(
            "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo"
        ));
        assert!(needs_rehash("not a hash"));
    }

    #[test]
    fn lengths() {
        assert!(check_length("short").is_err());
        assert!(check_length("zwölf Zeichen").is_ok());
        assert!(check_length(&"x".repeat(257)).is_err());
    }
}
