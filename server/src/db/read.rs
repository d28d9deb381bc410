//! Reads on the request's own thread, for the back office's busiest pages on SQLite.
//!
//! sqlx runs every SQLite connection on a thread of its own: each statement is handed to that
//! thread and each result row handed back, and every hand-off puts one thread to sleep and
//! wakes another. A profile of the caseworker's inbox (three statements, about thirty rows)
//! found 40 % of its CPU time in the kernel switching threads (BENCHMARKS.md). An indexed read
//! that stops after one page takes SQLite tens of microseconds, less than a switch costs,
//! so such reads run here directly on the calling thread, on connections of their own to the
//! same file (WAL: readers see every committed write and never block the writer).
//!
//! Only statements bounded by their `LIMIT` and indexes belong here: while one runs, the
//! runtime thread does nothing else. On PostgreSQL the same call goes through sqlx as any
//! other query.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::types::ValueRef;
use sqlx::any::AnyRow;

use super::Db;

/// A parameter of a read: `$1`, `$2`, … in the SQL, in this order.
#[derive(Clone, Debug)]
pub enum Arg {
    Text(String),
    Int(i64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_string())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}

impl From<i64> for Arg {
    fn from(i: i64) -> Self {
        Arg::Int(i)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Value {
    Null,
    Int(i64),
    Text(String),
}

/// A result row from either database, read by column position.
pub struct Row(Inner);

enum Inner {
    Any(AnyRow),
    Sqlite(Vec<Value>),
}

fn decode_err(i: usize, wanted: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: i.to_string(),
        source: format!("expected {wanted}").into(),
    }
}

impl Row {
    /// Column `i` of an SQLite row; `None` for a PostgreSQL row (read through sqlx instead).
    fn value(&self, i: usize) -> sqlx::Result<Option<&Value>> {
        match &self.0 {
            Inner::Sqlite(v) => v
                .get(i)
                .map(Some)
                .ok_or(sqlx::Error::ColumnIndexOutOfBounds {
                    index: i,
                    len: v.len(),
                }),
            Inner::Any(_) => Ok(None),
        }
    }

    pub fn text(&self, i: usize) -> sqlx::Result<String> {
        self.opt_text(i)?.ok_or_else(|| decode_err(i, "text"))
    }

    pub fn opt_text(&self, i: usize) -> sqlx::Result<Option<String>> {
        match (&self.0, self.value(i)?) {
            (Inner::Any(r), _) => sqlx::Row::try_get(r, i),
            (_, Some(Value::Text(s))) => Ok(Some(s.clone())),
            (_, Some(Value::Int(_))) => Err(decode_err(i, "text")),
            _ => Ok(None),
        }
    }

    pub fn int(&self, i: usize) -> sqlx::Result<i64> {
        self.opt_int(i)?.ok_or_else(|| decode_err(i, "an integer"))
    }

    pub fn opt_int(&self, i: usize) -> sqlx::Result<Option<i64>> {
        match (&self.0, self.value(i)?) {
            (Inner::Any(r), _) => sqlx::Row::try_get(r, i),
            (_, Some(Value::Int(n))) => Ok(Some(*n)),
            (_, Some(Value::Text(_))) => Err(decode_err(i, "an integer")),
            _ => Ok(None),
        }
    }
}

/// Idle connections kept; more are opened while more threads read at once, and closed after.
const IDLE: usize = 8;
/// Statements kept prepared per connection: the inbox builds its SQL from the filters used.
const PREPARED: usize = 64;

/// Connections for inline reads of one SQLite file.
pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

impl Readers {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        let conn = rusqlite::Connection::open(&self.path)?;
        // As the pool's connections: wait out a checkpoint instead of failing at once.
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "query_only", true)?;
        conn.set_prepared_statement_cache_capacity(PREPARED);
        Ok(conn)
    }

    fn run(&self, sql: &str, args: &[Arg]) -> rusqlite::Result<Vec<Row>> {
        let taken = self.idle.lock().map(|mut idle| idle.pop()).unwrap_or(None);
        let conn = match taken {
            Some(c) => c,
            None => self.open()?,
        };
        let rows = query(&conn, sql, args);
        // A connection is reused after a failed statement too: the statement is reset on drop.
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < IDLE {
                idle.push(conn);
            }
        }
        rows
    }
}

fn query(conn: &rusqlite::Connection, sql: &str, args: &[Arg]) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(sql)?;
    // SQLite numbers `$n` parameters in order of first appearance and takes them as names, so
    // each is bound by its name; a parameter the statement does not use is skipped.
    for (n, arg) in args.iter().enumerate() {
        if let Some(index) = stmt.parameter_index(&format!("${}", n + 1))? {
            match arg {
                Arg::Text(s) => stmt.raw_bind_parameter(index, s.as_str())?,
                Arg::Int(i) => stmt.raw_bind_parameter(index, i)?,
            }
        }
    }
    let columns = stmt.column_count();
    let mut out = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(r) = rows.next()? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(match r.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::Int(n),
                ValueRef::Text(t) => Value::Text(
                    std::str::from_utf8(t)
                        .map_err(rusqlite::Error::Utf8Error)?
                        .to_string(),
                ),
                other => {
                    return Err(rusqlite::Error::InvalidColumnType(
                        i,
                        String::new(),
                        other.data_type(),
                    ))
                }
            });
        }
        out.push(Row(Inner::Sqlite(values)));
    }
    Ok(out)
}

/// SQLite's "busy" and "locked" are the database being occupied: the caller gets "try again
/// shortly" as for a pool timeout. Everything else is a fault.
fn to_sqlx(e: rusqlite::Error) -> sqlx::Error {
    use rusqlite::ErrorCode;
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
        {
            sqlx::Error::Io(std::io::Error::other(e.to_string()))
        }
        _ => sqlx::Error::Protocol(format!("inline SQLite read: {e}")),
    }
}

impl Db {
    /// Runs a bounded read and returns all its rows: inline on SQLite (see the module), through
    /// the pool on PostgreSQL. The SQL is the same for both, with `$n` parameters.
    pub async fn read(&self, sql: &str, args: &[Arg]) -> sqlx::Result<Vec<Row>> {
        match &self.readers {
            Some(readers) => readers.run(sql, args).map_err(to_sqlx),
            None => {
                let mut q = sqlx::query(sql);
                for arg in args {
                    q = match arg {
                        Arg::Text(s) => q.bind(s.clone()),
                        Arg::Int(i) => q.bind(*i),
                    };
                }
                Ok(q.fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|r| Row(Inner::Any(r)))
                    .collect())
            }
        }
    }
}
