//! Several writes sent as one statement, so a busy write path makes one round trip instead of
//! one per write.
//!
//! Why: on SQLite every write transaction holds the one writer connection, and under load most
//! of that time was spent between statements, waiting for the task that sends the next one to
//! get a CPU, not in SQLite. In the submission benchmark the writer thread was busy 31 % of the
//! time a transaction held it (BENCHMARKS.md). A batch holds the writer for its own work only.
//!
//! Each part is written with its own `$1, $2, …` and bound in that order; the batch renumbers
//! them. On SQLite the parts run one after another in one `sqlite3` call chain; on PostgreSQL
//! they become data-modifying `WITH` clauses of one statement. All parts of a PostgreSQL batch
//! see the database as it was before the statement, so a part must not read what an earlier
//! part writes (foreign keys are checked at the end and do see it).

use sqlx::any::AnyArguments;
use sqlx::{Any, AnyConnection, Arguments, Encode, Type};

use super::{Backend, Db};

#[derive(Default)]
pub struct Batch {
    parts: Vec<String>,
    args: AnyArguments<'static>,
    /// The first value that could not be encoded; reported when the batch runs.
    error: Option<String>,
    /// Makes the SQLite writer panic on this batch, for the test that it survives one.
    #[cfg(test)]
    pub(super) panics: bool,
}

/// One statement of a batch, taking its values in the order of its parameters.
pub struct Part<'b> {
    batch: &'b mut Batch,
}

impl Part<'_> {
    pub fn bind<T>(self, value: T) -> Self
    where
        T: Encode<'static, Any> + Type<Any> + Send + 'static,
    {
        if let Err(e) = self.batch.args.add(value) {
            self.batch.error.get_or_insert_with(|| e.to_string());
        }
        self
    }
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a statement; bind its values on the returned part.
    pub fn add(&mut self, sql: &str) -> Part<'_> {
        let offset = self.args.len();
        self.parts.push(renumber(sql, offset));
        Part { batch: self }
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    fn sql(&self, backend: Backend) -> String {
        match (backend, self.parts.split_last()) {
            (_, None) => String::new(),
            (Backend::Sqlite, _) => self.parts.join(";\n"),
            (Backend::Postgres, Some((last, []))) => last.clone(),
            (Backend::Postgres, Some((last, rest))) => {
                let clauses: Vec<String> = rest
                    .iter()
                    .enumerate()
                    .map(|(i, part)| format!("w{i} AS ({part})"))
                    .collect();
                format!("WITH {}\n{last}", clauses.join(",\n"))
            }
        }
    }

    fn checked(self) -> sqlx::Result<Self> {
        match &self.error {
            Some(e) => Err(sqlx::Error::Encode(e.clone().into())),
            None => Ok(self),
        }
    }

    /// Runs the batch inside a transaction the caller holds (one round trip).
    pub async fn run_in(self, conn: &mut AnyConnection) -> sqlx::Result<()> {
        let batch = self.checked()?;
        if batch.is_empty() {
            return Ok(());
        }
        let sql = batch.sql(Backend::of(conn));
        sqlx::query_with(&sql, batch.args).execute(conn).await?;
        Ok(())
    }

    /// Runs the batch inside the savepoint `amtsweg_batch`, released at its end, in one round
    /// trip (SQLite, for group commit). When it fails, the caller rolls back to the savepoint.
    pub(super) async fn run_in_savepoint(self, conn: &mut AnyConnection) -> sqlx::Result<()> {
        let batch = self.checked()?;
        let sql = format!(
            "SAVEPOINT amtsweg_batch;\n{};\nRELEASE amtsweg_batch",
            batch.sql(Backend::Sqlite)
        );
        sqlx::query_with(&sql, batch.args).execute(conn).await?;
        Ok(())
    }
}

impl Db {
    /// Runs the batch as one atomic write: on PostgreSQL a single statement (atomic by itself,
    /// one round trip), on SQLite in a savepoint of a write transaction that batches waiting at
    /// the same time share (`group`). Nothing of it is written when a part fails, and the error
    /// is the database's own. Once called, the write happens even if the caller is cancelled.
    pub async fn write(&self, batch: Batch) -> sqlx::Result<()> {
        let batch = batch.checked()?;
        if batch.is_empty() {
            return Ok(());
        }
        match self.backend {
            Backend::Postgres => {
                let sql = batch.sql(Backend::Postgres);
                sqlx::query_with(&sql, batch.args)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
            Backend::Sqlite => match self.group.write(self.writer(), batch).await {
                Ok(written) => written,
                // The writer thread could not be started: a transaction of its own instead.
                Err(batch) => {
                    let mut tx = self.begin_write().await?;
                    batch.run_in(&mut tx).await?;
                    tx.commit().await
                }
            },
        }
    }
}

/// Adds `offset` to every `$n` parameter outside string literals and quoted names.
pub fn renumber(sql: &str, offset: usize) -> String {
    if offset == 0 {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                // A doubled quote inside a literal reads as closing and reopening: same result.
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                match digits.parse::<usize>() {
                    Ok(n) => out.push_str(&format!("${}", n + offset)),
                    Err(_) => {
                        out.push('$');
                        out.push_str(&digits);
                    }
                }
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parameters_move_by_the_values_before_them() {
        assert_eq!(
            renumber("INSERT INTO t (a, b) VALUES ($1, $2)", 3),
            "INSERT INTO t (a, b) VALUES ($4, $5)"
        );
        assert_eq!(
            renumber(
                "SELECT '$1', \"$2\", $1 WHERE x = 'it''s $3' AND y = $10",
                5
            ),
            "SELECT '$1', \"$2\", $6 WHERE x = 'it''s $3' AND y = $15"
        );
        assert_eq!(renumber("SELECT $a, $", 2), "SELECT $a, $");
    }

    #[test]
    fn parts_join_for_each_database() {
        let mut b = Batch::new();
        b.add("INSERT INTO a (x) VALUES ($1)").bind("one");
        b.add("DELETE FROM b WHERE y = $1 AND z = $2")
            .bind(2_i64)
            .bind("three");
        assert_eq!(
            b.sql(Backend::Sqlite),
            "INSERT INTO a (x) VALUES ($1);\nDELETE FROM b WHERE y = $2 AND z = $3"
        );
        assert_eq!(
            b.sql(Backend::Postgres),
            "WITH w0 AS (INSERT INTO a (x) VALUES ($1))\nDELETE FROM b WHERE y = $2 AND z = $3"
        );
        assert_eq!(b.args.len(), 3);
    }

    proptest! {
        #[test]
        fn renumbering_adds_the_offset_to_each_parameter(
            nums in proptest::collection::vec(1usize..200, 0..12),
            offset in 0usize..500,
        ) {
            let sql: Vec<String> = nums.iter().map(|n| format!("${n}")).collect();
            let moved: Vec<String> = nums.iter().map(|n| format!("${}", n + offset)).collect();
            prop_assert_eq!(renumber(&sql.join(", "), offset), moved.join(", "));
        }

        #[test]
        fn text_without_parameters_stays_as_it_is(sql in "[^$]{0,80}", offset in 0usize..50) {
            prop_assert_eq!(renumber(&sql, offset), sql);
        }
    }
}
