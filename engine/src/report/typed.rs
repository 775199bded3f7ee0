//! What a column's Arrow type adds to, or takes from, its describe statistics.
//!
//! The statistics are computed on the kernel-native values (`store/widen.rs`): booleans as 0/1, temporal
//! values as integers in their unit. This is where they get their meaning back when a result is finished:
//!
//! | type                          | adds                                   | removes                          |
//! |-------------------------------|----------------------------------------|----------------------------------|
//! | boolean                       | `true_count`, `false_count`            |                                  |
//! | date, time, timestamp         | `min_iso`, `max_iso` (ISO 8601)        | `sum` and the moments: a sum of instants means nothing |
//! | duration                      | `min_iso`, `max_iso` (ISO 8601)        |                                  |
//!
//! Decimal and string columns have states of their own (`stats/describe_{decimal,bytes}.rs`) that set
//! their text statistics themselves. A [`Flavor`] is recorded with the column in plans and state files, so
//! `tally merge` finishes a saved state the way the run would have.

use arrow_schema::DataType;
use serde::{Deserialize, Serialize};

use super::iso8601::{self, Unit};
use crate::stats::{Extra, Summary, Value};

/// The presentation of a column's statistics that its type calls for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Flavor {
    /// Numbers as they are (and every type whose state speaks for itself).
    #[default]
    Plain,
    Boolean,
    Date32,
    /// Milliseconds since the epoch.
    Date64,
    Time(Unit),
    Timestamp {
        unit: Unit,
        zone: bool,
    },
    Duration(Unit),
}

impl Flavor {
    /// The flavor of a column of `data_type` (a dictionary's is that of its values).
    pub fn of(data_type: &DataType) -> Flavor {
        match data_type {
            DataType::Boolean => Flavor::Boolean,
            DataType::Date32 => Flavor::Date32,
            DataType::Date64 => Flavor::Date64,
            DataType::Time32(u) | DataType::Time64(u) => Flavor::Time(Unit::of(u)),
            DataType::Timestamp(u, zone) => Flavor::Timestamp { unit: Unit::of(u), zone: zone.is_some() },
            DataType::Duration(u) => Flavor::Duration(Unit::of(u)),
            DataType::Dictionary(_, values) => Flavor::of(values),
            _ => Flavor::Plain,
        }
    }

    /// `summary` as this flavor presents it (see the module docs).
    pub fn decorate(self, summary: &mut Summary) {
        match self {
            Flavor::Plain => return,
            Flavor::Boolean => {
                if let Some(Value::Int(trues)) = summary.sum {
                    let trues = trues as u64;
                    summary.set("true_count", Extra::Count(trues));
                    summary.set("false_count", Extra::Count(summary.count - trues));
                }
                return;
            }
            _ => {}
        }
        if let (Some(Value::Int(min)), Some(Value::Int(max))) = (summary.min, summary.max) {
            summary.set_text("min_iso", self.iso(min));
            summary.set_text("max_iso", self.iso(max));
        }
        if !matches!(self, Flavor::Duration(_)) {
            summary.sum = None;
            (summary.mean, summary.var, summary.std, summary.skewness, summary.kurtosis) =
                (None, None, None, None, None);
        }
    }

    /// ISO 8601 text of a value of a temporal flavor.
    fn iso(self, v: i128) -> String {
        match self {
            Flavor::Date32 => iso8601::date(v),
            // Date64 is milliseconds: a date when it falls on midnight, as it should, else the instant.
            Flavor::Date64 if v.rem_euclid(86_400_000) == 0 => iso8601::date(v.div_euclid(86_400_000)),
            Flavor::Date64 => iso8601::timestamp(v, Unit::Milli, false),
            Flavor::Time(unit) => iso8601::time_of_day(v, unit),
            Flavor::Timestamp { unit, zone } => iso8601::timestamp(v, unit, zone),
            Flavor::Duration(unit) => iso8601::duration(v, unit),
            Flavor::Plain | Flavor::Boolean => v.to_string(),
        }
    }
}
