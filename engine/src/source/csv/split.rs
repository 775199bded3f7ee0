//! Where CSV text can be cut into pieces that decode independently: record boundaries, proven.
//!
//! ```text
//!  bytes ─► candidates: the first '\n' after every `piece` bytes          (memchr, no parsing)
//!        ─► scan each candidate piece as if it began at a record start    (in parallel, `ordered.rs`)
//!        ─► chain the pieces in file order: a piece begins at a record start only if the piece before it
//!           ended outside quotes; one that begins inside a quoted field is rescanned from that state and
//!           joins the piece before it                                     (sequential, O(pieces))
//!        ─► Range { start, end, records }: exact record boundaries and record counts
//! ```
//!
//! Owns the boundary proof and record counting only; decoding is `parallel.rs`'s (arrow-csv).
//!
//! Why this is a proof and not a guess (the speculative splitting of Ge et al., "Speculative Distributed CSV
//! Data Parsing", SIGMOD 2021, and DuckDB's and Polars' readers guess a start state and re-parse on a wrong
//! guess): right after a `'\n'` byte the csv-core state machine that arrow-csv runs is in one of exactly two
//! states, at a record start or inside a quoted field, because a newline anywhere else ends the record. So a
//! piece is scanned for the common case (record start) in parallel, and the chain in file order, which knows
//! the true state at every cut, rescans only the rare piece that begins inside a quoted field. No guess is
//! ever kept without its check, and none needs a serial re-parse.
//!
//! The scanner is hand-written because csv-core does not expose its state between records, and it needs to
//! follow csv-core's transitions (`csv_core::Reader::transition_nfa`, the reader arrow-csv builds) only as
//! far as they decide quoting and record ends, using memchr to jump between the bytes that matter:
//! - outside quotes, a quote opens a quoted field only at a field start (after a delimiter, a terminator or
//!   the start of the file); elsewhere it is a literal byte;
//! - inside quotes, a doubled quote is a literal quote, an escape byte takes the next byte literally, and a
//!   single quote closes the field (what follows, up to a delimiter or terminator, is unquoted text);
//! - `'\r'`, `'\n'` and `"\r\n"` end a record outside quotes, unless the byte before is a terminator too (csv-core
//!   skips empty lines), and text after the last terminator is a final record (also inside an open quote).
//!
//! The unit tests below check the boundaries and counts against arrow-csv itself: every range decoded on
//! its own must give exactly the records of the whole text decoded serially.

use memchr::{memchr, memchr2, memchr3};

/// The bytes that decide quoting (arrow-csv's `Format`); none of them is `'\r'` or `'\n'`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dialect {
    pub(crate) delimiter: u8,
    pub(crate) quote: u8,
    pub(crate) escape: Option<u8>,
}

impl Dialect {
    /// `None` when a dialect byte is a line terminator: then a newline is not a safe place to look for cuts.
    pub(crate) fn try_new(delimiter: u8, quote: u8, escape: Option<u8>) -> Option<Dialect> {
        let term = |b: u8| b == b'\n' || b == b'\r';
        if term(delimiter) || term(quote) || escape.is_some_and(term) {
            return None;
        }
        // csv-core tests the quote before the escape, so an escape equal to the quote never acts.
        Some(Dialect { delimiter, quote, escape: escape.filter(|&e| e != quote) })
    }
}

/// The scanner's state at a position right after a `'\n'` (or at the start of the data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Between records: the next byte starts a record (or is an empty line's terminator).
    RecordStart,
    /// Inside a quoted field.
    Quoted,
}

/// What a scan of `start..end` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Scan {
    /// Records that end in the range (plus the final one when the range ends the text without a terminator).
    pub(crate) records: u64,
    /// The state at `end`.
    pub(crate) exit: State,
}

/// A byte range of whole records, `records` of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Range {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) records: u64,
}

