//! Where mail goes: an SMTP server (production) or files under the data directory (development).

use std::path::PathBuf;
use std::time::Duration;

use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

/// What the development page shows next to each `.eml` file, so it need not parse MIME.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DevMailMeta {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub created_at: i64,
}

impl Transport {
    pub fn smtp(url: &str, timeout: Duration) -> Result<Self, String> {
        let t = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("invalid AMTSWEG_SMTP_URL: {e}"))?
            .timeout(Some(timeout))
            .build();
        Ok(Self::Smtp(t))
    }

    /// Delivers one message. The error text is for logs and the outbox row; it never
    /// contains the message body.
    pub async fn send(&self, message: Message, meta: &DevMailMeta) -> Result<(), Failure> {
        match self {
            Self::Smtp(t) => t.send(message).await.map(|_| ()).map_err(classify),
            Self::Files(dir) => write_files(dir, message, meta)
                .await
                .map_err(|e| Failure::Temporary(e.to_string())),
        }
    }
}

/// Why a delivery failed, which decides what the worker does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The server refused this message for good: the recipient's mailbox does not exist or
    /// will not take it, or the content was rejected. Retrying would only repeat the answer.
    Permanent(String),
    /// The server answered but not now (4xx), or refused for a reason that is its own or our
    /// configuration's (authentication, relaying policy, a command it does not know) rather
    /// than this message's: once that is fixed, the mail should still go out.
    Temporary(String),
    /// No server answered (connection refused, timeout, TLS): every other mail would fail the
    /// same way, so the worker stops the batch instead of trying each one.
    Unreachable(String),
}

impl Failure {
    pub fn text(&self) -> &str {
        match self {
            Failure::Permanent(t) | Failure::Temporary(t) | Failure::Unreachable(t) => t,
        }
    }
}

/// Sorts an SMTP error by reply code (RFC 5321 §4.2): of the 5xx replies only those about the
/// mailbox or the message (550–554) are final for the message.
fn classify(e: SmtpError) -> Failure {
    match e.status().map(u16::from) {
        Some(code @ 550..=554) => Failure::Permanent(format!("SMTP {code}: {e}")),
        Some(code) => Failure::Temporary(format!("SMTP {code}: {e}")),
        None if e.is_response() || e.is_client() => Failure::Temporary(format!("SMTP error: {e}")),
        None => Failure::Unreachable(format!("SMTP server unreachable: {e}")),
    }
}

async fn write_files(dir: &PathBuf, message: Message, meta: &DevMailMeta) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let stem = format!("{:013}-{}", meta.created_at, meta.id);
    // Write-then-rename: the page never lists a half-written mail.
    let tmp = dir.join(format!(".{stem}.tmp"));
    tokio::fs::write(&tmp, message.formatted()).await?;
    tokio::fs::rename(&tmp, dir.join(format!("{stem}.eml"))).await?;
    let json = serde_json::to_vec_pretty(meta).map_err(std::io::Error::other)?;
    tokio::fs::write(&tmp, json).await?;
    tokio::fs::rename(&tmp, dir.join(format!("{stem}.json"))).await
}
