//! Where mail goes: an SMTP server (production) or files under the data directory (development).

use std::path::PathBuf;
use std::time::Duration;

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
    pub async fn send(&self, message: Message, meta: &DevMailMeta) -> Result<(), String> {
        match self {
            Self::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    format!("permanent SMTP error: {e}")
                } else {
                    format!("SMTP error: {e}")
                }
            }),
            Self::Files(dir) => write_files(dir, message, meta)
                .await
                .map_err(|e| e.to_string()),
        }
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
