//! The common CSV, decoded without csv-core: a range with no quote byte and no carriage return, whose
//! every line holds the header's number of fields.
//!
//! csv-core reads a byte at a time through a state machine and copies every field of every record; it
//! was a third of a CSV describe's time (benches/README.md, "CSV after the parallel split"). Here lines
//! and fields are found together, every separator of the text in one pass of 64-byte SIMD masks
//! (`separators.rs`), and only the planned columns' fields are looked at again. Each of those is parsed by
//! the parser arrow-csv itself calls (`arrow_cast::parse::Parser`, the same `T::parse(s)`), a field equal
//! to a `--csv-null` marker is null (what the anchored, escaped alternation given to arrow-csv matches),
//! and the arrays are collected the way arrow-csv collects them: the store is the one arrow-csv would have
//! built, bit for bit.
//!
//! Anything else sends the range back to arrow-csv, unchanged: a quote or `\r` anywhere in it, invalid
//! UTF-8, an empty line, a line with another number of fields, a field that does not parse (so errors keep
//! arrow-csv's wording and tally's line numbers), a planned type this module does not build. Written by
//! hand because no CSV crate decodes into Arrow arrays with arrow-csv's exact semantics.

use std::sync::Arc;

use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{ArrayRef, PrimitiveArray, RecordBatch, StringArray};
use arrow_cast::parse::Parser;
use arrow_schema::{DataType, SchemaRef};

use super::separators::Separators;
use super::split::Dialect;

/// What the fast path needs to know of a CSV file.
pub(crate) struct Plain {
    dialect: Dialect,
    /// Fields per record (the schema's width).
    fields: usize,
    /// For each field, its position among the decoded columns, or `None` when it is not decoded.
    slot: Vec<Option<usize>>,
    /// The decoded columns' types, in slot order.
    types: Vec<DataType>,
    /// The schema arrow-csv's decoder gives its batches (the projected one).
    schema: SchemaRef,
    nulls: Vec<String>,
}

impl Plain {
    /// `None` when a decoded column has a type this module does not build (arrow-csv decodes the file).
    pub(crate) fn new(
        schema: &SchemaRef,
        decoded: Option<&[usize]>,
        dialect: Dialect,
        nulls: &[String],
    ) -> Option<Plain> {
        // A delimiter past ASCII could split a UTF-8 character (and `str` slicing would refuse it).
        if !dialect.delimiter.is_ascii() {
            return None;
        }
        let all: Vec<usize> = (0..schema.fields().len()).collect();
        let decoded = decoded.unwrap_or(&all);
        let mut slot = vec![None; schema.fields().len()];
        let mut types = Vec::with_capacity(decoded.len());
        for (k, &i) in decoded.iter().enumerate() {
            let data_type = schema.fields().get(i)?.data_type();
            if !supported(data_type) || slot[i].is_some() {
                return None;
            }
            slot[i] = Some(k);
            types.push(data_type.clone());
        }
        let schema = Arc::new(schema.project(decoded).ok()?);
        // No marker at all is the regex `^(?:)$`, which matches the empty field.
        let nulls = if nulls.is_empty() { vec![String::new()] } else { nulls.to_vec() };
        Some(Plain { dialect, fields: slot.len(), slot, types, schema, nulls })
    }

    /// The records of `text` (whole records) as batches of `head` rows, then of `rows` rows; `None` when
    /// the text is not for this path.
    pub(crate) fn decode(&self, text: &[u8], head: usize, rows: usize) -> Option<Vec<RecordBatch>> {
        let Dialect { quote, escape, .. } = self.dialect;
        let special = memchr::memchr2(quote, b'\r', text).is_some() || escape.is_some_and(|e| text.contains(&e));
        if special || u32::try_from(text.len()).is_err() {
            return None;
        }
        let text = std::str::from_utf8(text).ok()?;
        let bytes = text.as_bytes();
        let mut batches = Vec::new();
        let mut spans: Vec<Vec<(u32, u32)>> = vec![Vec::with_capacity(head); self.types.len()];
        let (mut in_batch, mut limit) = (0usize, head);
        // The field being read: its number in the line and where it starts; where the line starts.
        let (mut field, mut start, mut line) = (0usize, 0usize, 0usize);
        let keep = |field: usize, start: usize, end: usize, spans: &mut [Vec<(u32, u32)>]| {
            if let Some(Some(k)) = self.slot.get(field) {
                spans[*k].push((start as u32, (end - start) as u32));
            }
        };
        let separators = Separators::new(bytes, self.dialect.delimiter);
        // The last line may lack its newline: it ends at the end of the text.
        let ends = (bytes.last() != Some(&b'\n') && !bytes.is_empty()).then_some(bytes.len());
        for at in separators.chain(ends) {
            keep(field, start, at, &mut spans);
            start = at + 1;
            if at < bytes.len() && bytes[at] == self.dialect.delimiter {
                field += 1;
                continue;
            }
            // A line ends: it must not be empty, and must have every field.
            if at == line || field + 1 != self.fields {
                return None;
            }
            (field, line) = (0, at + 1);
            in_batch += 1;
            if in_batch == limit {
                batches.push(self.batch(text, &mut spans)?);
                (in_batch, limit) = (0, rows);
            }
        }
        if in_batch > 0 {
            batches.push(self.batch(text, &mut spans)?);
        }
        Some(batches)
    }

