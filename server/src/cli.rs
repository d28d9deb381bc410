//! Command line: `serve` (default), `migrate`, `user create`, `user reset-mfa`, `demo`,
//! `mail status`, `backup`, `restore`, `storage clean` and the rest listed in the README.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use amtsweg_app::i18n::Lang;
use clap::{Parser, Subcommand};

use crate::accounts::users::{self, NewUser};
use crate::applications::{catalog, routing};
use crate::config::Config;
use crate::db::Db;
use crate::domain::{Ags, Email, PostalCode, Role};
use crate::secret::Secret;
use crate::Application;

#[derive(Parser)]
#[command(
    name = "amtsweg",
    version,
    about = "Amtsweg: citizens apply for public services online; authorities answer.",
    long_about = "Amtsweg: citizens apply for public services online; authorities answer.\n\n\
        Every option can also be set as the environment variable shown, or as a key (the option \
        name with `_` for `-`) in the TOML file named by --config. Command line wins over \
        environment, environment over the file."
)]
struct Cli {
    /// Optional TOML configuration file.
    #[arg(long, global = true, env = "AMTSWEG_CONFIG")]
    config: Option<PathBuf>,

    #[command(flatten)]
    settings: Config,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default): applies pending migrations, then serves.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Load demonstration data (authorities, postboxes, services, demo accounts). Safe to repeat.
    Demo {
        /// Start serving right after loading.
        #[arg(long)]
        serve: bool,
    },
    /// Synthetic data for benchmarks (needs the demo data).
    Seed {
        #[command(subcommand)]
        command: SeedCommand,
    },
    /// Services and their form definitions.
    Service {
        #[command(subcommand)]
        command: ServiceCommand,
    },
    /// Responsibility rules: which postbox handles a service for an area.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Import reference data.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// API keys of back-office systems (also managed in the back office).
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Mail delivery: counts per state and undeliverable mail awaiting an administrator.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Consistent copy of the SQLite database and the stored files into a new directory,
    /// while the server runs, with a manifest of SHA-256 checksums. PostgreSQL: see README.
    Backup {
        /// Directory to write to; must not exist or be empty.
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into an empty data directory (checks every checksum first; never
    /// overwrites a database).
    Restore {
        /// Directory written by `amtsweg backup`.
        #[arg(long)]
        from: PathBuf,
    },
    /// Stored files: clean-up after crashes.
    Storage {
        #[command(subcommand)]
        command: StorageCommand,
    },
    /// Encryption keys: generate, status, rotate, encrypt data stored before encryption.
    Keys {
        #[command(subcommand)]
        command: crate::crypto::command::KeysCommand,
    },
}

#[derive(Subcommand)]
enum StorageCommand {
    /// Delete files no database row refers to and stale staging files, both older than the
    /// grace period; count rows whose file is missing (they are kept). Safe while serving.
    Clean {
        /// Only count what would be deleted.
        #[arg(long)]
        dry_run: bool,
        /// Leave files younger than this alone (an upload may still be writing its row).
        #[arg(long, default_value_t = 60)]
        grace_minutes: u64,
    },
}

#[derive(Subcommand, Debug)]
enum SeedCommand {
    /// Invented cases in one postbox, to measure the inbox at scale.
    Cases {
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        #[arg(long, default_value = "p-stuttgart-parken")]
        postbox: String,
        /// Assign about a third of the open cases to this account (its mail address).
        #[arg(long)]
        assignee: Option<String>,
    },
    /// Copies of one complete draft (same account, service and answers), ready to submit, with
    /// the ids `seed-draft-0`, `seed-draft-1` …: submissions for a load generator.
    Drafts {
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// Id of the draft to copy (filled in through the form beforehand).
        #[arg(long)]
        like: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account (staff accounts are only ever created this way or by an administrator).
    /// The password is read from standard input (one line) or AMTSWEG_NEW_PASSWORD.
    Create {
        /// Mail address of the account.
        #[arg(long)]
        email: String,
        /// Role of the account.
        #[arg(long, value_enum)]
        role: Role,
        /// Language of mails to this account (de or en).
        #[arg(long, default_value = "de")]
        lang: String,
        /// Do not send the "account created" mail.
        #[arg(long)]
        no_mail: bool,
    },
    /// Remove an account's second factor (lost phone, no recovery code left) and end its
    /// sessions; a staff account sets up a new one at its next login. Audited.
    ResetMfa {
        /// Mail address of the account.
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key for one postbox and print it (the only time it is shown).
    Create {
        /// Id of the postbox the key works for.
        #[arg(long)]
        postbox: String,
        /// Name of the system using it, e.g. "Fachverfahren Parken".
        #[arg(long)]
        name: String,
        /// Comma-separated: read, acknowledge, reply, fees.
        #[arg(long, default_value = "read,acknowledge,reply,fees")]
        scopes: String,
    },
}

#[derive(Subcommand)]
enum ServiceCommand {
    /// Import a form definition (TOML, see server/forms/README.md) as a new version of its
    /// service; the service is created when it is new. Every problem is reported with its line.
    Import {
        /// The definition file.
        file: PathBuf,
    },
    /// Print a stored form definition (the current version unless --version is given).
    Export {
        /// 14-digit service key.
        key: String,
        /// Version to print.
        #[arg(long)]
        version: Option<u32>,
    },
    /// Show or set how many days after closing a case of the service is deleted.
    Retention {
        /// 14-digit service key.
        key: String,
        /// The service's own period in days.
        #[arg(long, conflicts_with = "default")]
        days: Option<i64>,
        /// Use the deployment's default (AMTSWEG_CASE_RETENTION_DAYS) again.
        #[arg(long)]
        default: bool,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Add or replace rules from a CSV file with the columns
    /// service_key,area_kind,area_code,postbox_id (area_kind: postal_code, municipality, county,
    /// state). All or nothing: one bad line refuses the file.
    Import {
        /// The CSV file.
        file: PathBuf,
    },
    /// Who handles a service for an address? Prints the postbox and the rule that matched.
    Lookup {
        /// 14-digit service key.
        #[arg(long)]
        service: String,
        /// 8-digit municipality key (AGS).
        #[arg(long)]
        ags: String,
        /// Postal code, for cities split by postal code.
        #[arg(long)]
        postal_code: Option<String>,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Replace the postal-code-to-municipality table with FILE (CSV with the columns
    /// ags, ort, plz, landkreis, bundesland, as in the public "zuordnung_plz_ort" table;
    /// leading zeros may be missing). Nothing changes unless every line is valid.
    PostalCodes {
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// Show how many mails are pending, sent and failed, and open alerts.
    Status,
}

pub fn main() -> ExitCode {
    let cli = match parse() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(cli.settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Parses the command line; values from a configuration file fill in what neither the command
/// line nor the environment set.
fn parse() -> Result<Cli, String> {
    let cli = Cli::parse();
    let Some(path) = cli.config.clone() else {
        return Ok(cli);
    };
    for (env, value) in crate::config::read_config_file(&path)? {
        if std::env::var_os(env).is_none() {
            // Single-threaded here: the runtime has not started yet.
            std::env::set_var(env, value);
        }
    }
    Ok(Cli::parse())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.settings;
    config.validate().map_err(anyhow::Error::msg)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let db = Db::connect(&config.database_url(), 2).await?;
            db.migrate().await?;
            println!("database is up to date");
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    role,
                    lang,
                    no_mail,
                },
        } => {
            let email =
                Email::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e} mail address"))?;
            let lang =
                Lang::from_code(&lang).ok_or_else(|| anyhow::anyhow!("--lang must be de or en"))?;
            let password = read_password()?;
            let db = Db::connect(&config.database_url(), 2).await?;
            db.migrate().await?;
            let user = NewUser {
                email: email.clone(),
                password,
                role,
                lang,
                verified: true,
            };
            users::create(&db, user, &config.public_url, !no_mail).await?;
            println!("created {} account {email}", role.as_str());
            Ok(())
        }
        Command::User {
            command: UserCommand::ResetMfa { email },
        } => {
            let email =
                Email::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e} mail address"))?;
            let db = Db::connect(&config.database_url(), 2).await?;
            db.migrate().await?;
            let id: String = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
                .bind(email.as_str())
                .fetch_optional(&db.pool)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no account {email}"))?;
            let user = crate::accounts::auth::load_user(&db, &id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .ok_or_else(|| anyhow::anyhow!("no account {email}"))?;
            let removed = crate::accounts::mfa::remove(
                &db,
                &user,
                "",
                crate::accounts::mfa::Removal::ByCommandLine,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            if removed {
                println!("second factor of {email} removed; its sessions have ended");
            } else {
                println!("{email} has no second factor; nothing changed");
            }
            Ok(())
        }
        Command::Seed {
            command:
                SeedCommand::Cases {
                    count,
                    postbox,
                    assignee,
                },
        } => {
            let db = Db::connect(&config.database_url(), 2).await?;
            db.migrate().await?;
            let assignee_id: Option<String> = match assignee {
                Some(email) => Some(
                    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
                        .bind(&email)
                        .fetch_optional(&db.pool)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("no account {email}"))?,
                ),
                None => None,
            };
            let started = std::time::Instant::now();
            let n = crate::seed::cases(&db, &postbox, count, assignee_id.as_deref()).await?;
            println!(
                "{n} cases seeded into {postbox} in {:.1?}",
                started.elapsed()
            );
            Ok(())
        }
        Command::Seed {
            command: SeedCommand::Drafts { count, like },
        } => {
            let db = Db::connect(&config.database_url(), 2).await?;
            db.migrate().await?;
            let n = crate::seed::drafts(&db, &like, count).await?;
            println!(
                "{n} copies of draft {like} seeded (seed-draft-0 … seed-draft-{})",
                n.saturating_sub(1)
            );
            Ok(())
        }
        Command::Demo { serve: then_serve } => {
            let db = Db::connect(&config.database_url(), 2).await?;
            db.migrate().await?;
            crate::demo::load(&db, &config.public_url).await?;
            println!("demo data loaded; demo accounts:");
            for (email, role) in crate::demo::ACCOUNTS {
                println!("  {role:<10} {email}  password: {}", crate::demo::PASSWORD);
            }
            println!(
                "staff accounts have two-factor login; add this key to an authenticator app: {}",
                crate::demo::TOTP_SECRET
            );
            drop(db);
            if then_serve {
                serve(config).await
            } else {
                Ok(())
            }
        }
        Command::Service {
            command: ServiceCommand::Import { file },
        } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let db = Db::connect(&config.database_url(), 2).await?;
            db.migrate().await?;
            let (key, version) = catalog::import(&db, &text)
                .await
                .map_err(|e| anyhow::anyhow!("{}:\n{e}", file.display()))?;
            println!("imported service {key} version {version}");
            Ok(())
        }
        Command::Service {
            command: ServiceCommand::Export { key, version },
        } => {
            let db = Db::connect(&config.database_url(), 2).await?;
            match catalog::export(&db, &key, version).await? {
                Some(text) => {
                    print!("{text}");
                    Ok(())
                }
                None => anyhow::bail!("no definition for service {key}"),
            }
        }
        Command::Service {
            command: ServiceCommand::Retention { key, days, default },
        } => crate::retention::command(&config, &key, days, default).await,
        Command::Keys { command } => crate::crypto::command::run(&config, command).await,
        Command::Backup { to } => crate::backup::command_backup(&config, &to).await,
        Command::Restore { from } => crate::backup::command_restore(&config, &from).await,
        Command::ApiKey {
            command:
                ApiKeyCommand::Create {
                    postbox,
                    name,
                    scopes,
                },
        } => {
            use crate::api::keys::{self, Scope};
            let scopes = scopes
                .split(',')
                .map(|s| {
                    Scope::parse(s.trim())
                        .ok_or_else(|| anyhow::anyhow!("--scopes: unknown scope {s:?}"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            if name.trim().is_empty() || scopes.is_empty() {
                anyhow::bail!("--name and at least one scope are needed");
            }
            let db = Db::connect(&config.database_url(), 2).await?;
            db.migrate().await?;
            let exists: Option<String> =
                sqlx::query_scalar("SELECT id FROM postboxes WHERE id = $1")
                    .bind(&postbox)
                    .fetch_optional(&db.pool)
                    .await?;
            if exists.is_none() {
                anyhow::bail!("no postbox with id {postbox:?}");
            }
            let created = keys::create(&db, &postbox, name.trim(), &scopes, None).await?;
            println!("{}", created.secret.expose());
            Ok(())
        }
        Command::Rules {
            command: RulesCommand::Import { file },
        } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let rules = routing::parse_rules(&text)
                .map_err(|e| anyhow::anyhow!("{}:\n{e}", file.display()))?;
            let db = Db::connect(&config.database_url(), 2).await?;
            db.migrate().await?;
            let n = routing::upsert_rules(&db, &rules)
                .await
                .map_err(anyhow::Error::msg)?;
            println!("imported {n} rules from {}", file.display());
            Ok(())
        }
        Command::Rules {
            command:
                RulesCommand::Lookup {
                    service,
                    ags,
                    postal_code,
                },
        } => {
            let ags = Ags::parse(&ags).ok_or_else(|| anyhow::anyhow!("--ags must be 8 digits"))?;
            let pc = postal_code
                .map(|p| {
                    PostalCode::parse(&p)
                        .ok_or_else(|| anyhow::anyhow!("--postal-code must be 5 digits"))
                })
                .transpose()?;
            let db = Db::connect(&config.database_url(), 2).await?;
            match routing::lookup(&db, &service, &ags, pc.as_ref()).await? {
                Some(r) => println!(
                    "{} – {} (postbox {}, rule: {}{})",
                    r.authority_name,
                    r.postbox_name,
                    r.postbox_id,
                    r.matched.as_str(),
                    if r.delegated { ", delegated" } else { "" }
                ),
                None => println!("no authority is responsible for service {service} in {ags}"),
            }
            Ok(())
        }
        Command::Import {
            command: ImportCommand::PostalCodes { file },
        } => {
            let f = std::fs::File::open(&file)
                .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
            let rows = crate::accounts::postal::parse(std::io::BufReader::new(f))
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let db = Db::connect(&config.database_url(), 2).await?;
            db.migrate().await?;
            let n = crate::accounts::postal::replace_all(&db, &rows).await?;
            println!(
                "imported {n} postal code/municipality pairs from {}",
                file.display()
            );
            Ok(())
        }
        Command::Mail {
            command: MailCommand::Status,
        } => {
            let db = Db::connect(&config.database_url(), 2).await?;
            for (status, n) in crate::mail::outbox::status_counts(&db).await? {
                println!("{status:<8} {n}");
            }
            for (when, message) in crate::mail::outbox::open_alerts(&db).await? {
                println!("ALERT {} {message}", crate::time::format_ms(when));
            }
            Ok(())
        }
        Command::Storage {
            command:
                StorageCommand::Clean {
                    dry_run,
                    grace_minutes,
                },
        } => {
            let db = Db::connect(&config.database_url(), 2).await?;
            let storage = config.storage()?;
            let grace = std::time::Duration::from_secs(grace_minutes * 60);
            let r = crate::storage_clean::run(&db, &storage, grace, dry_run).await?;
            let done = if dry_run { "to delete" } else { "deleted" };
            println!("files in storage        {}", r.stored);
            println!("referenced by a row     {}", r.referenced);
            println!("orphaned files          {} {done}", r.orphans);
            println!("unreferenced, recent    {} kept", r.recent);
            println!("stale staging files     {} {done}", r.staging);
            println!("rows with missing file  {}", r.missing);
            if r.failed > 0 {
                anyhow::bail!("{} orphaned files could not be deleted", r.failed);
            }
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    app.run_until_stopped().await?;
    Ok(())
}

fn read_password() -> anyhow::Result<Secret<String>> {
    if let Ok(p) = std::env::var("AMTSWEG_NEW_PASSWORD") {
        return Ok(Secret::new(p));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password (input is shown; prefer piping it in): ");
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let p = line.trim_end_matches(['\r', '\n']).to_string();
    if p.is_empty() {
        anyhow::bail!("no password given on standard input or in AMTSWEG_NEW_PASSWORD");
    }
    Ok(Secret::new(p))
}
