//! Tests of the database layer that need a real SQLite file.

/// A fresh SQLite database URL in a directory of its own; remove the directory afterwards.
pub(crate) fn scratch(name: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("amtsweg-{name}-{}", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}/{name}.db", dir.display());
    (dir, url)
}

mod statistics_tests {
    use super::super::*;

    #[tokio::test]
    async fn analyze_keeps_row_estimates_but_no_value_samples() {
        let (dir, url) = super::scratch("stats");
        let db = Db::connect(&url, 1).await.unwrap();
        for sql in [
            "CREATE TABLE t (a TEXT, b INTEGER)",
            "CREATE INDEX t_a ON t (a, b)",
            "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
             INSERT INTO t SELECT 'k' || (i % 7), i FROM n",
            // What a STAT4 build of SQLite leaves behind when `ANALYZE` runs outside Amtsweg.
            "ANALYZE",
        ] {
            sqlx::query(sql).execute(&db.pool).await.unwrap();
        }
        let count = |table: &'static str| {
            let pool = db.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        assert!(
            count("sqlite_stat4").await > 0,
            "the bundled SQLite samples"
        );
        db.migrate().await.unwrap();
        assert_eq!(
            count("sqlite_stat4").await,
            0,
            "a start removes the samples"
        );
        db.analyze().await.unwrap();
        assert!(count("sqlite_stat1").await > 0);
        assert_eq!(count("sqlite_stat4").await, 0);
        db.pool.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }
}

mod placeholder_tests {
    use super::super::*;

    #[test]
    fn numbered_for_postgres_positional_for_sqlite() {
        let mut p = Placeholders {
            backend: Backend::Postgres,
            next: 0,
        };
        assert_eq!(p.rows(2, 2), "($1, $2), ($3, $4)");
        assert_eq!(p.one(), "$5");
        let mut p = Placeholders {
            backend: Backend::Sqlite,
            next: 0,
        };
        assert_eq!(p.rows(1, 3), "(?, ?, ?)");
        assert_eq!(p.list(2), "?, ?");
    }
}

mod writer_tests {
    use super::super::*;

    /// SQLite writers take the write lock in the order they asked for it, and reads go on while
    /// they wait. With SQLite's busy handler instead, the writer that had waited longest slept
    /// the longest steps and usually came last (submissions' p99 above a second).
    #[tokio::test]
    async fn sqlite_writers_take_turns_in_arrival_order() {
        let (dir, url) = super::scratch("writer");
        let db = Db::connect(&url, 4).await.unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER)")
            .execute(&db.pool)
            .await
            .unwrap();
        let first = db.begin_write().await.unwrap();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut writers = Vec::new();
        for i in 0..6_i64 {
            let (db, order) = (db.clone(), order.clone());
            writers.push(tokio::spawn(async move {
                let mut tx = db.begin_write().await.unwrap();
                sqlx::query("INSERT INTO t (n) VALUES ($1)")
                    .bind(i)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                order.lock().unwrap().push(i);
                tx.commit().await.unwrap();
            }));
            // Each writer asks after the one before it.
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(rows, 0, "a read while every writer waits");
        tokio::time::sleep(Duration::from_millis(300)).await;
        first.commit().await.unwrap();
        for w in writers {
            w.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..6).collect::<Vec<_>>());
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A transaction that SQLite ended by itself (simulated: a `ROLLBACK` inside it) must not
    /// leave the one writer connection refusing every later transaction.
    #[tokio::test]
    async fn the_writer_recovers_from_a_transaction_sqlite_ended() {
        let (dir, url) = super::scratch("writer-lost");
        let db = Db::connect(&url, 2).await.unwrap();
        let mut tx = db.begin_write().await.unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER); ROLLBACK")
            .execute(&mut *tx)
            .await
            .unwrap();
        assert!(tx.commit().await.is_err());
        let mut tx = db.begin_write().await.unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }
}

mod group_tests {
    use super::super::batch::Batch;
    use super::super::*;

    async fn count(db: &Db, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
    }