    /// One batch of the recorded spans (cleared after); `None` when a field does not parse. Every span lies
    /// between ASCII delimiters or newlines of UTF-8 text, so it starts and ends on character boundaries.
    fn batch(&self, text: &str, spans: &mut [Vec<(u32, u32)>]) -> Option<RecordBatch> {
        let mut columns = Vec::with_capacity(self.types.len());
        for (data_type, spans) in self.types.iter().zip(spans.iter_mut()) {
            let fields = spans.iter().map(|&(start, len)| &text[start as usize..(start + len) as usize]);
            columns.push(build(data_type, fields, &self.nulls)?);
            spans.clear();
        }
        RecordBatch::try_new(self.schema.clone(), columns).ok()
    }
}

fn supported(data_type: &DataType) -> bool {
    use DataType::*;
    matches!(
        data_type,
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 | Float32 | Float64 | Date32 | Utf8
    )
}

/// One column as arrow-csv builds it (`build_primitive_array`, and its `Utf8` arm).
fn build<'a>(data_type: &DataType, fields: impl Iterator<Item = &'a str>, nulls: &[String]) -> Option<ArrayRef> {
    let is_null = |s: &str| nulls.iter().any(|n| n == s);
    Some(match data_type {
        DataType::Int8 => primitive::<Int8Type>(fields, &is_null)?,
        DataType::Int16 => primitive::<Int16Type>(fields, &is_null)?,
        DataType::Int32 => primitive::<Int32Type>(fields, &is_null)?,
        DataType::Int64 => primitive::<Int64Type>(fields, &is_null)?,
        DataType::UInt8 => primitive::<UInt8Type>(fields, &is_null)?,
        DataType::UInt16 => primitive::<UInt16Type>(fields, &is_null)?,
        DataType::UInt32 => primitive::<UInt32Type>(fields, &is_null)?,
        DataType::UInt64 => primitive::<UInt64Type>(fields, &is_null)?,
        DataType::Float32 => primitive::<Float32Type>(fields, &is_null)?,
        DataType::Float64 => primitive::<Float64Type>(fields, &is_null)?,
        DataType::Date32 => primitive::<Date32Type>(fields, &is_null)?,
        DataType::Utf8 => Arc::new(fields.map(|s| (!is_null(s)).then_some(s)).collect::<StringArray>()),
        _ => return None,
    })
}

fn primitive<'a, T: ArrowPrimitiveType + Parser>(
    fields: impl Iterator<Item = &'a str>,
    is_null: &dyn Fn(&str) -> bool,
) -> Option<ArrayRef> {
    let array: Option<PrimitiveArray<T>> =
        fields.map(|s| if is_null(s) { Some(None) } else { T::parse(s).map(Some) }).collect();
    Some(Arc::new(array?))
}

#[cfg(test)]
mod tests {
    use arrow_schema::{Field, Schema};
    use rand::{Rng, SeedableRng};

    use super::*;

    fn schema() -> SchemaRef {
        let field = |name: &str, t: DataType| Field::new(name, t, true);
        Arc::new(Schema::new(vec![
            field("i", DataType::Int64),
            field("f", DataType::Float64),
            field("s", DataType::Utf8),
            field("small", DataType::Int8),
            field("u", DataType::UInt32),
            field("g", DataType::Float32),
            field("day", DataType::Date32),
        ]))
    }

    /// A random field for each column: numbers in many spellings, null markers, and (rarely) a value the
    /// column's parser refuses.
    fn field(rng: &mut impl Rng, column: usize, bad: bool) -> String {
        if rng.random_bool(0.08) {
            return ["", "NA"][rng.random_range(0..2)].to_string();
        }
        if bad && rng.random_bool(0.02) && column != 2 {
            return "x1".into();
        }
        match column {
            0 => format!("{}", rng.random::<i64>() >> rng.random_range(0..64)),
            1 => match rng.random_range(0..6) {
                0 => format!("{:e}", rng.random::<f64>() * 1e300),
                1 => "-inf".into(),
                2 => "NaN".into(),
                3 => format!("{}", rng.random_range(-1000i32..1000)),
                _ => format!("{}", rng.random::<f64>() - 0.5),
            },
            2 => ["", "a b", "ünïcödé", "x;y", "12", "NA "][rng.random_range(0..6)].to_string(),
            3 => format!("{}", rng.random_range(-128i32..128)),
            4 => format!("{}", rng.random::<u32>()),
            5 => format!("{}", rng.random::<f32>() * 3e38),
            _ => format!(
                "{:04}-{:02}-{:02}",
                rng.random_range(1i32..9999),
                rng.random_range(1..13),
                rng.random_range(1..29)
            ),
        }
    }