fn is_term(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// Scans `bytes[start..end]` entered in state `entry`. With `stop_after: Some(n)` it returns as soon as the
/// `n`-th record ends, with the position just after that record's terminator byte.
fn walk(bytes: &[u8], start: usize, end: usize, entry: State, d: Dialect, stop_after: Option<u64>) -> (Scan, usize) {
    let mut pos = start;
    let mut quoted = entry == State::Quoted;
    let mut records = 0u64;
    while pos < end {
        if quoted {
            let hay = &bytes[pos..end];
            let hit = match d.escape {
                Some(e) => memchr2(d.quote, e, hay),
                None => memchr(d.quote, hay),
            };
            let Some(i) = hit else {
                pos = end;
                break;
            };
            let at = pos + i;
            if bytes[at] != d.quote {
                pos = at + 2; // the escape and the byte it makes literal
            } else if bytes.get(at + 1) == Some(&d.quote) {
                pos = at + 2; // a doubled quote: one literal quote
            } else {
                quoted = false;
                pos = at + 1;
            }
        } else {
            let Some(i) = memchr3(b'\n', b'\r', d.quote, &bytes[pos..end]) else {
                pos = end;
                break;
            };
            let at = pos + i;
            pos = at + 1;
            let before = at.checked_sub(1).map(|p| bytes[p]);
            if bytes[at] == d.quote {
                quoted = before.is_none_or(|b| b == d.delimiter || is_term(b));
            } else if before.is_some_and(|b| !is_term(b)) {
                records += 1;
                if stop_after == Some(records) {
                    return (Scan { records, exit: State::RecordStart }, pos);
                }
            }
        }
    }
    let pos = pos.min(end);
    let at_eof = end == bytes.len() && end > start;
    if at_eof && (quoted || !is_term(bytes[end - 1])) {
        records += 1;
    }
    (Scan { records, exit: if quoted { State::Quoted } else { State::RecordStart } }, pos)
}

/// Scans `bytes[start..end]` entered in state `entry`.
pub(crate) fn scan(bytes: &[u8], start: usize, end: usize, entry: State, d: Dialect) -> Scan {
    if entry == State::RecordStart
        && let Some(found) = plain_scan(bytes, start, end, d)
    {
        return found;
    }
    walk(bytes, start, end, entry, d, None).0
}

/// [`walk`]'s answer for a piece entered at a record start that holds no quote, no `'\r'` and no empty
/// line, and does not begin with `'\n'`: then every `'\n'` ends a record. Three SIMD passes instead of
/// one `memchr3` call per line, which was a third of a CSV describe once csv-core was out of the way.
fn plain_scan(bytes: &[u8], start: usize, end: usize, d: Dialect) -> Option<Scan> {
    let hay = bytes.get(start..end).filter(|h| h.first().is_some_and(|&b| b != b'\n'))?;
    if memchr2(d.quote, b'\r', hay).is_some() || memchr::memmem::find(hay, b"\n\n").is_some() {
        return None;
    }
    let mut records = memchr::memchr_iter(b'\n', hay).count() as u64;
    if end == bytes.len() && !is_term(bytes[end - 1]) {
        records += 1;
    }
    Some(Scan { records, exit: State::RecordStart })
}

/// Where the data begins: after the first record (the header) when `header`, else at 0.
pub(crate) fn data_start(bytes: &[u8], header: bool, d: Dialect) -> usize {
    if !header {
        return 0;
    }
    let (scan, pos) = walk(bytes, 0, bytes.len(), State::RecordStart, d, Some(1));
    if scan.records == 1 && scan.exit == State::RecordStart && pos <= bytes.len() { pos } else { bytes.len() }
}

/// The byte offset where record `index` (0-based) of the range beginning at `start` (a record start)
/// begins: for error messages, which name the record's first line.
pub(crate) fn record_offset(bytes: &[u8], start: usize, index: u64, d: Dialect) -> usize {
    let mut pos = start;
    if index > 0 {
        pos = walk(bytes, start, bytes.len(), State::RecordStart, d, Some(index)).1;
    }
    // Empty lines before a record are not part of it.
    while pos < bytes.len() && is_term(bytes[pos]) {
        pos += 1;
    }
    pos
}

/// The candidate cuts of `bytes[from..]`: `from`, then the position after the first `'\n'` at or after
/// every further `piece` bytes. Returns the pieces as `(start, end)`, covering `from..len`.
pub(crate) fn candidates(bytes: &[u8], from: usize, piece: usize) -> Vec<(usize, usize)> {
    let piece = piece.max(1);
    let mut starts = vec![from];
    let mut at = from;
    while let Some(target) = at.checked_add(piece).filter(|&t| t < bytes.len()) {
        let Some(nl) = memchr(b'\n', &bytes[target..]) else { break };
        let next = target + nl + 1;
        if next >= bytes.len() {
            break;
        }
        starts.push(next);
        at = next;
    }
    let ends = starts.iter().skip(1).copied().chain([bytes.len()]);
    starts.iter().copied().zip(ends).filter(|(s, e)| s < e).collect()
}

/// Chains the pieces (with `scans`, each piece scanned from a record start) in file order into ranges of
/// whole records. A piece that begins inside a quoted field is rescanned from there and joins the range
/// before it.
pub(crate) fn chain(bytes: &[u8], pieces: &[(usize, usize)], scans: &[Scan], d: Dialect) -> Vec<Range> {
    let mut ranges: Vec<Range> = Vec::with_capacity(pieces.len());
    let mut entry = State::RecordStart;
    for (&(start, end), &guess) in pieces.iter().zip(scans) {
        let found = if entry == State::RecordStart { guess } else { scan(bytes, start, end, entry, d) };
        match ranges.last_mut() {
            Some(last) if entry == State::Quoted => {
                last.end = end;
                last.records += found.records;
            }
            _ => ranges.push(Range { start, end, records: found.records }),
        }
        entry = found.exit;
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow_array::{Array, StringArray};
    use arrow_csv::reader::Format;
    use arrow_schema::{DataType, Field, Schema};

    const COLUMNS: usize = 3;

    /// arrow-csv's records of `text` (all fields as text), decoded in one go: the reference.
    fn decode(text: &[u8], escape: Option<u8>) -> Vec<Vec<Option<String>>> {
        let fields: Vec<Field> = (0..COLUMNS).map(|i| Field::new(format!("c{i}"), DataType::Utf8, true)).collect();
        let mut format = Format::default().with_header(false);
        if let Some(e) = escape {
            format = format.with_escape(e);
        }
        let mut decoder = arrow_csv::ReaderBuilder::new(Arc::new(Schema::new(fields)))
            .with_format(format)
            .with_batch_size(7)
            .build_decoder();
        let mut rows = Vec::new();
        let mut pos = 0;
        loop {
            let n = decoder.decode(&text[pos..]).unwrap();
            pos += n;
            if n == 0 || decoder.capacity() == 0 {
                let Some(batch) = decoder.flush().unwrap() else { break };
                for r in 0..batch.num_rows() {
                    rows.push(
                        (0..COLUMNS)
                            .map(|c| {
                                let a = batch.column(c).as_any().downcast_ref::<StringArray>().unwrap();
                                a.is_valid(r).then(|| a.value(r).to_string())
                            })
                            .collect(),
                    );
                }
            }
        }
        rows
    }

    /// Random CSV text of `COLUMNS` fields per record with every hazard: quoted delimiters, quoted `\n`
    /// and `\r\n`, doubled quotes, escapes, literal quotes inside unquoted fields, CRLF and lone-CR record
    /// ends, empty lines, empty fields, and sometimes no final terminator.
    /// The quote-free shortcut answers as the full walk does wherever it answers, and it answers for the
    /// clean pieces (texts with hazards replaced by plain fields in most records).
    #[test]
    fn plain_scan_agrees_with_the_walk() {
        let d = Dialect::try_new(b',', b'"', None).unwrap();
        let mut answered = 0;
        for seed in 1..300u64 {
            let mut text = random_text(seed, 1 + (seed as usize * 11) % 200, false);
            if seed % 3 != 0 {
                // Mostly clean: quotes and carriage returns become plain bytes, some empty lines stay.
                text.iter_mut().filter(|b| **b == b'"' || **b == b'\r').for_each(|b| *b = b'7');
            }
            for piece in [1, 3, 16, 61, 1 << 20] {
                for (start, end) in candidates(&text, 0, piece) {
                    if let Some(found) = plain_scan(&text, start, end, d) {
                        answered += 1;
                        assert_eq!(
                            found,
                            walk(&text, start, end, State::RecordStart, d, None).0,
                            "seed {seed} {start}..{end}"
                        );
                    }
                }
            }
        }
        assert!(answered > 1000, "the shortcut answered only {answered} times");
    }

    fn random_text(seed: u64, records: usize, escape: bool) -> Vec<u8> {
        let mut s = seed | 1;
        let mut next = move |n: u64| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s % n
        };
        let mut out = Vec::new();
        for r in 0..records {
            for c in 0..COLUMNS {
                if c > 0 {
                    out.push(b',');
                }
                match next(9) {
                    0 => {}
                    1 => out.extend_from_slice(b"\"a,b\""),
                    2 => out.extend_from_slice(b"\"line\nbreak\""),
                    3 => out.extend_from_slice(b"\"say \"\"hi\"\"\r\n!\""),
                    4 if escape => out.extend_from_slice(b"\"e\\\"\n\\\\\""),
                    5 => out.extend_from_slice(b"x\"y"),
                    6 => out.extend_from_slice(b"\"q\"tail"),
                    _ => out.extend_from_slice(format!("{}", next(100_000)).as_bytes()),
                }
            }
            let last = r + 1 == records;
            match next(8) {
                _ if last && next(2) == 0 => {}
                0 => out.extend_from_slice(b"\r\n"),
                1 => out.push(b'\r'),
                2 => out.extend_from_slice(b"\n\n"),
                3 => out.extend_from_slice(b"\r\n\r\n"),
                _ => out.push(b'\n'),
            }
        }
        out
    }

    fn ranges(text: &[u8], d: Dialect, piece: usize) -> Vec<Range> {
        let pieces = candidates(text, 0, piece);
        let scans: Vec<Scan> = pieces.iter().map(|&(s, e)| scan(text, s, e, State::RecordStart, d)).collect();
        chain(text, &pieces, &scans, d)
    }

    #[test]
    fn every_range_decodes_to_exactly_its_share_of_the_serial_records() {
        for seed in 1..60u64 {
            let escape = seed % 3 == 0;
            let text = random_text(seed, 1 + (seed as usize * 7) % 150, escape);
            let e = escape.then_some(b'\\');
            let d = Dialect::try_new(b',', b'"', e).unwrap();
            let want = decode(&text, e);
            for piece in [1, 2, 5, 17, 64, 1 << 20] {
                let ranges = ranges(&text, d, piece);
                let mut got = Vec::new();
                let mut at = 0;
                for r in &ranges {
                    assert_eq!(r.start, at, "ranges tile the text");
                    at = r.end;
                    let rows = decode(&text[r.start..r.end], e);
                    assert_eq!(rows.len() as u64, r.records, "seed {seed} piece {piece} range {r:?}");
                    got.extend(rows);
                }
                assert_eq!(at, text.len());
                assert_eq!(got, want, "seed {seed} piece {piece}");
            }
        }
    }

    #[test]
    fn header_end_and_record_offsets_match_the_decoded_records() {
        let d = Dialect::try_new(b',', b'"', None).unwrap();
        let text = b"\n\"h,1\",h2,h3\r\n1,\"a\nb\",3\n\n4,5,6\r7,8,9";
        let start = data_start(text, true, d);
        // Right after the header's '\r': the '\n' of its "\r\n" is skipped like an empty line.
        assert_eq!(&text[start - 1..start + 2], b"\r\n1");
        let data = &text[start..];
        assert_eq!(decode(data, None).len(), 3);
        let offsets: Vec<usize> = (0..3).map(|i| record_offset(text, start, i, d)).collect();
        let firsts: Vec<u8> = offsets.iter().map(|&o| text[o]).collect();
        assert_eq!(firsts, b"147");
        assert_eq!(data_start(b"only,a,header", true, d), 13);
        assert_eq!(scan(b"a,b,c", 0, 5, State::RecordStart, d).records, 1);
        assert_eq!(scan(b"", 0, 0, State::RecordStart, d).records, 0);
        assert_eq!(scan(b"\"open\n", 0, 6, State::RecordStart, d), Scan { records: 1, exit: State::Quoted });
    }

    #[test]
    fn dialects_with_terminator_bytes_are_refused() {
        assert!(Dialect::try_new(b'\n', b'"', None).is_none());
        assert!(Dialect::try_new(b',', b'\r', None).is_none());
        assert!(Dialect::try_new(b',', b'"', Some(b'\n')).is_none());
        assert_eq!(Dialect::try_new(b',', b'"', Some(b'"')).unwrap().escape, None);
    }
}