    /// Starts one write per batch while the writer is held, so that they queue and then share
    /// one transaction; returns each write's result in the order of the batches.
    /// With each failed write comes what a read right after it saw of `t` (a failing batch
    /// looks for the row it collided with, as a repeated submission looks for its case).
    async fn queued(db: &Db, batches: Vec<Batch>) -> Vec<Result<(), (sqlx::Error, i64)>> {
        let held = db.begin_write().await.unwrap();
        let mut writes = Vec::new();
        for batch in batches {
            let db = db.clone();
            writes.push(tokio::spawn(async move {
                match db.write(batch).await {
                    Ok(()) => Ok(()),
                    Err(e) => Err((e, count(&db, "SELECT COUNT(*) FROM t").await)),
                }
            }));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        held.commit().await.unwrap();
        let mut results = Vec::new();
        for w in writes {
            results.push(w.await.unwrap());
        }
        results
    }

    fn insert(n: i64, key: &str) -> Batch {
        let mut b = Batch::new();
        b.add("INSERT INTO log (n) VALUES ($1)").bind(n);
        b.add("INSERT INTO t (k, n) VALUES ($1, $2)")
            .bind(key.to_string())
            .bind(n);
        b
    }

    async fn scratch_db(name: &str) -> (std::path::PathBuf, Db) {
        let (dir, url) = super::scratch(name);
        let db = Db::connect(&url, 2).await.unwrap();
        for sql in [
            "CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER)",
            "CREATE TABLE log (n INTEGER)",
        ] {
            sqlx::query(sql).execute(&db.pool).await.unwrap();
        }
        (dir, db)
    }

    #[tokio::test]
    async fn waiting_batches_share_a_commit_and_a_failing_one_fails_alone() {
        let (dir, db) = scratch_db("group").await;
        // Batch 4 repeats batch 2's key: its second part fails after its first was written.
        let batches = (0..8)
            .map(|n| insert(n, &format!("k{}", if n == 4 { 2 } else { n })))
            .collect();
        let before = db.group.commits();
        let results = queued(&db, batches).await;
        for (n, result) in results.iter().enumerate() {
            match result {
                Err((e, seen)) if n == 4 => {
                    assert!(is_unique_violation(e), "{e}");
                    assert_eq!(*seen, 7, "answered only after the group's commit");
                }
                other => assert!(other.is_ok(), "batch {n}: {other:?}"),
            }
        }
        assert_eq!(count(&db, "SELECT COUNT(*) FROM t").await, 7);
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM log WHERE n = 4").await,
            0,
            "the failing batch's first part is rolled back with it"
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM log").await, 7);
        let commits = db.group.commits() - before;
        assert!(commits < 8, "{commits} commits for 8 queued batches");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// When SQLite ends the whole transaction (here a batch does it itself; in production a full
    /// disk or an I/O error), no batch of the group may be reported as written.
    #[tokio::test]
    async fn a_lost_transaction_fails_every_batch_of_its_group() {
        let (dir, db) = scratch_db("group-lost").await;
        let mut batches: Vec<Batch> = (0..6).map(|n| insert(n, &format!("k{n}"))).collect();
        batches[3].add("ROLLBACK");
        let results = queued(&db, batches).await;
        let written = count(&db, "SELECT COUNT(*) FROM t").await;
        let reported = results.iter().filter(|r| r.is_ok()).count() as i64;
        assert_eq!(written, reported, "{results:?}");
        assert!(results[3].is_err());
        // The writer is free again, and a batch on its own is written.
        db.write(insert(10, "k10")).await.unwrap();
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM t WHERE k = 'k10'").await,
            1
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A panic while writing a group fails that group only: the writer thread goes on, and
    /// the next write is committed by it again, not by the fallback of a transaction of its own.
    #[tokio::test]
    async fn the_writer_survives_a_panic_in_a_group() {
        let (dir, db) = scratch_db("group-panic").await;
        let mut batches: Vec<Batch> = (0..4).map(|n| insert(n, &format!("k{n}"))).collect();
        batches[2].panics = true;
        let results = queued(&db, batches).await;
        let written = count(&db, "SELECT COUNT(*) FROM t").await;
        let reported = results.iter().filter(|r| r.is_ok()).count() as i64;
        assert_eq!(written, reported, "{results:?}");
        assert!(
            matches!(results[2], Err((sqlx::Error::WorkerCrashed, _))),
            "{results:?}"
        );
        let before = db.group.commits();
        db.write(insert(10, "k10")).await.unwrap();
        assert_eq!(
            db.group.commits(),
            before + 1,
            "written by the writer thread"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

mod read_tests {
    use super::super::read::Arg;
    use super::super::*;

    /// Inline reads (SQLite) give what the pool gives, bind `$n` by name in any order of first
    /// use, skip unused parameters and see writes committed through the pool at once.
    #[tokio::test]
    async fn inline_reads_match_the_pool_and_see_every_commit() {
        let (dir, url) = super::scratch("read");
        let db = Db::connect(&url, 2).await.unwrap();
        sqlx::query("CREATE TABLE t (k TEXT NOT NULL, n INTEGER NOT NULL, o TEXT, p INTEGER)")
            .execute(&db.pool)
            .await
            .unwrap();
        let insert = |k: &'static str, n: i64, o: Option<&'static str>, p: Option<i64>| {
            let pool = db.pool.clone();
            async move {
                sqlx::query("INSERT INTO t VALUES ($1, $2, $3, $4)")
                    .bind(k)
                    .bind(n)
                    .bind(o)
                    .bind(p)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        };
        insert("a", 1, Some("x"), None).await;
        insert("b", 2, None, Some(-7)).await;
        // $3 is used before $1; $2 not at all.
        let sql = "SELECT k, n, o, p FROM t WHERE n >= $3 AND k <> $1 ORDER BY k";
        let args: Vec<Arg> = vec!["zzz".into(), "unused".into(), 1i64.into()];
        let read = |db: &Db| {
            let db = db.clone();
            let args = args.clone();
            async move {
                db.read(sql, &args)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| {
                        (
                            r.text(0).unwrap(),
                            r.int(1).unwrap(),
                            r.opt_text(2).unwrap(),
                            r.opt_int(3).unwrap(),
                        )
                    })
                    .collect::<Vec<_>>()
            }
        };
        let pooled: Vec<(String, i64, Option<String>, Option<i64>)> = sqlx::query_as(sql)
            .bind("zzz")
            .bind("unused")
            .bind(1i64)
            .fetch_all(&db.pool)
            .await
            .unwrap();
        assert_eq!(read(&db).await, pooled);
        assert_eq!(pooled.len(), 2);
        insert("c", 3, Some("y"), Some(0)).await;
        assert_eq!(
            read(&db).await.len(),
            3,
            "a reused connection sees the commit"
        );

        let row = db.read("SELECT NULL, 'text'", &[]).await.unwrap();
        assert!(row[0].int(0).is_err(), "NULL where a value is required");
        assert!(row[0].int(1).is_err(), "text is not an integer");
        assert!(row[0].text(2).is_err(), "no such column");
        assert!(db.read("SELECT nope FROM t", &[]).await.is_err());
        assert!(
            db.read("INSERT INTO t VALUES ('d', 4, NULL, NULL)", &[])
                .await
                .is_err(),
            "the inline connections only read"
        );
        db.pool.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }
}
