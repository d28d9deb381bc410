//! Runtime configuration. Every setting is a command-line flag and an environment variable;
//! an optional TOML file supplies values that neither the command line nor the environment set.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::secret::Secret;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Mail goes to files under the data directory and a page lists them.
    Development,
    /// Mail needs SMTP; development pages are off.
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Clone, Debug, clap::Args)]
pub struct Config {
    /// Address and port to listen on. Port 0 picks a free port.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_LISTEN",
        default_value = "127.0.0.1:3000"
    )]
    pub listen: SocketAddr,

    /// Directory for the embedded SQLite database and the development mail outbox.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_DATA_DIR",
        default_value = "./data"
    )]
    pub data_dir: PathBuf,

    /// Database to use: `postgres://user:pass@host/db` for PostgreSQL (several instances can
    /// share it) or `sqlite://path`. Default: SQLite file `amtsweg.db` in the data directory.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<Secret<String>>,

    /// Largest number of pooled database connections per instance.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_DB_MAX_CONNECTIONS",
        default_value_t = 16
    )]
    pub db_max_connections: u32,

    /// Public base URL of the portal, used for links in mails. An `https` URL also switches on
    /// HSTS and secure-only cookies.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_PUBLIC_URL",
        default_value = "http://localhost:3000"
    )]
    pub public_url: String,

    /// `development` writes mail to files and offers /dev/mail; `production` requires SMTP.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_MODE",
        value_enum,
        default_value = "development"
    )]
    pub mode: Mode,

    /// SMTP server, e.g. `smtps://user:pass@mail.example.org:465` (implicit TLS) or
    /// `smtp://mail.example.org:587?tls=required` (STARTTLS). Unset: mail goes to files.
    #[arg(long, global = true, env = "AMTSWEG_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<Secret<String>>,

    /// Sender address of all mail.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_MAIL_FROM",
        default_value = "Amtsweg <noreply@amtsweg.localhost>"
    )]
    pub mail_from: String,

    /// Seconds one SMTP delivery may take before it counts as failed and is retried.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_MAIL_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub mail_timeout_secs: u64,

    /// Seconds before an undelivered mail is tried again; each further retry waits twice as
    /// long, up to one hour.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_MAIL_RETRY_SECS",
        default_value_t = 30
    )]
    pub mail_retry_secs: u64,

    /// Hours after which an undeliverable mail is given up and reported to administrators.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_MAIL_GIVE_UP_HOURS",
        default_value_t = 48
    )]
    pub mail_give_up_hours: u64,

    /// Log format: `pretty` for people, `json` for log collectors.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_LOG_FORMAT",
        value_enum,
        default_value = "pretty"
    )]
    pub log_format: LogFormat,

    /// Name of the operating authority or IT service provider, shown in the Impressum.
    #[arg(long, global = true, env = "AMTSWEG_OPERATOR_NAME")]
    pub operator_name: Option<String>,

    /// Postal address of the operator, lines separated by `;`.
    #[arg(long, global = true, env = "AMTSWEG_OPERATOR_ADDRESS")]
    pub operator_address: Option<String>,

    /// Contact mail address of the operator (Impressum, privacy and accessibility feedback).
    #[arg(long, global = true, env = "AMTSWEG_OPERATOR_EMAIL")]
    pub operator_email: Option<String>,

    /// Contact phone number of the operator.
    #[arg(long, global = true, env = "AMTSWEG_OPERATOR_PHONE")]
    pub operator_phone: Option<String>,

    /// Minutes of inactivity after which a session ends.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_SESSION_IDLE_MINUTES",
        default_value_t = 30
    )]
    pub session_idle_minutes: u64,

    /// Hours after login after which a session ends regardless of activity.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_SESSION_MAX_HOURS",
        default_value_t = 12
    )]
    pub session_max_hours: u64,

    /// Seconds for which an entered password (and second-factor code) counts as recent:
    /// changing password, address or second factor, and the administration of accounts,
    /// roles, API keys and webhooks ask for it again after that.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_REAUTH_SECONDS",
        default_value_t = 600
    )]
    pub reauth_seconds: u64,

    /// Reverse proxies whose `X-Forwarded-For` is believed (comma-separated IP addresses).
    /// Without them the client address is the socket's, so a forged header gains nothing.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Login attempts one client address may make per 15 minutes (all accounts together).
    /// Offices behind one NAT address need more than a single household.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_LOGIN_LIMIT_PER_CLIENT",
        default_value_t = 100
    )]
    pub login_limit_per_client: i64,

    /// Where uploaded and generated files are kept: `s3://bucket/prefix` for S3-compatible
    /// object storage, which several instances can share (endpoint, region and credentials from
    /// the standard `AWS_*` environment variables). Default: `files` in the data directory.
    #[arg(long, global = true, env = "AMTSWEG_STORAGE_URL")]
    pub storage_url: Option<String>,

    /// Endpoint of S3-compatible object storage that is not AWS itself (MinIO, Ceph, a
    /// provider's service), e.g. `https://s3.example.de`. Default: `AWS_ENDPOINT` or AWS.
    #[arg(long, global = true, env = "AMTSWEG_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// Region of the object storage. Default: `AWS_REGION` or `us-east-1`.
    #[arg(long, global = true, env = "AMTSWEG_S3_REGION")]
    pub s3_region: Option<String>,

    /// Access key of the object storage. Default: `AWS_ACCESS_KEY_ID` (or the machine's role).
    #[arg(long, global = true, env = "AMTSWEG_S3_ACCESS_KEY_ID")]
    pub s3_access_key_id: Option<String>,

    /// Secret key of the object storage. Default: `AWS_SECRET_ACCESS_KEY`.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_S3_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    pub s3_secret_access_key: Option<Secret<String>>,

    /// Largest evidence file in MB any form field may allow (fields set their own limit up to this).
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_MAX_UPLOAD_MB",
        default_value_t = 200
    )]
    pub max_upload_mb: u64,

    /// Evidence files one application may carry.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_MAX_FILES_PER_APPLICATION",
        default_value_t = 20
    )]
    pub max_files_per_application: usize,

    /// Megabytes of evidence one account may store in total.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_ACCOUNT_STORAGE_MB",
        default_value_t = 1000
    )]
    pub account_storage_mb: u64,

    /// Days after its last change a draft is deleted.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_DRAFT_RETENTION_DAYS",
        default_value_t = 30
    )]
    pub draft_retention_days: i64,

    /// Days before that deletion the owner is reminded by mail.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_DRAFT_REMINDER_DAYS",
        default_value_t = 7
    )]
    pub draft_reminder_days: i64,

    /// Days after a case was decided or closed until it is deleted with its messages, files
    /// and fee notices, unless its service sets its own period (administration, or
    /// `amtsweg service retention`). The portal is not the authority's record: cases belong in
    /// the e-file, which keeps them as long as the law requires.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_CASE_RETENTION_DAYS",
        default_value_t = 730
    )]
    pub case_retention_days: i64,

    /// Seconds a request may take before it is answered with an error.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_REQUEST_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub request_timeout_secs: u64,

    /// Calls per minute one API key may make; more are answered with 429 and Retry-After.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_API_REQUESTS_PER_MINUTE",
        default_value_t = 600
    )]
    pub api_requests_per_minute: i64,

    /// TOML file naming each authority's online payment provider (XBezahldienste); without
    /// it, citizens pay fee notices by bank transfer.
    #[arg(long, global = true, env = "AMTSWEG_PAYMENT_PROVIDERS")]
    pub payment_providers: Option<PathBuf>,

    /// Seconds before the first retry of a failed webhook delivery; the later ones follow the
    /// Standard Webhooks schedule in proportion (5: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_WEBHOOK_RETRY_SECS",
        default_value_t = 5
    )]
    pub webhook_retry_secs: u64,

    /// Deployment keys that wrap the data keys of drafts and cases: `id:base64-32-bytes`,
    /// separated by commas, the first active (`openssl rand -base64 32` makes one). Unset: the
    /// key file below.
    #[arg(
        long,
        global = true,
        env = "AMTSWEG_ENCRYPTION_KEYS",
        hide_env_values = true
    )]
    pub encryption_keys: Option<Secret<String>>,

    /// File with the deployment keys, one `id:base64` per line, the first active. Unset and no
    /// AMTSWEG_ENCRYPTION_KEYS: `encryption.key` in the data directory, created on first start.
    #[arg(long, global = true, env = "AMTSWEG_ENCRYPTION_KEY_FILE")]
    pub encryption_key_file: Option<PathBuf>,
}

