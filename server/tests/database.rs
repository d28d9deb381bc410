//! Database layer: migrations, schema version guard, accounts created by the command line.

mod common;

use amtsweg_app::i18n::Lang;
use amtsweg_server::accounts::users::{self, CreateUserError, NewUser};
use amtsweg_server::db::{Db, DbOpenError};
use amtsweg_server::domain::{Email, Role};
use amtsweg_server::secret::Secret;
use common::{Backend, TestApp};

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: Email::parse(email).unwrap(),
        password: Secret::new("a long enough passphrase".into()),
        role: Role::Caseworker,
        lang: Lang::En,
        verified: true,
    }
}

db_test!(created_accounts_store_argon2id_and_queue_a_mail, |app| {
    users::create(
        &app.state.db,
        new_user("Case.Worker@Example.org"),
        "http://localhost",
        true,
    )
    .await
    .unwrap();
    let (hash, role): (String, String) =
        sqlx::query_as("SELECT password_hash, role FROM users WHERE email = $1")
            .bind("case.worker@example.org")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert_eq!(role, "caseworker");
    let subject: String =
        sqlx::query_scalar("SELECT subject FROM mail_outbox WHERE recipient = $1")
            .bind("case.worker@example.org")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(subject, "Your Amtsweg account has been set up");
    // The same address again is refused and queues no second mail.
    let again = users::create(
        &app.state.db,
        new_user("case.worker@example.org"),
        "http://localhost",
        true,
    )
    .await;
    assert!(matches!(again, Err(CreateUserError::Exists)));
    let mails: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(mails, 1);
});

db_test!(
    short_passwords_are_refused_before_anything_is_stored,
    |app| {
        let mut u = new_user("short@example.org");
        u.password = Secret::new("too short".into());
        assert!(matches!(
            users::create(&app.state.db, u, "http://localhost", true).await,
            Err(CreateUserError::Password(_))
        ));
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        assert_eq!(n, 0);
    }
);

db_test!(
    migrations_are_idempotent_and_newer_schemas_are_refused,
    |app| {
        let db = app.state.db.clone();
        db.migrate()
            .await
            .expect("a second run applies nothing and succeeds");
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99991231000000, 'from the future', TRUE, $1, 0)",
        )
        .bind(vec![0u8; 48])
        .execute(&db.pool)
        .await
        .unwrap();
        match db.migrate().await {
            Err(
                e @ DbOpenError::NewerSchema {
                    found: 99991231000000,
                    ..
                },
            ) => {
                assert!(e.to_string().contains("newer Amtsweg"), "{e}");
            }
            other => panic!("expected NewerSchema, got {other:?}"),
        }
    }
);

db_test!(sqlite_runs_in_wal_mode_with_foreign_keys, |app| {
    if app.backend != Backend::Sqlite {
        return;
    }
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(fk, 1);
    let err = sqlx::query("INSERT INTO postboxes (id, authority_id, name, email, created_at) VALUES ('p', 'missing', 'n', 'e', 0)")
        .execute(&app.state.db.pool)
        .await;
    assert!(err.is_err(), "foreign keys are enforced");
});

#[tokio::test]
async fn unreachable_database_gives_a_clear_error() {
    let err = Db::connect("postgres://nobody@127.0.0.1:1/none", 1)
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("cannot open the database"),
        "{err}"
    );
    let err = Db::connect("mysql://x", 1).await.unwrap_err();
    assert!(matches!(err, DbOpenError::UnsupportedUrl));
    let err = Db::connect("sqlite:///proc/forbidden/amtsweg.db", 1)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("data directory") || err.to_string().contains("cannot open"),
        "{err}"
    );
}
