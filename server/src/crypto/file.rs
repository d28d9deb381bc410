//! Files are encrypted as a stream of chunks, so that neither upload nor download ever holds a
//! whole file in memory.
//!
//! Format: `AWE1`, the length of the data key id (one byte), the id, a random 19-byte nonce
//! prefix; then chunks of 64 KiB plaintext, each sealed with XChaCha20-Poly1305 under the
//! nonce `prefix || chunk index (u32, big endian) || last flag` and the whole header as
//! associated data (the STREAM construction). The last chunk (possibly empty) carries the
//! flag, so a file cut short at a chunk boundary fails to decrypt instead of reading as
//! shorter; reordered or swapped chunks fail too.
//!
//! Uploaded files are only ever PDF, JPEG or PNG (and generated PDFs), none of which starts
//! with `AWE1`: a file without the magic is a legacy plaintext file and is read as it is.

use super::aead::{self, KEY_LEN, NONCE_LEN, TAG_LEN};
use super::CryptoError;

pub const MAGIC: &[u8; 4] = b"AWE1";
pub const CHUNK: usize = 64 * 1024;
const PREFIX_LEN: usize = NONCE_LEN - 5;
const SEALED_CHUNK: usize = CHUNK + TAG_LEN;

fn nonce(prefix: &[u8; PREFIX_LEN], counter: u32, last: bool) -> [u8; NONCE_LEN] {
    let mut n = [0u8; NONCE_LEN];
    n[..PREFIX_LEN].copy_from_slice(prefix);
    n[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&counter.to_be_bytes());
    n[NONCE_LEN - 1] = u8::from(last);
    n
}

/// Encrypts a file as it is written.
pub struct Sealer {
    key: [u8; KEY_LEN],
    header: Vec<u8>,
    prefix: [u8; PREFIX_LEN],
    counter: u32,
    buf: Vec<u8>,
    header_written: bool,
}

impl Sealer {
    pub fn new(key_id: &str, key: &[u8; KEY_LEN]) -> Self {
        let mut prefix = [0u8; PREFIX_LEN];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut prefix);
        let id = key_id.as_bytes();
        let id = &id[..id.len().min(255)];
        let mut header = MAGIC.to_vec();
        header.push(u8::try_from(id.len()).unwrap_or(u8::MAX));
        header.extend_from_slice(id);
        header.extend_from_slice(&prefix);
        Self {
            key: *key,
            header,
            prefix,
            counter: 0,
            buf: Vec::with_capacity(CHUNK + 1),
            header_written: false,
        }
    }

    fn start(&mut self) -> Vec<u8> {
        if self.header_written {
            Vec::new()
        } else {
            self.header_written = true;
            self.header.clone()
        }
    }

    fn seal_chunk(&mut self, chunk: &[u8], last: bool) -> Result<Vec<u8>, CryptoError> {
        let n = nonce(&self.prefix, self.counter, last);
        self.counter = self.counter.checked_add(1).ok_or(CryptoError::Malformed)?;
        Ok(aead::seal_with_nonce(&self.key, &n, &self.header, chunk))
    }

    /// Plaintext in, ciphertext out (the header first); full chunks are sealed as they fill.
    /// A chunk is sealed only once more data follows it, since the last one is marked.
    pub fn update(&mut self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = self.start();
        self.buf.extend_from_slice(data);
        while self.buf.len() > CHUNK {
            let chunk: Vec<u8> = self.buf.drain(..CHUNK).collect();
            out.extend(self.seal_chunk(&chunk, false)?);
        }
        Ok(out)
    }

    /// The rest, sealed as the last chunk.
    pub fn finish(mut self) -> Result<Vec<u8>, CryptoError> {
        let mut out = self.start();
        let rest = std::mem::take(&mut self.buf);
        out.extend(self.seal_chunk(&rest, true)?);
        Ok(out)
    }
}

/// What the first bytes of a stored file say.
#[derive(Debug, PartialEq, Eq)]
pub enum Head {
    /// Not enough bytes yet to tell.
    NeedMore,
    /// A legacy file stored before encryption.
    Plain,
    /// Encrypted with this data key; the header is this many bytes long.
    Sealed { key_id: String, len: usize },
}

pub fn head(buf: &[u8]) -> Result<Head, CryptoError> {
    let n = buf.len().min(MAGIC.len());
    if buf[..n] != MAGIC[..n] {
        return Ok(Head::Plain);
    }
    if buf.len() <= MAGIC.len() {
        return Ok(Head::NeedMore);
    }
    let id_len = usize::from(buf[MAGIC.len()]);
    let len = MAGIC.len() + 1 + id_len + PREFIX_LEN;
    if buf.len() < len {
        return Ok(Head::NeedMore);
    }
    let key_id = std::str::from_utf8(&buf[MAGIC.len() + 1..MAGIC.len() + 1 + id_len])
        .map_err(|_| CryptoError::Malformed)?
        .to_string();
    Ok(Head::Sealed { key_id, len })
}

/// Decrypts a file as it is read; `feed` returns the plaintext of every chunk known not to be
/// the last, `finish` the last one and checks that the file was complete.
pub struct Opener {
    key: [u8; KEY_LEN],
    header: Vec<u8>,
    prefix: [u8; PREFIX_LEN],
    counter: u32,
    buf: Vec<u8>,
}

impl Opener {
    /// `header` is the file's header as `head` measured it.
    pub fn new(header: &[u8], key: &[u8; KEY_LEN]) -> Result<Self, CryptoError> {
        let prefix: [u8; PREFIX_LEN] = header
            .get(header.len().saturating_sub(PREFIX_LEN)..)
            .and_then(|p| p.try_into().ok())
            .ok_or(CryptoError::Malformed)?;
        Ok(Self {
            key: *key,
            header: header.to_vec(),
            prefix,
            counter: 0,
            buf: Vec::with_capacity(SEALED_CHUNK + 1),
        })
    }

    fn open_chunk(&mut self, chunk: &[u8], last: bool) -> Result<Vec<u8>, CryptoError> {
        let n = nonce(&self.prefix, self.counter, last);
        self.counter = self.counter.checked_add(1).ok_or(CryptoError::Malformed)?;
        aead::open_with_nonce(&self.key, &n, &self.header, chunk)
    }

    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.buf.extend_from_slice(data);
        let mut out = Vec::new();
        while self.buf.len() > SEALED_CHUNK {
            let chunk: Vec<u8> = self.buf.drain(..SEALED_CHUNK).collect();
            out.extend(self.open_chunk(&chunk, false)?);
        }
        Ok(out)
    }

    pub fn finish(mut self) -> Result<Vec<u8>, CryptoError> {
        let rest = std::mem::take(&mut self.buf);
        self.open_chunk(&rest, true)
    }
}

/// Encrypts a whole buffer (tests and small generated files).
pub fn seal_all(key_id: &str, key: &[u8; KEY_LEN], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut s = Sealer::new(key_id, key);
    let mut out = s.update(data)?;
    out.extend(s.finish()?);
    Ok(out)
}

/// Decrypts a whole buffer fed in pieces of `piece` bytes (tests).
pub fn open_all(
    data: &[u8],
    key: &[u8; KEY_LEN],
    piece: usize,
) -> Result<(String, Vec<u8>), CryptoError> {
    let Head::Sealed { key_id, len } = head(data)? else {
        return Err(CryptoError::Malformed);
    };
    let mut o = Opener::new(&data[..len], key)?;
    let mut out = Vec::new();
    for p in data[len..].chunks(piece.max(1)) {
        out.extend(o.feed(p)?);
    }
    out.extend(o.finish()?);
    Ok((key_id, out))
}