impl Config {
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().clone(),
            None => format!("sqlite://{}", self.data_dir.join("amtsweg.db").display()),
        }
    }

    pub fn session_lifetimes(&self) -> crate::accounts::auth::Lifetimes {
        crate::accounts::auth::Lifetimes {
            idle_ms: i64::try_from(self.session_idle_minutes * 60 * 1000).unwrap_or(i64::MAX),
            max_ms: i64::try_from(self.session_max_hours * 3600 * 1000).unwrap_or(i64::MAX),
        }
    }

    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }

    /// The configured file storage. Object storage stages uploads locally under the data
    /// directory before they are sent.
    pub fn storage(&self) -> Result<crate::storage::Storage, crate::storage::StorageConfigError> {
        match &self.storage_url {
            Some(url) => crate::storage::Storage::object(
                url,
                &crate::storage::S3Options {
                    endpoint: self.s3_endpoint.clone(),
                    region: self.s3_region.clone(),
                    access_key_id: self.s3_access_key_id.clone(),
                    secret_access_key: self.s3_secret_access_key.clone(),
                },
                self.data_dir.join("staging"),
            ),
            None => Ok(crate::storage::Storage::local(self.files_dir())),
        }
    }

    /// The deployment keys (see `crypto::keyring`); may create the default key file.
    pub fn keyring(&self) -> Result<crate::crypto::Keyring, String> {
        crate::crypto::Keyring::load(self)
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("mail")
    }

    pub fn is_dev(&self) -> bool {
        self.mode == Mode::Development
    }

    pub fn served_over_tls(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn mail_give_up_after(&self) -> Duration {
        Duration::from_secs(self.mail_give_up_hours * 3600)
    }

    /// Refuses combinations that would silently misbehave in operation.
    pub fn validate(&self) -> Result<(), String> {
        if self.mode == Mode::Production && self.smtp_url.is_none() {
            return Err("production mode needs AMTSWEG_SMTP_URL: mail would otherwise only be written to files".into());
        }
        if self.mode == Mode::Production
            && (self.operator_name.is_none()
                || self.operator_address.is_none()
                || self.operator_email.is_none())
        {
            return Err("production mode needs AMTSWEG_OPERATOR_NAME, AMTSWEG_OPERATOR_ADDRESS and AMTSWEG_OPERATOR_EMAIL for the legally required Impressum".into());
        }
        if self.mode == Mode::Production && !self.served_over_tls() {
            return Err("production mode needs an https:// AMTSWEG_PUBLIC_URL: session cookies must be secure".into());
        }
        if self.mode == Mode::Production
            && !self.database_url().starts_with("sqlite:")
            && self.encryption_keys.is_none()
            && self.encryption_key_file.is_none()
        {
            // A key generated into each instance's own data directory would leave every
            // instance unable to read what the others encrypted.
            return Err("production mode on PostgreSQL needs AMTSWEG_ENCRYPTION_KEY_FILE or AMTSWEG_ENCRYPTION_KEYS: every instance must hold the same deployment keys".into());
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(format!(
                "AMTSWEG_PUBLIC_URL must start with http:// or https://, got {:?}",
                self.public_url
            ));
        }
        if !crate::retention::DAYS.contains(&self.case_retention_days) {
            return Err(format!(
                "AMTSWEG_CASE_RETENTION_DAYS must be between {} and {} days, got {}",
                crate::retention::DAYS.start(),
                crate::retention::DAYS.end(),
                self.case_retention_days
            ));
        }
        if self.draft_retention_days < 1 || self.draft_reminder_days < 0 {
            return Err("AMTSWEG_DRAFT_RETENTION_DAYS must be at least 1 and AMTSWEG_DRAFT_REMINDER_DAYS at least 0".into());
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!(
                "AMTSWEG_MAIL_FROM is not a mail address: {:?}",
                self.mail_from
            ));
        }
        Ok(())
    }

    /// A configuration for tests and tools: defaults everywhere, data in `dir`.
    pub fn for_dir(dir: &Path) -> Self {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            config: Config,
        }
        let mut c = Wrapper::parse_from(["amtsweg"]).config;
        c.data_dir = dir.to_path_buf();
        c
    }
}

