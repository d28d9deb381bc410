//! A minimal SMTP server for tests that must count deliveries: every accepted message is
//! recorded with its `Message-ID` (the outbox row id), so a mail sent twice is seen twice.
//! (The file transport names files by outbox id, so a second delivery would overwrite the
//! first and hide the duplicate.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Default)]
pub struct Sink {
    pub port: u16,
    /// Message-ID → how many times it was delivered.
    delivered: Arc<Mutex<HashMap<String, usize>>>,
}

impl Sink {
    pub async fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = Sink {
            port: listener.local_addr().unwrap().port(),
            delivered: Arc::default(),
        };
        let delivered = sink.delivered.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, delivered.clone()));
            }
        });
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn deliveries(&self) -> HashMap<String, usize> {
        self.delivered.lock().unwrap().clone()
    }

    pub fn total(&self) -> usize {
        self.delivered.lock().unwrap().values().sum()
    }
}

async fn session(stream: tokio::net::TcpStream, delivered: Arc<Mutex<HashMap<String, usize>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    if write.write_all(b"220 sink ESMTP\r\n").await.is_err() {
        return;
    }
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 sink\r\n",
            "DATA" => {
                if write.write_all(b"354 go ahead\r\n").await.is_err() {
                    return;
                }
                let mut id = None;
                while let Ok(Some(l)) = lines.next_line().await {
                    if l == "." {
                        break;
                    }
                    if id.is_none() && l.to_ascii_lowercase().starts_with("message-id:") {
                        id = Some(l["message-id:".len()..].trim().to_string());
                    }
                }
                let id = id.unwrap_or_else(|| "(none)".into());
                // A relay takes a moment per message; without it, workers rarely overlap.
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                *delivered.lock().unwrap().entry(id).or_default() += 1;
                b"250 queued\r\n"
            }
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => b"250 ok\r\n",
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}