    fn text(seed: u64, rows: usize, bad: bool) -> String {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut out = String::new();
        for _ in 0..rows {
            let line: Vec<String> = (0..7).map(|c| field(&mut rng, c, bad)).collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
        if rng.random_bool(0.5) {
            out.pop(); // the last record may end the text without a newline
        }
        out
    }

    fn dialect() -> Dialect {
        Dialect::try_new(b',', b'"', None).unwrap()
    }

    fn nulls() -> Vec<String> {
        vec![String::new(), "NA".into()]
    }

    /// What arrow-csv's decoder makes of the same text, cut the same way (`parallel.rs`'s loop, reduced).
    fn arrow_csv(text: &[u8], decoded: &[usize], head: usize, rows: usize) -> Result<Vec<RecordBatch>, String> {
        let nulls = regex::Regex::new("^(?:|NA)$").unwrap();
        let format = arrow_csv::reader::Format::default().with_header(false).with_null_regex(nulls);
        let decoder = |size| {
            arrow_csv::ReaderBuilder::new(schema())
                .with_format(format.clone())
                .with_batch_size(size)
                .with_projection(decoded.to_vec())
                .build_decoder()
        };
        let mut d = decoder(head);
        let (mut pos, mut batches) = (0, Vec::new());
        loop {
            let n = d.decode(&text[pos..]).map_err(|e| e.to_string())?;
            pos += n;
            if n > 0 && d.capacity() > 0 {
                continue;
            }
            match d.flush().map_err(|e| e.to_string())? {
                Some(b) => {
                    batches.push(b);
                    if batches.len() == 1 {
                        d = decoder(rows);
                    }
                }
                None if n == 0 => return Ok(batches),
                None => {}
            }
        }
    }

    #[test]
    fn quote_free_text_decodes_as_arrow_csv_decodes_it_bit_for_bit() {
        let projections: [&[usize]; 4] = [&[0, 1, 2, 3, 4, 5, 6], &[1], &[0, 6], &[2, 5]];
        let mut fast = 0;
        for seed in 0..60u64 {
            let bad = seed % 4 == 3;
            let text = text(seed, 1 + (seed as usize * 37) % 700, bad);
            for decoded in projections {
                let (head, rows) = (1 + (seed as usize * 13) % 97, 64);
                let plain = Plain::new(&schema(), Some(decoded), dialect(), &nulls()).unwrap();
                let want = arrow_csv(text.as_bytes(), decoded, head, rows);
                match plain.decode(text.as_bytes(), head, rows) {
                    Some(got) => {
                        fast += 1;
                        assert_eq!(Ok(got), want, "seed {seed} columns {decoded:?}");
                    }
                    // Only a field the parser refuses sends clean text back: arrow-csv must refuse it too,
                    // unless the field is in a column this projection does not parse.
                    None => {
                        assert!(bad, "seed {seed} columns {decoded:?}: fell back on clean text");
                        assert!(want.is_err(), "seed {seed} columns {decoded:?}: arrow-csv read what was refused");
                    }
                }
            }
        }
        assert!(fast >= 180, "the fast path decoded only {fast} of 240 texts");
    }

    #[test]
    fn anything_arrow_csv_reads_differently_falls_back() {
        let plain = Plain::new(&schema(), Some(&[0, 1]), dialect(), &nulls()).unwrap();
        let good = "1,2.5,a,1,2,3.5,2024-01-02\n";
        assert!(plain.decode(good.as_bytes(), 10, 10).is_some());
        for text in [
            "1,\"2.5\",a,1,2,3.5,2024-01-02\n",                       // a quote
            "1,2.5,a,1,2,3.5,2024-01-02\r\n",                         // a carriage return
            "1,2.5,a,1,2,3.5\n",                                      // too few fields
            "1,2.5,a,1,2,3.5,2024-01-02,9\n",                         // too many
            "1,2.5,a,1,2,3.5,2024-01-02\n\n2,1,a,1,2,3,2024-01-01\n", // an empty line
            "1,2.5x,a,1,2,3.5,2024-01-02\n",                          // a value that does not parse
        ] {
            assert!(plain.decode(text.as_bytes(), 10, 10).is_none(), "{text:?}");
        }
        let invalid = [b"1,2.5,\xff,1,2,3.5,2024-01-02\n".as_slice()].concat();
        assert!(plain.decode(&invalid, 10, 10).is_none());
        // Types without a builder here, and a delimiter past ASCII, are left to arrow-csv.
        let bools = Arc::new(Schema::new(vec![Field::new("b", DataType::Boolean, true)]));
        assert!(Plain::new(&bools, None, dialect(), &nulls()).is_none());
        let latin = Dialect::try_new(0xA7, b'"', None).unwrap();
        assert!(Plain::new(&schema(), None, latin, &nulls()).is_none());
        // No marker at all: the empty field is still null, as `^(?:)$` says.
        let none = Plain::new(&schema(), Some(&[0]), dialect(), &[]).unwrap();
        let batch = &none.decode(b",1,a,1,2,3,2024-01-01\n", 1, 1).unwrap()[0];
        assert_eq!(batch.column(0).null_count(), 1);
    }
}
