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
}
