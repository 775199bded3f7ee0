//! The `describe` state of a string or binary column (utf8, large utf8, utf8 view, binary, large binary,
//! binary view, fixed-size binary, and dictionaries of those, decoded by `store/widen.rs`).
//!
//! `min` and `max` compare bytes (so UTF-8 strings compare by code point, as Python's `str` and Arrow's
//! own min/max kernels do); lengths are in bytes. Everything is exact, so merging is order-free.

use arrow_array::cast::AsArray;
use arrow_array::types::{BinaryViewType, ByteArrayType, ByteViewType, StringViewType};
use arrow_array::{Array, GenericByteArray, GenericByteViewArray};
use arrow_schema::DataType;
use serde::{Deserialize, Serialize};

use super::exact_ratio::ratio_to_f64;
use super::{Extra, FinishOptions, Partial, Summary};

/// Describe state of a string (`utf8`) or binary column.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BytesDescribe {
    /// Values are UTF-8 text (shown as they are) rather than bytes (shown as hex).
    pub utf8: bool,
    pub count: u64,
    pub null_count: u64,
    pub min: Option<Vec<u8>>,
    pub max: Option<Vec<u8>>,
    /// Meaningful only when `count > 0` (so `Default` is the merge identity).
    pub min_length: u64,
    pub max_length: u64,
    pub total_length: u128,
}

impl BytesDescribe {
    pub fn new(utf8: bool) -> Self {
        BytesDescribe { utf8, ..BytesDescribe::default() }
    }

    /// Folds in the values of `array` whose bit in `validity` is set (all when `None`); `excluded` of the
    /// unset rows were filtered out rather than null.
    pub fn update(&mut self, array: &dyn Array, validity: Option<&[u64]>, excluded: usize) {
        let mut local = Local::default();
        let valid = |i: usize| validity.is_none_or(|w| w[i / 64] >> (i % 64) & 1 == 1);
        for (i, v) in values(array).enumerate() {
            if valid(i) {
                local.add(v);
            }
        }
        self.null_count += (array.len() - excluded) as u64 - local.count;
        self.fold(local);
    }

    fn fold(&mut self, local: Local<'_>) {
        if local.count == 0 {
            return;
        }
        self.min_length = if self.count == 0 { local.min_length } else { self.min_length.min(local.min_length) };
        self.count += local.count;
        self.max_length = self.max_length.max(local.max_length);
        self.total_length += local.total_length;
        if let Some(m) = local.min.filter(|m| self.min.as_deref().is_none_or(|s| m < &s)) {
            self.min = Some(m.to_vec());
        }
        if let Some(m) = local.max.filter(|m| self.max.as_deref().is_none_or(|s| m > &s)) {
            self.max = Some(m.to_vec());
        }
    }

    /// A value as the report shows it: the text itself, or lowercase hex for binary.
    fn shown(&self, v: &[u8]) -> String {
        if self.utf8 { String::from_utf8_lossy(v).into_owned() } else { v.iter().map(|b| format!("{b:02x}")).collect() }
    }
}

/// Extremes of one update, borrowed from the array until they are folded into the state.
struct Local<'a> {
    count: u64,
    min: Option<&'a [u8]>,
    max: Option<&'a [u8]>,
    min_length: u64,
    max_length: u64,
    total_length: u128,
}

impl Default for Local<'_> {
    fn default() -> Self {
        Local { count: 0, min: None, max: None, min_length: u64::MAX, max_length: 0, total_length: 0 }
    }
}

impl<'a> Local<'a> {
    #[inline]
    fn add(&mut self, v: &'a [u8]) {
        self.count += 1;
        let len = v.len() as u64;
        self.min_length = self.min_length.min(len);
        self.max_length = self.max_length.max(len);
        self.total_length += u128::from(len);
        if self.min.is_none_or(|m| v < m) {
            self.min = Some(v);
        }
        if self.max.is_none_or(|m| v > m) {
            self.max = Some(v);
        }
    }
}

/// Every slot's bytes (null slots too: their offsets or views are valid, the Source checked them).
fn values(array: &dyn Array) -> Box<dyn Iterator<Item = &[u8]> + '_> {
    fn offsets<T: ByteArrayType>(a: &GenericByteArray<T>) -> Box<dyn Iterator<Item = &[u8]> + '_> {
        Box::new((0..a.len()).map(move |i| a.value(i).as_ref()))
    }
    fn views<T: ByteViewType + ?Sized>(a: &GenericByteViewArray<T>) -> Box<dyn Iterator<Item = &[u8]> + '_> {
        Box::new((0..a.len()).map(move |i| a.value(i).as_ref()))
    }
    match array.data_type() {
        DataType::Utf8 => offsets(array.as_string::<i32>()),
        DataType::LargeUtf8 => offsets(array.as_string::<i64>()),
        DataType::Binary => offsets(array.as_binary::<i32>()),
        DataType::LargeBinary => offsets(array.as_binary::<i64>()),
        DataType::Utf8View => views(array.as_byte_view::<StringViewType>()),
        DataType::BinaryView => views(array.as_byte_view::<BinaryViewType>()),
        DataType::FixedSizeBinary(_) => {
            let a = array.as_fixed_size_binary();
            Box::new((0..a.len()).map(move |i| a.value(i)))
        }
        t => panic!("bug in tally: a string state met a {t} column"),
    }
}

impl Partial for BytesDescribe {
    fn merge(&mut self, other: &Self) {
        self.null_count += other.null_count;
        let local = Local {
            count: other.count,
            min: other.min.as_deref(),
            max: other.max.as_deref(),
            min_length: other.min_length,
            max_length: other.max_length,
            total_length: other.total_length,
        };
        self.fold(local);
    }

    fn finish(&self, _: &FinishOptions) -> Summary {
        let mut out = Summary { count: self.count, null_count: self.null_count, ..Summary::default() };
        if let (Some(min), Some(max)) = (&self.min, &self.max) {
            out.set_text("min", self.shown(min));
            out.set_text("max", self.shown(max));
        }
        if self.count > 0 {
            out.set("min_length", Extra::Count(self.min_length));
            out.set("max_length", Extra::Count(self.max_length));
            let mean = ratio_to_f64(&self.total_length.into(), &self.count.into());
            out.set("mean_length", Extra::Float(mean));
        }
        out
    }
}
