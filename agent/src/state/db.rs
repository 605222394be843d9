//! What the store's queries see of a database, whichever the engine: [`Db`] runs one statement with
//! [`Value`] arguments and returns [`Row`]s of values. The queries are written once, with SQLite's
//! `?N` placeholders (the PostgreSQL backend numbers them `$N`), in the SQL both engines speak;
//! only the schema's migrations are written per engine.

/// A value passed to or read from a statement. Both engines store the state's columns as these four
/// kinds (booleans are the integers 0 and 1, times RFC 3339 text, documents JSON text).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::Int(i64::from(v))
            }
        }
    )*};
}
from_int!(i64, i32, u32, u8, bool);

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl From<&Option<String>> for Value {
    fn from(v: &Option<String>) -> Value {
        v.as_deref().into()
    }
}

/// The arguments of a statement: `args![a, b]` is `&[Value::from(a), Value::from(b)]`.
macro_rules! args {
    ($($v:expr),* $(,)?) => {
        &[$($crate::state::Value::from($v)),*]
    };
}
pub(crate) use args;

/// One row of a result. The getters take the value out (a report is read once, not copied).
#[derive(Debug, Default)]
pub struct Row(pub(crate) Vec<Value>);

impl Row {
    fn take(&mut self, i: usize) -> Value {
        self.0
            .get_mut(i)
            .map(|v| std::mem::replace(v, Value::Null))
            .unwrap_or(Value::Null)
    }

    fn wrong(i: usize, want: &str, got: &Value) -> DbError {
        DbError::Type(format!("column {i}: expected {want}, found {got:?}"))
    }

    pub fn opt_int(&mut self, i: usize) -> Result<Option<i64>, DbError> {
        match self.take(i) {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(v)),
            v => Err(Row::wrong(i, "an integer", &v)),
        }
    }

    pub fn int(&mut self, i: usize) -> Result<i64, DbError> {
        self.opt_int(i)?
            .ok_or_else(|| Row::wrong(i, "an integer", &Value::Null))
    }

    /// A small non-negative integer (a level, a count of attempts).
    pub fn opt_small<T: TryFrom<i64>>(&mut self, i: usize) -> Result<Option<T>, DbError> {
        self.opt_int(i)?
            .map(|v| T::try_from(v).map_err(|_| Row::wrong(i, "a small integer", &Value::Int(v))))
            .transpose()
    }

    pub fn small<T: TryFrom<i64>>(&mut self, i: usize) -> Result<T, DbError> {
        self.opt_small(i)?
            .ok_or_else(|| Row::wrong(i, "an integer", &Value::Null))
    }

    pub fn opt_real(&mut self, i: usize) -> Result<Option<f64>, DbError> {
        match self.take(i) {
            Value::Null => Ok(None),
            Value::Real(v) => Ok(Some(v)),
            Value::Int(v) => Ok(Some(v as f64)),
            v => Err(Row::wrong(i, "a number", &v)),
        }
    }

    pub fn real(&mut self, i: usize) -> Result<f64, DbError> {
        self.opt_real(i)?
            .ok_or_else(|| Row::wrong(i, "a number", &Value::Null))
    }

    pub fn opt_text(&mut self, i: usize) -> Result<Option<String>, DbError> {
        match self.take(i) {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v)),
            v => Err(Row::wrong(i, "text", &v)),
        }
    }

    pub fn text(&mut self, i: usize) -> Result<String, DbError> {
        self.opt_text(i)?
            .ok_or_else(|| Row::wrong(i, "text", &Value::Null))
    }

    /// The values themselves (for `state copy`, which moves rows as they are).
    pub fn into_values(self) -> Vec<Value> {
        self.0
    }
}

/// One connection, or one transaction, of either engine.
pub trait Db {
    /// Runs a statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, DbError>;
    /// Runs a query; returns every row.
    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError>;
    /// The first row of a query, if any.
    fn query_one(&mut self, sql: &str, args: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, args)?.into_iter().next())
    }
}

/// What went wrong in the database, without its name (a [`super::StateError`] adds it).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", full_message(.0))]
    Postgres(#[from] postgres::Error),
    #[error("{0}")]
    Type(String),
    #[error("holds a report that cannot be read: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("has schema version {found}, newer than this agent's {known}: run the newer agent, or restore a backup made for this version")]
    Newer { found: usize, known: usize },
    #[error("cannot be written: {0}")]
    NotWritable(Box<DbError>),
    #[error("cannot create its directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Connect(String),
    /// A write of a replica that no longer holds its lease (another took over): refused.
    #[error("{0}")]
    Fenced(String),
}

/// An error with its causes: the client's `Display` of a server error is only "db error", the
/// server's message is its source.
fn full_message(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

impl DbError {
    /// Whether the message reads "state database NAME: …" (else "state database NAME has …").
    pub(crate) fn needs_colon(&self) -> bool {
        !matches!(
            self,
            DbError::Corrupt(_) | DbError::Newer { .. } | DbError::NotWritable(_)
        )
    }
}
