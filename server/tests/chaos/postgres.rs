//! A PostgreSQL cluster of a test's own (Debian's binaries, run as the `postgres` user, in a
//! temporary directory, on a free port), which the test may stop and start: the shared server
//! other tests use is never touched. Outside CI a machine without the binaries skips the test;
//! with `CI=true` it fails.

use std::path::PathBuf;
use std::process::Command;

/// A PostgreSQL cluster of this test's own.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

fn skip_or_fail(why: &str) -> Option<Cluster> {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
    eprintln!("skipped: {why}");
    None
}

impl Cluster {
    pub fn create() -> Option<Cluster> {
        let Some(bin) = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                    .filter(|b| b.join("initdb").exists())
                    .max_by_key(|b| {
                        let version = b.parent().and_then(|v| v.file_name());
                        version.and_then(|v| v.to_str()?.parse::<u32>().ok())
                    })
            })
        else {
            return skip_or_fail("no PostgreSQL binaries under /usr/lib/postgresql/*/bin");
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("amtsweg-pg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let cluster = Cluster { bin, dir, port };
        if is_root() {
            let owned = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&cluster.dir)
                .status();
            if !owned.is_ok_and(|s| s.success()) {
                return skip_or_fail("cannot hand a directory to the postgres user");
            }
        }
        let data = cluster.data();
        let ok = cluster.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        if !ok {
            return skip_or_fail("initdb failed (as the postgres user)");
        }
        Some(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Runs one of the cluster's programs as `postgres` (tests run as root; PostgreSQL refuses
    /// to run as root).
    fn run(&self, program: &str, args: &[&str]) -> bool {
        let path = self.bin.join(program);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        cmd.args(args)
            .current_dir(&self.dir)
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    pub fn ctl(&self, action: &str) {
        let data = self.data();
        let log = self.dir.join("postgres.log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let mut args = vec![
            "-D",
            data.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
            "-w",
            "-t",
            "60",
        ];
        if action != "stop" {
            args.extend(["-o", options.as_str()]);
        }
        if action != "start" {
            args.extend(["-m", "fast"]);
        }
        args.push(action);
        assert!(
            self.run("pg_ctl", &args),
            "pg_ctl {action}: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
