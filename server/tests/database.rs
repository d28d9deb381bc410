//! Database layer: migrations, schema version guard, accounts created by the command line.

mod common;

use amtsweg_app::i18n::Lang;
use amtsweg_server::accounts::users::{self, CreateUserError, NewUser};
use amtsweg_server::db::batch::Batch;
use amtsweg_server::db::{is_unique_violation, Db, DbOpenError};
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

db_test!(a_batch_writes_all_its_parts_or_none, |app| {
    let db = &app.state.db;
    for sql in [
        "CREATE TABLE t_parent (id TEXT PRIMARY KEY, note TEXT NOT NULL)",
        "CREATE TABLE t_child (id TEXT PRIMARY KEY, parent TEXT NOT NULL REFERENCES t_parent (id), n BIGINT NOT NULL)",
    ] {
        sqlx::query(sql).execute(&db.pool).await.unwrap();
    }
    let rows = |table: &'static str| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(&format!("SELECT id FROM {table} ORDER BY id"))
                .fetch_all(&pool)
                .await
                .unwrap()
        }
    };
    // A parent, its children (their foreign key sees the parent of the same batch) and a
    // delete, each part numbering its own parameters.
    let mut batch = Batch::new();
    batch
        .add("INSERT INTO t_parent (id, note) VALUES ($1, $2)")
        .bind("p1")
        .bind("it's $1, not a parameter");
    for (id, n) in [("c1", 1_i64), ("c2", 2)] {
        batch
            .add("INSERT INTO t_child (id, parent, n) VALUES ($1, $2, $3)")
            .bind(id)
            .bind("p1")
            .bind(n);
    }
    batch
        .add("INSERT INTO t_parent (id, note) VALUES ($1, '')")
        .bind("gone");
    db.write(batch).await.unwrap();
    let mut batch = Batch::new();
    batch.add("DELETE FROM t_parent WHERE id = $1").bind("gone");
    db.write(batch).await.unwrap();
    assert_eq!(rows("t_parent").await, ["p1"]);
    assert_eq!(rows("t_child").await, ["c1", "c2"]);
    let note: String = sqlx::query_scalar("SELECT note FROM t_parent WHERE id = 'p1'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(note, "it's $1, not a parameter");

    // The last part fails: the parts before it are rolled back, and the error is the
    // database's own, so callers can tell a duplicate from other failures.
    let mut batch = Batch::new();
    batch
        .add("INSERT INTO t_parent (id, note) VALUES ($1, '')")
        .bind("p2");
    batch
        .add("INSERT INTO t_child (id, parent, n) VALUES ($1, $2, $3)")
        .bind("c1")
        .bind("p2")
        .bind(3_i64);
    let err = db.write(batch).await.unwrap_err();
    assert!(is_unique_violation(&err), "{err}");
    assert_eq!(rows("t_parent").await, ["p1"]);
    assert_eq!(rows("t_child").await, ["c1", "c2"]);

    // A part that breaks a foreign key fails the batch the same way.
    let mut batch = Batch::new();
    batch
        .add("INSERT INTO t_parent (id, note) VALUES ($1, '')")
        .bind("p3");
    batch
        .add("INSERT INTO t_child (id, parent, n) VALUES ($1, $2, $3)")
        .bind("c3")
        .bind("nobody")
        .bind(3_i64);
    assert!(db.write(batch).await.is_err());
    assert_eq!(rows("t_parent").await, ["p1"]);

    // The writer is free and outside any transaction afterwards.
    let mut batch = Batch::new();
    batch
        .add("INSERT INTO t_parent (id, note) VALUES ($1, '')")
        .bind("p4");
    db.write(batch).await.unwrap();
    let mut tx = db.begin_write().await.unwrap();
    sqlx::query("DELETE FROM t_parent WHERE id = 'p4'")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(rows("t_parent").await, ["p1"]);
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