/// Keys a configuration file may contain, each the flag name with `_` for `-`.
const FILE_KEYS: &[(&str, &str)] = &[
    ("listen", "AMTSWEG_LISTEN"),
    ("data_dir", "AMTSWEG_DATA_DIR"),
    ("database_url", "DATABASE_URL"),
    ("db_max_connections", "AMTSWEG_DB_MAX_CONNECTIONS"),
    ("public_url", "AMTSWEG_PUBLIC_URL"),
    ("mode", "AMTSWEG_MODE"),
    ("smtp_url", "AMTSWEG_SMTP_URL"),
    ("mail_from", "AMTSWEG_MAIL_FROM"),
    ("mail_timeout_secs", "AMTSWEG_MAIL_TIMEOUT_SECS"),
    ("mail_retry_secs", "AMTSWEG_MAIL_RETRY_SECS"),
    ("mail_give_up_hours", "AMTSWEG_MAIL_GIVE_UP_HOURS"),
    ("log_format", "AMTSWEG_LOG_FORMAT"),
    ("request_timeout_secs", "AMTSWEG_REQUEST_TIMEOUT_SECS"),
    ("session_idle_minutes", "AMTSWEG_SESSION_IDLE_MINUTES"),
    ("session_max_hours", "AMTSWEG_SESSION_MAX_HOURS"),
    ("reauth_seconds", "AMTSWEG_REAUTH_SECONDS"),
    ("trusted_proxies", "AMTSWEG_TRUSTED_PROXIES"),
    ("login_limit_per_client", "AMTSWEG_LOGIN_LIMIT_PER_CLIENT"),
    ("storage_url", "AMTSWEG_STORAGE_URL"),
    ("api_requests_per_minute", "AMTSWEG_API_REQUESTS_PER_MINUTE"),
    ("s3_endpoint", "AMTSWEG_S3_ENDPOINT"),
    ("s3_region", "AMTSWEG_S3_REGION"),
    ("s3_access_key_id", "AMTSWEG_S3_ACCESS_KEY_ID"),
    ("s3_secret_access_key", "AMTSWEG_S3_SECRET_ACCESS_KEY"),
    ("max_upload_mb", "AMTSWEG_MAX_UPLOAD_MB"),
    ("draft_retention_days", "AMTSWEG_DRAFT_RETENTION_DAYS"),
    ("draft_reminder_days", "AMTSWEG_DRAFT_REMINDER_DAYS"),
    ("case_retention_days", "AMTSWEG_CASE_RETENTION_DAYS"),
    (
        "max_files_per_application",
        "AMTSWEG_MAX_FILES_PER_APPLICATION",
    ),
    ("account_storage_mb", "AMTSWEG_ACCOUNT_STORAGE_MB"),
    ("operator_name", "AMTSWEG_OPERATOR_NAME"),
    ("operator_address", "AMTSWEG_OPERATOR_ADDRESS"),
    ("operator_email", "AMTSWEG_OPERATOR_EMAIL"),
    ("operator_phone", "AMTSWEG_OPERATOR_PHONE"),
    ("webhook_retry_secs", "AMTSWEG_WEBHOOK_RETRY_SECS"),
    ("encryption_keys", "AMTSWEG_ENCRYPTION_KEYS"),
    ("encryption_key_file", "AMTSWEG_ENCRYPTION_KEY_FILE"),
];

