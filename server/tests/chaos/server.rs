//! The real server as a child process on a data directory, killed with SIGKILL, and the
//! command-line clean-up run on its data.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_amtsweg");

/// The command with the environment of a test server on `dir` (SQLite, files, development
/// mail), whatever the environment of the test run says.
fn command(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("AMTSWEG_") || name == "DATABASE_URL" || name == "RUST_LOG" {
            cmd.env_remove(name);
        }
    }
    cmd.env("AMTSWEG_DATA_DIR", dir)
        .env("AMTSWEG_LISTEN", "127.0.0.1:0")
        .env("AMTSWEG_LOG_FORMAT", "json")
        .env("AMTSWEG_LOGIN_LIMIT_PER_CLIENT", "1000000")
        .env("RUST_LOG", "info,sqlx=warn,tower_sessions=warn");
    cmd
}

pub struct Server {
    child: Child,
    pub base: String,
    errors: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `amtsweg serve` on a free port and waits until it listens.
    pub fn start(dir: &Path) -> Server {
        let mut child = command(dir)
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start amtsweg");
        let stdout = child.stdout.take().unwrap();
        let errors = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let seen = errors.clone();
        // Reads the log to its end, so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                if v["fields"]["message"] == "Amtsweg is listening" {
                    let _ = tx.send(v["fields"]["address"].as_str().unwrap_or("").to_string());
                }
                if v["level"] == "ERROR" {
                    seen.lock().unwrap().push(line);
                }
            }
        });
        let address = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server listens after a restart");
        Server {
            child,
            base: format!("http://{address}"),
            errors,
        }
    }

    /// SIGKILL: no shutdown, no flushing, no clean-up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn error_lines(&self) -> Vec<String> {
        self.errors.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `amtsweg storage clean --grace-minutes 0` on the stopped server's data and returns
/// its counts by label.
pub fn clean(dir: &Path) -> HashMap<String, usize> {
    let out = command(dir)
        .args(["storage", "clean", "--grace-minutes", "0"])
        .output()
        .expect("run amtsweg storage clean");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .filter_map(|l| {
            let (label, rest) = l.split_at(l.find(char::is_numeric)?);
            let n = rest.split_whitespace().next()?.parse().ok()?;
            Some((label.trim().to_string(), n))
        })
        .collect()
}
