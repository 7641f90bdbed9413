//! Timestamps are stored as microseconds since the Unix epoch in `BIGINT` columns.

use jiff::Timestamp;

use crate::StoreError;

pub(crate) fn to_db(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn from_db(v: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(v).map_err(|_| StoreError::Corrupt(format!("timestamp {v} is out of range")))
}

pub(crate) fn opt_from_db(v: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    v.map(from_db).transpose()
}