/// Reads a TOML configuration file into (environment variable, value) pairs. Unknown keys are
/// an error, so that a typo does not silently leave a default in force.
pub fn read_config_file(path: &Path) -> Result<Vec<(&'static str, String)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read configuration file {}: {e}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("configuration file {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (key, value) in table {
        let Some((_, env)) = FILE_KEYS.iter().find(|(k, _)| *k == key) else {
            let known: Vec<_> = FILE_KEYS.iter().map(|(k, _)| *k).collect();
            return Err(format!(
                "configuration file {}: unknown key `{key}` (known: {})",
                path.display(),
                known.join(", ")
            ));
        };
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(format!(
                    "configuration file {}: `{key}` must be a string or number, not {}",
                    path.display(),
                    other.type_str()
                ))
            }
        };
        out.push((*env, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_maps_keys_and_rejects_unknown_ones() {
        let dir = std::env::temp_dir().join(format!("amtsweg-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("c.toml");
        std::fs::write(&p, "listen = \"0.0.0.0:8080\"\ndb_max_connections = 4\n").unwrap();
        let pairs = read_config_file(&p).unwrap();
        assert!(pairs.contains(&("AMTSWEG_LISTEN", "0.0.0.0:8080".into())));
        assert!(pairs.contains(&("AMTSWEG_DB_MAX_CONNECTIONS", "4".into())));
        std::fs::write(&p, "lisen = \"x\"\n").unwrap();
        assert!(read_config_file(&p)
            .unwrap_err()
            .contains("unknown key `lisen`"));
    }

    #[test]
    fn production_requires_smtp() {
        let mut c = Config::for_dir(Path::new("/tmp"));
        c.mode = Mode::Development;
        c.smtp_url = None;
        assert!(c.validate().is_ok());
        c.mode = Mode::Production;
        assert!(c.validate().unwrap_err().contains("AMTSWEG_SMTP_URL"));
    }

    #[test]
    fn production_on_postgres_requires_shared_keys() {
        let mut c = Config::for_dir(Path::new("/tmp"));
        c.mode = Mode::Production;
        c.smtp_url = Some(Secret::new("smtp://relay.example:587".into()));
        c.public_url = "https://portal.example".into();
        c.operator_name = Some("Stadt".into());
        c.operator_address = Some("Platz 1".into());
        c.operator_email = Some("info@stadt.example".into());
        c.database_url = None;
        assert!(
            c.validate().is_ok(),
            "SQLite keeps its key file beside the database"
        );
        c.database_url = Some(Secret::new("postgres://db.example/amtsweg".into()));
        assert!(c
            .validate()
            .unwrap_err()
            .contains("AMTSWEG_ENCRYPTION_KEY_FILE"));
        c.encryption_key_file = Some(PathBuf::from("/etc/amtsweg/keys"));
        assert!(c.validate().is_ok());
    }

    #[test]
    fn default_database_is_sqlite_in_data_dir() {
        let mut c = Config::for_dir(Path::new("/srv/aw"));
        c.database_url = None;
        assert_eq!(c.database_url(), "sqlite:///srv/aw/amtsweg.db");
    }
}
