//! `amtsweg keys …`: generating deployment keys, status, rotation and the encryption of data
//! stored before encryption existed.

use crate::config::Config;
use crate::db::Db;

#[derive(clap::Subcommand, Debug)]
pub enum KeysCommand {
    /// Print a new random deployment key as `id:base64`, to add to the key file or
    /// AMTSWEG_ENCRYPTION_KEYS (first = active).
    Generate {
        /// Its id; default `k` + the current Unix time.
        #[arg(long)]
        id: Option<String>,
    },
    /// The configured deployment keys and how many data keys each wraps.
    Status,
    /// Re-wrap every data key with the active (first) deployment key. Afterwards, keys no
    /// longer listed by `status` can be removed from the configuration.
    Rotate,
    /// Encrypt answers, messages, notes, TOTP keys and files stored before encryption.
    EncryptExisting,
}

pub async fn run(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    if let KeysCommand::Generate { id } = command {
        let id =
            id.unwrap_or_else(|| format!("k{}", time::OffsetDateTime::now_utc().unix_timestamp()));
        println!(
            "{}",
            super::Keyring::generate_line(&id).map_err(anyhow::Error::msg)?
        );
        return Ok(());
    }
    let keyring = config.keyring().map_err(anyhow::Error::msg)?;
    let db = Db::connect(&config.database_url(), 2)
        .await?
        .with_keys(keyring.clone());
    db.migrate().await?;
    match command {
        KeysCommand::Generate { .. } => {}
        KeysCommand::Status => {
            let usage = super::admin::usage(&db).await?;
            for (i, id) in keyring.ids().enumerate() {
                let n = usage.iter().find(|(k, _)| k == id).map_or(0, |(_, n)| *n);
                let active = if i == 0 { " (active)" } else { "" };
                println!("{id}{active}: wraps {n} data keys");
            }
            for (id, n) in usage.iter().filter(|(k, _)| keyring.get(k).is_none()) {
                println!("{id} (NOT CONFIGURED): wraps {n} data keys, which cannot be read");
            }
        }
        KeysCommand::Rotate => {
            let r = super::admin::rotate(&db).await?;
            println!(
                "re-wrapped {} data keys with {:?}; {} were already",
                r.rewrapped,
                keyring.active().id,
                r.current
            );
            let old: Vec<&str> = keyring.ids().skip(1).collect();
            if !old.is_empty() {
                println!(
                    "no data key needs {} any more: remove it from the configuration once every instance runs with {:?} first",
                    old.join(", "),
                    keyring.active().id
                );
            }
        }
        KeysCommand::EncryptExisting => {
            let storage = config.storage()?;
            let r = super::admin::encrypt_existing(&db, &storage).await?;
            println!(
                "encrypted: {} drafts, {} cases, {} messages, {} notes, {} TOTP keys, {} files",
                r.drafts, r.cases, r.messages, r.notes, r.totp, r.files
            );
        }
    }
    Ok(())
}
