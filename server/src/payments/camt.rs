//! camt.053 bank statements (ISO 20022 BankToCustomerStatement), the daily account statement
//! the municipality's bank delivers, from which incoming transfers are matched to fee notices.
//!
//! A statement is an upload from a caseworker's machine and therefore untrusted input of any
//! size: the parser streams over the document and keeps only what it returns, refuses DOCTYPE
//! declarations (the only way to define entities, and so to build external-entity or
//! entity-expansion attacks), and bounds nesting, entry count and the length of every text and
//! markup token, so that neither a hostile nor a broken file can exhaust memory.
//!
//! Elements are matched by local name on their exact path from the root, because banks use
//! different prefixes and add many elements of their own: anything unknown is skipped, and a
//! known name in an unexpected place (an `<Amt>` inside a bank's extension) is never mistaken
//! for a statement field.

use std::borrow::Cow;
use std::io::{self, BufRead, Read, Write};
use std::sync::Arc;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;
use quick_xml::XmlVersion;

use crate::domain::Money;

/// Bounds for one parse: they cap the memory and time an uploaded file can cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest element nesting; real statements stay below 20.
    pub max_depth: usize,
    /// Most entries (`Ntry`) in the whole document; the same cap applies separately to
    /// transactions (`TxDtls`) and statements (`Stmt`), which also cost memory.
    pub max_entries: usize,
    /// Longest text node in bytes after unescaping; the longest field of the schema has 140
    /// characters.
    pub max_text_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_entries: 1_000_000,
            max_text_len: 10_000,
        }
    }
}

/// The schema versions German banks deliver; the structure differs between them in a few
/// places (`Sts`, `Dbtr`, `TxDtls/Amt`), which the parser accepts in every version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CamtVersion {
    V02,
    V04,
    V08,
}

const NAMESPACE_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.";

impl CamtVersion {
    pub fn namespace(self) -> &'static str {
        match self {
            Self::V02 => "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02",
            Self::V04 => "urn:iso:std:iso:20022:tech:xsd:camt.053.001.04",
            Self::V08 => "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08",
        }
    }

    fn from_namespace(namespace: &str) -> Result<Self, CamtError> {
        match namespace.strip_prefix(NAMESPACE_PREFIX) {
            Some("001.02") => Ok(Self::V02),
            Some("001.04") => Ok(Self::V04),
            Some("001.08") => Ok(Self::V08),
            Some(other) => Err(CamtError::UnsupportedVersion(format!(
                "camt.053.{}",
                truncated(other, 20)
            ))),
            None => Err(CamtError::NotCamt053),
        }
    }
}

/// One account statement (`Stmt`); a document may carry several, e.g. one per account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub version: CamtVersion,
    pub statement_id: Option<String>,
    pub account_iban: Option<String>,
    pub entries: Vec<Entry>,
}

/// One booking line (`Ntry`). Debits and pending entries are returned as well: deciding what to
/// import is the caller's business, and dropping them here would hide them from the caseworker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `AcctSvcrRef`, the bank's unique reference, which lets an entry be imported once only.
    pub entry_ref: Option<String>,
    pub amount: Money,
    pub currency: String,
    /// `CRDT` (money came in) rather than `DBIT`.
    pub credit: bool,
    pub status: EntryStatus,
    /// `YYYY-MM-DD`, the date part of `BookgDt/Dt` or `BookgDt/DtTm`.
    pub booking_date: Option<String>,
    pub value_date: Option<String>,
    /// Usually one; a batch booking (Sammelbuchung) has one per payment in the batch.
    pub transactions: Vec<Transaction>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryStatus {
    Booked,
    Pending,
    /// Any other code (`INFO`, and `FUTR` and the like in newer versions), kept so that it is
    /// never mistaken for a booking.
    Other(String),
}

impl EntryStatus {
    fn from_code(code: &str) -> Self {
        match code {
            "BOOK" => Self::Booked,
            "PDNG" => Self::Pending,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// One payment inside an entry (`NtryDtls/TxDtls`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transaction {
    /// `TxDtls/Amt` (from v04) or else `TxDtls/AmtDtls/TxAmt/Amt`; needed to split a batch.
    pub amount: Option<Money>,
    /// `None` also for the `NOTPROVIDED` banks fill in for transfers typed in by hand.
    pub end_to_end_id: Option<String>,
    pub debtor_name: Option<String>,
    pub debtor_iban: Option<String>,
    /// Every `RmtInf/Ustrd` in document order: banks split long free text over several.
    pub unstructured: Vec<String>,
    /// The first `RmtInf/Strd/CdtrRefInf/Ref`, where an RF reference arrives untouched.
    pub creditor_reference: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CamtError {
    #[error("not well-formed XML near byte {position}: {detail}")]
    Malformed { position: u64, detail: String },
    #[error("the document ends before its root element is closed")]
    Truncated,
    #[error("DOCTYPE declarations are not accepted")]
    DoctypeNotAllowed,
    #[error("elements are nested deeper than {limit}")]
    TooDeep { limit: usize },
    #[error("more than {limit} entries, transactions or statements")]
    TooManyEntries { limit: usize },
    #[error("a text or markup token is longer than {limit} bytes")]
    TextTooLong { limit: usize },
    #[error("not a camt.053 document")]
    NotCamt053,
    #[error("unsupported version {0}")]
    UnsupportedVersion(String),
    #[error("entry {entry}: invalid amount {value:?}")]
    InvalidAmount { entry: usize, value: String },
    #[error("entry {entry}: invalid {field} {value:?}")]
    InvalidValue {
        entry: usize,
        field: &'static str,
        value: String,
    },
    #[error("entry {entry}: {field} is missing")]
    MissingField { entry: usize, field: &'static str },
    #[error("reading the statement failed: {0}")]
    Io(#[source] io::Error),
}

impl CamtError {
    /// The translation key of the message shown to the caseworker who uploaded the file.
    pub fn message_key(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "fees.camt.malformed",
            Self::Truncated => "fees.camt.truncated",
            Self::DoctypeNotAllowed => "fees.camt.doctype",
            Self::TooDeep { .. } => "fees.camt.too_deep",
            Self::TooManyEntries { .. } => "fees.camt.too_many",
            Self::TextTooLong { .. } => "fees.camt.text_too_long",
            Self::NotCamt053 => "fees.camt.not_camt",
            Self::UnsupportedVersion(_) => "fees.camt.version",
            Self::InvalidAmount { .. } => "fees.camt.amount",
            Self::InvalidValue { .. } => "fees.camt.invalid",
            Self::MissingField { .. } => "fees.camt.missing",
            Self::Io(_) => "fees.camt.io",
        }
    }
}

/// Parses every statement of a camt.053 document.
///
/// Errors are reported for the first problem found; a document is either accepted whole or not
/// at all, so that a half-read statement can never be imported.
pub fn parse<R: BufRead>(reader: R, limits: &Limits) -> Result<Vec<Statement>, CamtError> {
    run(reader, limits, None)
}

/// Like `parse`, but hands each entry to `sink` as soon as it is read instead of collecting
/// them; returns the statements' headers (without entries). An error from `sink` stops parsing
/// and is returned.
pub fn parse_each<R: BufRead>(
    reader: R,
    limits: &Limits,
    sink: EntrySink<'_>,
) -> Result<Vec<Statement>, CamtError> {
    run(reader, limits, Some(sink))
}

fn run<R: BufRead>(
    reader: R,
    limits: &Limits,
    sink: Option<EntrySink<'_>>,
) -> Result<Vec<Statement>, CamtError> {
    let mut xml = Reader::from_reader(TokenGuard::new(reader, token_limit(limits)));
    let config = xml.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.expand_empty_elements = false;
    config.allow_dangling_amp = false;
    config.allow_unmatched_ends = false;
    config.trim_text(false);

    let mut parser = Parser::new(*limits, sink);
    let mut buf = Vec::new();
    let mut seen_anything = false;
    loop {
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(error) => return Err(xml_error(error, &xml)),
        };
        xml.get_mut().reset();
        let at = |detail: &str| CamtError::Malformed {
            position: xml.buffer_position(),
            detail: detail.to_owned(),
        };
        let first = !seen_anything;
        seen_anything = true;
        match event {
            Event::Decl(decl) => {
                if !first {
                    return Err(at("XML declaration not at the start"));
                }
                if let Some(encoding) = decl.encoding() {
                    let encoding = encoding.map_err(|e| at(&e.to_string()))?;
                    if !is_utf8_label(encoding.as_bytes()) {
                        return Err(at("only UTF-8 is accepted"));
                    }
                }
            }
            Event::DocType(_) => return Err(CamtError::DoctypeNotAllowed),
            Event::PI(_) | Event::Comment(_) => {}
            Event::Start(start) => {
                if parser.root_closed {
                    return Err(at("content after the root element"));
                }
                parser.start(&start).map_err(|e| e.at(&xml))?;
            }
            Event::Empty(start) => {
                if parser.root_closed {
                    return Err(at("content after the root element"));
                }
                parser.start(&start).map_err(|e| e.at(&xml))?;
                parser.end().map_err(|e| e.at(&xml))?;
            }
            Event::End(_) => parser.end().map_err(|e| e.at(&xml))?,
            Event::Text(text) => {
                if parser.in_root() {
                    let text = text.xml10_content();
                    parser.text(&text).map_err(|e| e.at(&xml))?;
                } else if !text.bytes().all(is_xml_space) {
                    return Err(at("text outside the root element"));
                }
            }
            Event::CData(cdata) => {
                if !parser.in_root() {
                    return Err(at("CDATA outside the root element"));
                }
                let text = cdata.xml10_content();
                parser.text(&text).map_err(|e| e.at(&xml))?;
            }
            Event::GeneralRef(reference) => {
                if !parser.in_root() {
                    return Err(at("reference outside the root element"));
                }
                let c = resolve_reference(&reference).map_err(|detail| at(&detail))?;
                parser
                    .text(c.encode_utf8(&mut [0; 4]))
                    .map_err(|e| e.at(&xml))?;
            }
            Event::Eof => {
                return if parser.root_closed {
                    Ok(parser.statements)
                } else if parser.in_root() {
                    Err(CamtError::Truncated)
                } else {
                    Err(CamtError::NotCamt053)
                };
            }
        }
    }
}

/// Text and markup tokens must fit this many bytes before they are unescaped: room for the
/// longest permitted text with every line break written as CR LF, plus generous room for tags
/// with namespace declarations and for comments.
fn token_limit(limits: &Limits) -> usize {
    limits
        .max_text_len
        .saturating_mul(2)
        .saturating_add(64 * 1024)
}

fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The `Char` production of XML 1.0: control characters cannot appear in a document, not even
/// as character references, and letting them through would put them into names and references
/// shown on screen and in PDFs.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// [`is_xml_char`] for every character of a text, but bytewise: texts are most of a statement,
/// and decoding each character would cost a noticeable share of the parse.
fn is_xml_text(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| match b {
        b'\t' | b'\n' | b'\r' => true,
        0..0x20 => false,
        // U+FFFE and U+FFFF, the only other characters XML excludes.
        0xEF => !matches!(bytes.get(i + 1..i + 3), Some([0xBF, 0xBE | 0xBF])),
        _ => true,
    })
}

fn is_utf8_label(label: &[u8]) -> bool {
    ["utf-8", "utf8", "us-ascii", "ascii"]
        .iter()
        .any(|known| label.eq_ignore_ascii_case(known.as_bytes()))
}

/// Predefined entities and character references only: any other name would need a DTD, which
/// is refused.
fn resolve_reference(reference: &BytesRef<'_>) -> Result<char, String> {
    if reference.is_char_ref() {
        return match reference.resolve_char_ref() {
            Ok(Some(c)) if is_xml_char(c) => Ok(c),
            _ => Err(format!(
                "invalid character reference &{};",
                truncated(reference, 20)
            )),
        };
    }
    match &**reference {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        other => Err(format!("undefined entity &{};", truncated(other, 20))),
    }
}

fn xml_error<R>(error: quick_xml::Error, xml: &Reader<TokenGuard<R>>) -> CamtError {
    use quick_xml::errors::SyntaxError;
    match error {
        quick_xml::Error::Io(_) if xml.get_ref().tripped => CamtError::TextTooLong {
            limit: xml.get_ref().limit,
        },
        quick_xml::Error::Io(io) => CamtError::Io(
            Arc::try_unwrap(io).unwrap_or_else(|io| io::Error::new(io.kind(), io.to_string())),
        ),
        // Every syntax error means the input ended inside some markup.
        quick_xml::Error::Syntax(
            SyntaxError::UnclosedTag
            | SyntaxError::UnclosedComment
            | SyntaxError::UnclosedCData
            | SyntaxError::UnclosedDoctype
            | SyntaxError::UnclosedPI
            | SyntaxError::UnclosedXmlDecl
            | SyntaxError::UnclosedSingleQuotedAttributeValue
            | SyntaxError::UnclosedDoubleQuotedAttributeValue,
        ) => CamtError::Truncated,
        other => CamtError::Malformed {
            position: xml.error_position(),
            detail: other.to_string(),
        },
    }
}

fn truncated(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

/// Makes the reader fail once one token (the bytes quick-xml gathers for one event) grows past
/// the limit. quick-xml collects a whole text or tag before it returns it, so without this a
/// single gigabyte-long text node would be read into memory before any length check could run.
struct TokenGuard<R> {
    inner: R,
    since_reset: usize,
    limit: usize,
    tripped: bool,
}

impl<R> TokenGuard<R> {
    fn new(inner: R, limit: usize) -> Self {
        Self {
            inner,
            since_reset: 0,
            limit,
            tripped: false,
        }
    }

    fn reset(&mut self) {
        self.since_reset = 0;
    }
}

impl<R: BufRead> Read for TokenGuard<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for TokenGuard<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.since_reset > self.limit {
            self.tripped = true;
            return Err(io::Error::other("XML token too long"));
        }
        // Never hand out more than the rest of the allowance (at least one byte, as an empty
        // slice would read as the end of input), so that a reader over a slice in memory cannot
        // make quick-xml copy all of it at once.
        let room = self.limit - self.since_reset + 1;
        let available = self.inner.fill_buf()?;
        let n = available.len().min(room);
        Ok(&available[..n])
    }

    fn consume(&mut self, amount: usize) {
        self.since_reset = self.since_reset.saturating_add(amount);
        self.inner.consume(amount);
    }
}

/// The elements the parser looks at; everything else is `Other` and only counts for depth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Document,
    BkToCstmrStmt,
    Stmt,
    Id,
    Acct,
    Iban,
    Ntry,
    Amt,
    CdtDbtInd,
    Sts,
    Cd,
    Prtry,
    BookgDt,
    ValDt,
    Dt,
    DtTm,
    AcctSvcrRef,
    NtryDtls,
    TxDtls,
    AmtDtls,
    TxAmt,
    Refs,
    EndToEndId,
    RltdPties,
    Dbtr,
    Pty,
    Nm,
    DbtrAcct,
    RmtInf,
    Ustrd,
    Strd,
    CdtrRefInf,
    Ref,
    Other,
}

impl Tag {
    fn from_local_name(name: &[u8]) -> Self {
        match name {
            b"Document" => Self::Document,
            b"BkToCstmrStmt" => Self::BkToCstmrStmt,
            b"Stmt" => Self::Stmt,
            b"Id" => Self::Id,
            b"Acct" => Self::Acct,
            b"IBAN" => Self::Iban,
            b"Ntry" => Self::Ntry,
            b"Amt" => Self::Amt,
            b"CdtDbtInd" => Self::CdtDbtInd,
            b"Sts" => Self::Sts,
            b"Cd" => Self::Cd,
            b"Prtry" => Self::Prtry,
            b"BookgDt" => Self::BookgDt,
            b"ValDt" => Self::ValDt,
            b"Dt" => Self::Dt,
            b"DtTm" => Self::DtTm,
            b"AcctSvcrRef" => Self::AcctSvcrRef,
            b"NtryDtls" => Self::NtryDtls,
            b"TxDtls" => Self::TxDtls,
            b"AmtDtls" => Self::AmtDtls,
            b"TxAmt" => Self::TxAmt,
            b"Refs" => Self::Refs,
            b"EndToEndId" => Self::EndToEndId,
            b"RltdPties" => Self::RltdPties,
            b"Dbtr" => Self::Dbtr,
            b"Pty" => Self::Pty,
            b"Nm" => Self::Nm,
            b"DbtrAcct" => Self::DbtrAcct,
            b"RmtInf" => Self::RmtInf,
            b"Ustrd" => Self::Ustrd,
            b"Strd" => Self::Strd,
            b"CdtrRefInf" => Self::CdtrRefInf,
            b"Ref" => Self::Ref,
            _ => Self::Other,
        }
    }
}

/// An error found by the parser that still needs the reader's position to be reported.
enum Problem {
    Camt(CamtError),
    Malformed(String),
}

impl Problem {
    fn at<R>(self, xml: &Reader<R>) -> CamtError {
        match self {
            Self::Camt(error) => error,
            Self::Malformed(detail) => CamtError::Malformed {
                position: xml.buffer_position(),
                detail,
            },
        }
    }
}

impl From<CamtError> for Problem {
    fn from(error: CamtError) -> Self {
        Self::Camt(error)
    }
}

#[derive(Default)]
struct EntryBuilder {
    amount: Option<Money>,
    currency: Option<String>,
    credit: Option<bool>,
    status: Option<EntryStatus>,
    entry_ref: Option<String>,
    booking_date: Option<String>,
    value_date: Option<String>,
    transactions: Vec<Transaction>,
}

#[derive(Default)]
struct TransactionBuilder {
    transaction: Transaction,
    /// `AmtDtls/TxAmt/Amt`, used only when `TxDtls/Amt` is absent (always so in v02).
    detail_amount: Option<Money>,
}

/// Receives each entry as soon as it is complete, with its statement's header (its `entries`
/// stay empty), so that a large statement is never held in memory as a whole.
pub type EntrySink<'a> = &'a mut dyn FnMut(&Statement, Entry) -> Result<(), CamtError>;

struct Parser<'a> {
    sink: Option<EntrySink<'a>>,
    limits: Limits,
    /// Open elements from the root down; its length is the depth.
    stack: Vec<Tag>,
    /// Text of the innermost open element since its last child, unescaped.
    text: String,
    version: Option<CamtVersion>,
    root_closed: bool,
    statements: Vec<Statement>,
    statement: Option<Statement>,
    entry: Option<EntryBuilder>,
    transaction: Option<TransactionBuilder>,
    /// Entries so far, counting from 1 across statements, which is how errors name an entry.
    entry_no: usize,
    transaction_count: usize,
}

impl<'a> Parser<'a> {
    fn new(limits: Limits, sink: Option<EntrySink<'a>>) -> Self {
        Self {
            sink,
            limits,
            stack: Vec::new(),
            text: String::new(),
            version: None,
            root_closed: false,
            statements: Vec::new(),
            statement: None,
            entry: None,
            transaction: None,
            entry_no: 0,
            transaction_count: 0,
        }
    }

    fn in_root(&self) -> bool {
        !self.stack.is_empty()
    }

    fn start(&mut self, start: &BytesStart<'_>) -> Result<(), Problem> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(CamtError::TooDeep {
                limit: self.limits.max_depth,
            }
            .into());
        }
        let tag = Tag::from_local_name(start.local_name().as_ref().as_bytes());
        let is_root = self.stack.is_empty();
        if is_root && tag != Tag::Document {
            return Err(CamtError::NotCamt053.into());
        }
        let namespace_attribute: Cow<'_, [u8]> = match start.name().prefix() {
            _ if !is_root => Cow::Borrowed(b""),
            Some(prefix) => [b"xmlns:".as_slice(), prefix.as_ref().as_bytes()]
                .concat()
                .into(),
            None => b"xmlns".as_slice().into(),
        };
        let mut namespace = None;
        let mut currency = None;
        // Every attribute is checked, not only the ones used, so that a malformed or
        // undefined-entity attribute anywhere rejects the document like any other XML error.
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|e| Problem::Malformed(e.to_string()))?;
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| Problem::Malformed(e.to_string()))?;
            if !is_xml_text(&value) {
                return Err(Problem::Malformed(
                    "control character in an attribute".into(),
                ));
            }
            if is_root && attribute.key.as_ref().as_bytes() == namespace_attribute.as_ref() {
                namespace = Some(value.trim().to_owned());
            } else if tag == Tag::Amt && attribute.key.as_ref() == "Ccy" {
                currency = Some(value.trim().to_owned());
            }
        }
        if is_root {
            let namespace = namespace.ok_or(CamtError::NotCamt053)?;
            self.version = Some(CamtVersion::from_namespace(&namespace)?);
        }
        self.stack.push(tag);
        self.text.clear();
        self.on_start(currency)
    }

    fn on_start(&mut self, currency: Option<String>) -> Result<(), Problem> {
        use Tag as T;
        let [T::Document, T::BkToCstmrStmt, T::Stmt, rest @ ..] = self.stack.as_slice() else {
            return Ok(());
        };
        match rest {
            [] => {
                if self.statements.len() >= self.limits.max_entries {
                    return Err(self.too_many());
                }
                if let Some(version) = self.version {
                    self.statement = Some(Statement {
                        version,
                        statement_id: None,
                        account_iban: None,
                        entries: Vec::new(),
                    });
                }
            }
            [T::Ntry] => {
                if self.entry_no >= self.limits.max_entries {
                    return Err(self.too_many());
                }
                self.entry_no += 1;
                self.entry = Some(EntryBuilder::default());
            }
            [T::Ntry, T::Amt] => {
                if let Some(entry) = self.entry.as_mut() {
                    entry.currency = currency;
                }
            }
            [T::Ntry, T::NtryDtls, T::TxDtls] => {
                if self.transaction_count >= self.limits.max_entries {
                    return Err(self.too_many());
                }
                self.transaction_count += 1;
                self.transaction = Some(TransactionBuilder::default());
            }
            _ => {}
        }
        Ok(())
    }

    fn too_many(&self) -> Problem {
        CamtError::TooManyEntries {
            limit: self.limits.max_entries,
        }
        .into()
    }

    fn text(&mut self, text: &str) -> Result<(), Problem> {
        if self.text.len().saturating_add(text.len()) > self.limits.max_text_len {
            return Err(CamtError::TextTooLong {
                limit: self.limits.max_text_len,
            }
            .into());
        }
        if !is_xml_text(text) {
            return Err(Problem::Malformed("control character in text".into()));
        }
        self.text.push_str(text);
        Ok(())
    }

    fn end(&mut self) -> Result<(), Problem> {
        let result = self.on_end();
        self.stack.pop();
        self.text.clear();
        if self.stack.is_empty() {
            self.root_closed = true;
        }
        result
    }

    fn on_end(&mut self) -> Result<(), Problem> {
        use Tag as T;
        let [T::Document, T::BkToCstmrStmt, T::Stmt, rest @ ..] = self.stack.as_slice() else {
            return Ok(());
        };
        let text = self.text.trim();
        let entry_no = self.entry_no;
        match rest {
            [] => {
                if let Some(statement) = self.statement.take() {
                    self.statements.push(statement);
                }
            }
            [T::Id] => {
                if let Some(statement) = self.statement.as_mut() {
                    statement.statement_id = non_empty(text);
                }
            }
            [T::Acct, T::Id, T::Iban] => {
                if let Some(statement) = self.statement.as_mut() {
                    statement.account_iban = non_empty(text);
                }
            }
            [T::Ntry] => {
                if let Some(entry) = self.entry.take() {
                    let entry = finish_entry(entry, entry_no)?;
                    if let Some(statement) = self.statement.as_mut() {
                        match self.sink.as_mut() {
                            Some(sink) => sink(statement, entry)?,
                            None => statement.entries.push(entry),
                        }
                    }
                }
            }
            [T::Ntry, entry_rest @ ..] => {
                let Some(entry) = self.entry.as_mut() else {
                    return Ok(());
                };
                match entry_rest {
                    [T::Amt] => entry.amount = Some(amount(text, entry_no)?),
                    [T::CdtDbtInd] => {
                        entry.credit = Some(match text {
                            "CRDT" => true,
                            "DBIT" => false,
                            _ => return Err(invalid(entry_no, "CdtDbtInd", text).into()),
                        });
                    }
                    // v02 and v04 write the code directly, v08 wraps it in `Cd` (or `Prtry`);
                    // the text of an `Sts` holding `Cd` is only whitespace.
                    [T::Sts] if !text.is_empty() => {
                        entry.status = Some(EntryStatus::from_code(text));
                    }
                    [T::Sts, T::Cd | T::Prtry] => {
                        entry.status = Some(EntryStatus::from_code(text));
                    }
                    [T::BookgDt, T::Dt | T::DtTm] => {
                        entry.booking_date = Some(date(text, entry_no, "BookgDt")?);
                    }
                    [T::ValDt, T::Dt | T::DtTm] => {
                        entry.value_date = Some(date(text, entry_no, "ValDt")?);
                    }
                    [T::AcctSvcrRef] => entry.entry_ref = non_empty(text),
                    [T::NtryDtls, T::TxDtls] => {
                        if let Some(builder) = self.transaction.take() {
                            let mut transaction = builder.transaction;
                            transaction.amount = transaction.amount.or(builder.detail_amount);
                            entry.transactions.push(transaction);
                        }
                    }
                    [T::NtryDtls, T::TxDtls, tx_rest @ ..] => {
                        if let Some(builder) = self.transaction.as_mut() {
                            transaction_field(builder, tx_rest, text, entry_no)?;
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn transaction_field(
    builder: &mut TransactionBuilder,
    path: &[Tag],
    text: &str,
    entry_no: usize,
) -> Result<(), CamtError> {
    use Tag as T;
    let transaction = &mut builder.transaction;
    match path {
        [T::Amt] => transaction.amount = Some(amount(text, entry_no)?),
        [T::AmtDtls, T::TxAmt, T::Amt] => builder.detail_amount = Some(amount(text, entry_no)?),
        [T::Refs, T::EndToEndId] => {
            transaction.end_to_end_id = non_empty(text).filter(|id| id != "NOTPROVIDED");
        }
        // `Dbtr` is a party in v02 and v04 but a choice of party or agent (`Pty`) in v08.
        [T::RltdPties, T::Dbtr, T::Nm] | [T::RltdPties, T::Dbtr, T::Pty, T::Nm] => {
            transaction.debtor_name = non_empty(text);
        }
        [T::RltdPties, T::DbtrAcct, T::Id, T::Iban] => transaction.debtor_iban = non_empty(text),
        [T::RmtInf, T::Ustrd] if !text.is_empty() => {
            transaction.unstructured.push(text.to_owned());
        }
        [T::RmtInf, T::Strd, T::CdtrRefInf, T::Ref] if transaction.creditor_reference.is_none() => {
            transaction.creditor_reference = non_empty(text);
        }
        _ => {}
    }
    Ok(())
}

fn finish_entry(entry: EntryBuilder, entry_no: usize) -> Result<Entry, CamtError> {
    let missing = |field| CamtError::MissingField {
        entry: entry_no,
        field,
    };
    let amount = entry.amount.ok_or_else(|| missing("Amt"))?;
    let currency = entry.currency.ok_or_else(|| missing("Ccy"))?;
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(entry_no, "Ccy", &currency));
    }
    Ok(Entry {
        entry_ref: entry.entry_ref,
        amount,
        currency,
        credit: entry.credit.ok_or_else(|| missing("CdtDbtInd"))?,
        status: entry.status.ok_or_else(|| missing("Sts"))?,
        booking_date: entry.booking_date,
        value_date: entry.value_date,
        transactions: entry.transactions,
    })
}

fn invalid(entry: usize, field: &'static str, value: &str) -> CamtError {
    CamtError::InvalidValue {
        entry,
        field,
        value: truncated(value, 40),
    }
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

fn amount(text: &str, entry_no: usize) -> Result<Money, CamtError> {
    parse_decimal(text).ok_or_else(|| CamtError::InvalidAmount {
        entry: entry_no,
        value: truncated(text, 40),
    })
}

/// An `xs:decimal` as cents, exactly: no floating point, nothing negative and no fractions of a
/// cent, which a statement in euros never has.
fn parse_decimal(text: &str) -> Option<Money> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if (whole.is_empty() && fraction.is_empty())
        || fraction.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut cents: i64 = 0;
    for b in whole.bytes().chain(fraction.bytes()) {
        cents = cents.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    for _ in fraction.len()..2 {
        cents = cents.checked_mul(10)?;
    }
    Some(Money(cents))
}

/// The date part of an `xs:date` or `xs:dateTime`, as the bank wrote it (its local date).
fn date(text: &str, entry_no: usize, field: &'static str) -> Result<String, CamtError> {
    let bytes = text.as_bytes();
    let digits_at = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let two = |at: usize| {
        bytes
            .get(at..at + 2)
            .map_or(0, |d| (d[0] - b'0') * 10 + (d[1] - b'0'))
    };
    let well_formed = digits_at(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits_at(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits_at(8..10)
        && (1..=12).contains(&two(5))
        && (1..=31).contains(&two(8))
        && matches!(bytes.get(10), None | Some(b'T' | b'Z' | b'+' | b'-'));
    match text.get(..10) {
        Some(day) if well_formed => Ok(day.to_owned()),
        _ => Err(invalid(entry_no, field, text)),
    }
}

/// One entry for [`write_sample_statement`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleCredit {
    pub entry_ref: String,
    pub amount: Money,
    pub debtor_name: String,
    pub debtor_iban: String,
    /// Written as a structured creditor reference (`Strd/CdtrRefInf/Ref`).
    pub reference: Option<String>,
    /// One `Ustrd` each.
    pub unstructured: Vec<String>,
    /// `BOOK` rather than `PDNG`.
    pub booked: bool,
    /// `CRDT` rather than `DBIT`. A debit's counterparty is written as creditor (`Cdtr`), as
    /// banks do, so the parser reports no debtor for it.
    pub credit: bool,
    /// `YYYY-MM-DD`, used for booking and value date.
    pub booking_date: String,
}

const SAMPLE_ACCOUNT: &str = "DE89370400440532013000";

/// Writes a realistic statement of one account in the given version, for benchmarks and tests
/// that need statements of any size without keeping them in memory.
///
/// Fails with `InvalidInput` for what a camt.053 document cannot carry: a negative amount or a
/// control character in a text.
pub fn write_sample_statement<W: Write>(
    w: W,
    version: CamtVersion,
    entries: impl Iterator<Item = SampleCredit>,
) -> io::Result<()> {
    let mut w = io::BufWriter::new(w);
    let statement_id = "SAMPLE-2024-03-04";
    write!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Document xmlns=\"{ns}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n\
         <BkToCstmrStmt>\n\
         <GrpHdr><MsgId>{statement_id}</MsgId><CreDtTm>2024-03-05T06:00:00+01:00</CreDtTm></GrpHdr>\n\
         <Stmt>\n\
         <Id>{statement_id}</Id>\n\
         <ElctrncSeqNb>1</ElctrncSeqNb>\n\
         <CreDtTm>2024-03-05T06:00:00+01:00</CreDtTm>\n\
         <Acct><Id><IBAN>{SAMPLE_ACCOUNT}</IBAN></Id><Ccy>EUR</Ccy></Acct>\n",
        ns = version.namespace(),
    )?;
    for (i, entry) in entries.enumerate() {
        write_sample_entry(&mut w, version, &entry, i)?;
    }
    w.write_all(b"</Stmt>\n</BkToCstmrStmt>\n</Document>\n")?;
    w.flush()
}

fn write_sample_entry<W: Write>(
    w: &mut W,
    version: CamtVersion,
    entry: &SampleCredit,
    index: usize,
) -> io::Result<()> {
    let amount = format_amount(entry.amount)?;
    let indicator = if entry.credit { "CRDT" } else { "DBIT" };
    let status = if entry.booked { "BOOK" } else { "PDNG" };
    write!(
        w,
        "<Ntry>\n<Amt Ccy=\"EUR\">{amount}</Amt>\n<CdtDbtInd>{indicator}</CdtDbtInd>\n"
    )?;
    match version {
        CamtVersion::V02 | CamtVersion::V04 => writeln!(w, "<Sts>{status}</Sts>")?,
        CamtVersion::V08 => writeln!(w, "<Sts><Cd>{status}</Cd></Sts>")?,
    }
    w.write_all(b"<BookgDt><Dt>")?;
    write_escaped(w, &entry.booking_date)?;
    w.write_all(b"</Dt></BookgDt>\n<ValDt><Dt>")?;
    write_escaped(w, &entry.booking_date)?;
    w.write_all(b"</Dt></ValDt>\n<AcctSvcrRef>")?;
    write_escaped(w, &entry.entry_ref)?;
    write!(
        w,
        "</AcctSvcrRef>\n\
         <BkTxCd><Prtry><Cd>NTRF+166+9310</Cd><Issr>ZKA</Issr></Prtry></BkTxCd>\n\
         <NtryDtls>\n<TxDtls>\n<Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>\n"
    )?;
    if version != CamtVersion::V02 {
        write!(
            w,
            "<Amt Ccy=\"EUR\">{amount}</Amt>\n<CdtDbtInd>{indicator}</CdtDbtInd>\n"
        )?;
    }
    write!(
        w,
        "<AmtDtls><TxAmt><Amt Ccy=\"EUR\">{amount}</Amt></TxAmt></AmtDtls>\n<RltdPties>\n"
    )?;
    let (party, account) = if entry.credit {
        ("Dbtr", "DbtrAcct")
    } else {
        ("Cdtr", "CdtrAcct")
    };
    let (open_party, close_party) = match version {
        CamtVersion::V08 => ("<Pty>", "</Pty>"),
        CamtVersion::V02 | CamtVersion::V04 => ("", ""),
    };
    write!(w, "<{party}>{open_party}<Nm>")?;
    write_escaped(w, &entry.debtor_name)?;
    write!(w, "</Nm>{close_party}</{party}>\n<{account}><Id><IBAN>")?;
    write_escaped(w, &entry.debtor_iban)?;
    write!(w, "</IBAN></Id></{account}>\n</RltdPties>\n<RmtInf>\n")?;
    for line in &entry.unstructured {
        w.write_all(b"<Ustrd>")?;
        write_escaped(w, line)?;
        w.write_all(b"</Ustrd>\n")?;
    }
    if let Some(reference) = &entry.reference {
        w.write_all(b"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>")?;
        write_escaped(w, reference)?;
        w.write_all(b"</Ref></CdtrRefInf></Strd>\n")?;
    }
    write!(
        w,
        "</RmtInf>\n</TxDtls>\n</NtryDtls>\n\
         <AddtlNtryInf>SAMPLE ENTRY {n}</AddtlNtryInf>\n</Ntry>\n",
        n = index + 1
    )
}

fn format_amount(amount: Money) -> io::Result<String> {
    if amount.0 < 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a camt.053 amount cannot be negative",
        ));
    }
    Ok(format!("{}.{:02}", amount.0 / 100, amount.0 % 100))
}

/// Escapes for both text and attribute values; a carriage return becomes a reference because
/// a literal one would be turned into a line feed by the reader.
fn write_escaped<W: Write>(w: &mut W, text: &str) -> io::Result<()> {
    let mut rest = text;
    while let Some(at) =
        rest.find(|c: char| matches!(c, '&' | '<' | '>' | '"' | '\'' | '\r') || !is_xml_char(c))
    {
        w.write_all(&rest.as_bytes()[..at])?;
        let c = rest[at..].chars().next().unwrap_or('\0');
        let escaped = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&apos;",
            '\r' => "&#13;",
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "control characters cannot be written to XML",
                ))
            }
        };
        w.write_all(escaped.as_bytes())?;
        rest = &rest[at + c.len_utf8()..];
    }
    w.write_all(rest.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::fmt::Write as _;

    const V02: &str = include_str!("../../tests/fixtures/camt/v02.xml");
    const V04: &str = include_str!("../../tests/fixtures/camt/v04.xml");
    const V08: &str = include_str!("../../tests/fixtures/camt/v08.xml");

    const NS02: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02";

    fn parse_str(xml: &str) -> Result<Vec<Statement>, CamtError> {
        parse(xml.as_bytes(), &Limits::default())
    }

    fn parse_bytes_with(xml: &[u8], limits: &Limits) -> Result<Vec<Statement>, CamtError> {
        parse(xml, limits)
    }

    fn s(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    fn tx(
        amount: Option<i64>,
        end_to_end_id: Option<&str>,
        debtor_name: Option<&str>,
        debtor_iban: Option<&str>,
        unstructured: &[&str],
        creditor_reference: Option<&str>,
    ) -> Transaction {
        Transaction {
            amount: amount.map(Money),
            end_to_end_id: end_to_end_id.map(str::to_owned),
            debtor_name: debtor_name.map(str::to_owned),
            debtor_iban: debtor_iban.map(str::to_owned),
            unstructured: unstructured.iter().map(|u| (*u).to_owned()).collect(),
            creditor_reference: creditor_reference.map(str::to_owned),
        }
    }

    fn entry(
        entry_ref: &str,
        cents: i64,
        credit: bool,
        status: EntryStatus,
        booking_date: Option<&str>,
        value_date: &str,
        transactions: Vec<Transaction>,
    ) -> Entry {
        Entry {
            entry_ref: s(entry_ref),
            amount: Money(cents),
            currency: "EUR".into(),
            credit,
            status,
            booking_date: booking_date.map(str::to_owned),
            value_date: s(value_date),
            transactions,
        }
    }

    /// The five entries every fixture has, which differ between the files only in dates,
    /// references, the debit's details and whether transactions carry their own amount.
    fn fixture_entries(
        day: &str,
        pending_day: &str,
        ref_prefix: &str,
        debit: Transaction,
        tx_amounts: bool,
    ) -> Vec<Entry> {
        let amt = |cents: i64| tx_amounts.then_some(cents);
        let schmitz = "Hausverwaltung Schmitz GmbH";
        let schmitz_iban = "DE02300209000106531065";
        vec![
            entry(
                &format!("{ref_prefix}1"),
                3070,
                true,
                EntryStatus::Booked,
                Some(day),
                day,
                vec![tx(
                    Some(3070),
                    Some("E2E-2024-0001"),
                    Some("Jürgen Müller & Söhne"),
                    Some("DE02120300000000202051"),
                    &[],
                    Some("RF18539007547034"),
                )],
            ),
            entry(
                &format!("{ref_prefix}2"),
                123_450,
                true,
                EntryStatus::Booked,
                Some(day),
                day,
                vec![tx(
                    Some(123_450),
                    None,
                    Some("Erika Mustermann"),
                    Some("DE02500105170137075030"),
                    &[
                        "Gebuehrenbescheid Az. A7K 3M9",
                        "XQX Bauantrag Gartenstr. 5",
                    ],
                    None,
                )],
            ),
            entry(
                &format!("{ref_prefix}3"),
                1200,
                false,
                EntryStatus::Booked,
                Some(day),
                day,
                vec![debit],
            ),
            entry(
                &format!("{ref_prefix}4"),
                8500,
                true,
                EntryStatus::Pending,
                None,
                pending_day,
                vec![tx(
                    amt(8500),
                    Some("ABC123XYZ"),
                    Some("Hans O'Brien"),
                    Some("DE02100500000054540402"),
                    &["Hundesteuer 2024 K4T-8R2-PBK"],
                    None,
                )],
            ),
            entry(
                &format!("{ref_prefix}5"),
                30000,
                true,
                EntryStatus::Booked,
                Some(day),
                day,
                vec![
                    tx(
                        Some(12000),
                        Some("SAMMEL-2024-03-1"),
                        Some(schmitz),
                        Some(schmitz_iban),
                        &[],
                        Some("RF492024000123"),
                    ),
                    tx(
                        Some(18000),
                        Some("SAMMEL-2024-03-2"),
                        Some(schmitz),
                        Some(schmitz_iban),
                        &["Strassenreinigung 2024 7HN-5W3-DZ9 <Objekt 3>"],
                        None,
                    ),
                ],
            ),
        ]
    }

    #[test]
    fn parses_v02_fixture() {
        let statements = parse_str(V02).unwrap();
        let debit = tx(
            None,
            None,
            None,
            None,
            &["Kontofuehrungsentgelt 02/2024"],
            None,
        );
        assert_eq!(
            statements,
            vec![Statement {
                version: CamtVersion::V02,
                statement_id: s("0352C5320240304061234"),
                account_iban: s("DE89370400440532013000"),
                entries: fixture_entries("2024-03-01", "2024-03-04", "202403010000", debit, false),
            }]
        );
    }

    #[test]
    fn parses_v04_fixture() {
        let statements = parse_str(V04).unwrap();
        let debit = tx(
            Some(1200),
            Some("KASSE-2024-0042"),
            None,
            None,
            &["Rueckerstattung Ueberzahlung"],
            None,
        );
        assert_eq!(
            statements,
            vec![Statement {
                version: CamtVersion::V04,
                statement_id: s("STMT-2024-03-04"),
                account_iban: s("DE89370400440532013000"),
                entries: fixture_entries("2024-03-04", "2024-03-05", "202403040000", debit, true),
            }]
        );
    }

    #[test]
    fn parses_v08_fixture() {
        let statements = parse_str(V08).unwrap();
        let debit = tx(
            Some(1200),
            Some("KASSE-2024-0043"),
            None,
            None,
            &["Rueckerstattung Ueberzahlung"],
            None,
        );
        assert_eq!(
            statements,
            vec![
                Statement {
                    version: CamtVersion::V08,
                    statement_id: s("2024-03-05-DE89370400440532013000"),
                    account_iban: s("DE89370400440532013000"),
                    entries: fixture_entries(
                        "2024-03-05",
                        "2024-03-06",
                        "202403050000",
                        debit,
                        true
                    ),
                },
                Statement {
                    version: CamtVersion::V08,
                    statement_id: s("2024-03-05-DE02300209000106531065"),
                    account_iban: s("DE02300209000106531065"),
                    entries: vec![entry(
                        "2024030500101",
                        4999,
                        true,
                        EntryStatus::Booked,
                        Some("2024-03-05"),
                        "2024-03-05",
                        vec![tx(
                            Some(4999),
                            None,
                            Some("Zoë Çelik"),
                            None,
                            &["Parkausweis 2024"],
                            None
                        )],
                    )],
                },
            ]
        );
    }

    /// A minimal v02 document around the given entries.
    fn doc(entries: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?><Document xmlns=\"{NS02}\"><BkToCstmrStmt><Stmt>\
             <Id>S1</Id>{entries}</Stmt></BkToCstmrStmt></Document>"
        )
    }

    fn ntry(amount: &str) -> String {
        format!(
            "<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts></Ntry>"
        )
    }

    fn only_entry(xml: &str) -> Entry {
        let mut statements = parse_str(xml).unwrap();
        assert_eq!(statements.len(), 1);
        let mut entries = statements.remove(0).entries;
        assert_eq!(entries.len(), 1);
        entries.remove(0)
    }

    #[test]
    fn amounts_are_exact_cents() {
        for (text, cents) in [
            ("30.70", 3070),
            ("1234.5", 123_450),
            ("12", 1200),
            ("0.01", 1),
            ("0", 0),
            ("+7.5", 750),
            ("007.05", 705),
            ("12.", 1200),
            (".5", 50),
            ("92233720368547758.07", i64::MAX),
            (" \n 19.99 \t", 1999),
        ] {
            assert_eq!(only_entry(&doc(&ntry(text))).amount, Money(cents), "{text}");
        }
        for text in [
            "-5.00",
            "-0",
            "1.234",
            "12,50",
            "",
            ".",
            "1e3",
            "1 000",
            "0x10",
            "92233720368547758.08",
            "99999999999999999999",
            "++1",
            "NaN",
            "١٢",
        ] {
            assert!(
                matches!(
                    parse_str(&doc(&ntry(text))),
                    Err(CamtError::InvalidAmount { entry: 1, .. })
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn missing_fields_name_the_entry() {
        let complete = ntry("1.00");
        for (needle, field) in [
            ("<Amt Ccy=\"EUR\">1.00</Amt>", "Amt"),
            ("<CdtDbtInd>CRDT</CdtDbtInd>", "CdtDbtInd"),
            ("<Sts>BOOK</Sts>", "Sts"),
            (" Ccy=\"EUR\"", "Ccy"),
        ] {
            let broken = complete.replace(needle, "");
            let xml = doc(&format!("{complete}{complete}{broken}"));
            match parse_str(&xml) {
                Err(CamtError::MissingField { entry: 3, field: f }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn invalid_values_are_refused() {
        let cases = [
            (ntry("1").replace("CRDT", "CREDIT"), "CdtDbtInd"),
            (ntry("1").replace("EUR", "eur"), "Ccy"),
            (ntry("1").replace("EUR", "EURO"), "Ccy"),
            (
                ntry("1").replace("</Sts>", "</Sts><BookgDt><Dt>2024-13-01</Dt></BookgDt>"),
                "BookgDt",
            ),
            (
                ntry("1").replace("</Sts>", "</Sts><ValDt><Dt>01.03.2024</Dt></ValDt>"),
                "ValDt",
            ),
            (
                ntry("1").replace(
                    "</Sts>",
                    "</Sts><ValDt><DtTm>2024-03-01 10:00</DtTm></ValDt>",
                ),
                "ValDt",
            ),
        ];
        for (entry_xml, field) in cases {
            match parse_str(&doc(&entry_xml)) {
                Err(CamtError::InvalidValue {
                    entry: 1, field: f, ..
                }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn dates_take_the_date_part() {
        for (element, expected) in [
            ("<Dt>2024-03-01</Dt>", "2024-03-01"),
            ("<Dt>2024-03-01+01:00</Dt>", "2024-03-01"),
            ("<DtTm>2024-02-29T23:59:59.999+01:00</DtTm>", "2024-02-29"),
            ("<DtTm>2024-12-31T00:00:00Z</DtTm>", "2024-12-31"),
        ] {
            let xml = doc(&ntry("1").replace(
                "</Sts>",
                &format!("</Sts><BookgDt>{element}</BookgDt><ValDt>{element}</ValDt>"),
            ));
            let entry = only_entry(&xml);
            assert_eq!(entry.booking_date.as_deref(), Some(expected));
            assert_eq!(entry.value_date.as_deref(), Some(expected));
        }
    }

    #[test]
    fn other_status_codes_are_kept() {
        let entry = only_entry(&doc(&ntry("1").replace("BOOK", "INFO")));
        assert_eq!(entry.status, EntryStatus::Other("INFO".into()));
        let v08 = ntry("1").replace("<Sts>BOOK</Sts>", "<Sts><Prtry>XYZ</Prtry></Sts>");
        let entry = only_entry(&doc(&v08));
        assert_eq!(entry.status, EntryStatus::Other("XYZ".into()));
    }

    #[test]
    fn prefixes_are_ignored_but_the_namespace_is_checked() {
        let xml = format!(
            "<c:Document xmlns:c=\"{NS02}\"><c:BkToCstmrStmt><c:Stmt><c:Ntry>\
             <c:Amt Ccy=\"EUR\">5</c:Amt><c:CdtDbtInd>DBIT</c:CdtDbtInd><c:Sts>BOOK</c:Sts>\
             </c:Ntry></c:Stmt></c:BkToCstmrStmt></c:Document>"
        );
        let statements = parse_str(&xml).unwrap();
        assert_eq!(statements[0].entries[0].amount, Money(500));
        assert!(!statements[0].entries[0].credit);

        // The default namespace does not apply to a prefixed root.
        let wrong = format!(
            "<c:Document xmlns=\"{NS02}\" xmlns:c=\"urn:example\"><c:BkToCstmrStmt/></c:Document>"
        );
        assert!(matches!(parse_str(&wrong), Err(CamtError::NotCamt053)));
    }

    #[test]
    fn unknown_elements_are_skipped_even_with_known_names() {
        let extension = "<SplmtryData><Envlp><Ntry><Amt Ccy=\"EUR\">oops</Amt></Ntry>\
                         <Id><IBAN>XX</IBAN></Id></Envlp></SplmtryData>";
        let xml = doc(&format!("{}{extension}", ntry("2.50")))
            .replace("<Id>S1</Id>", &format!("<Id>S1</Id>{extension}"));
        let statements = parse_str(&xml).unwrap();
        assert_eq!(statements[0].statement_id.as_deref(), Some("S1"));
        assert_eq!(statements[0].account_iban, None);
        assert_eq!(statements[0].entries.len(), 1);
    }

    #[test]
    fn text_is_unescaped_and_trimmed() {
        let details = "<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>\r\n  A &amp; B &lt;C&gt; &quot;D&quot; \
             &apos;E&apos; &#228;&#xFC;<!-- comment -->&#x1F600; <![CDATA[<x> & ]]>y\r\n</Nm></Dbtr>\
             </RltdPties><RmtInf><Ustrd>line1\r\nline2</Ustrd><Ustrd>  </Ustrd><Ustrd/>\
             <Ustrd>&#13;</Ustrd></RmtInf></TxDtls></NtryDtls>";
        let xml = doc(&ntry("1").replace("</Sts>", &format!("</Sts>{details}")))
            .replace("Ccy=\"EUR\"", "Ccy=' &#69;U&#x52; '");
        let entry = only_entry(&xml);
        assert_eq!(entry.currency, "EUR");
        let transaction = &entry.transactions[0];
        assert_eq!(
            transaction.debtor_name.as_deref(),
            Some("A & B <C> \"D\" 'E' äü😀 <x> & y")
        );
        // A line break inside the text is kept (as LF, as XML says); blank elements are
        // dropped; a CR written as a reference survives until trimming removes it.
        assert_eq!(transaction.unstructured, vec!["line1\nline2".to_owned()]);
    }

    #[test]
    fn end_to_end_id_notprovided_is_none() {
        let details = "<NtryDtls><TxDtls><Refs><EndToEndId> NOTPROVIDED </EndToEndId></Refs>\
                       </TxDtls><TxDtls><Refs><EndToEndId>X-1</EndToEndId></Refs></TxDtls></NtryDtls>";
        let entry = only_entry(&doc(
            &ntry("1").replace("</Sts>", &format!("</Sts>{details}"))
        ));
        assert_eq!(entry.transactions[0].end_to_end_id, None);
        assert_eq!(entry.transactions[1].end_to_end_id.as_deref(), Some("X-1"));
    }

    #[test]
    fn prolog_and_epilog_may_hold_comments_and_whitespace() {
        let xml = format!(
            "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- a -->\n<?pi x?>\r\n{}\n<!-- b -->\n\n",
            doc(&ntry("1")).replace("<?xml version=\"1.0\"?>", "")
        );
        assert_eq!(parse_str(&xml).unwrap()[0].entries.len(), 1);
    }

    #[test]
    fn empty_document_and_statement_are_fine() {
        assert_eq!(
            parse_str(&format!("<Document xmlns=\"{NS02}\"/>")).unwrap(),
            vec![]
        );
        let statements = parse_str(&doc("")).unwrap();
        assert_eq!(statements.len(), 1);
        assert!(statements[0].entries.is_empty());
    }

    fn assert_malformed(xml: &str) {
        match parse_str(xml) {
            Err(CamtError::Malformed { .. }) => {}
            other => panic!("expected Malformed for {xml:?}, got {other:?}"),
        }
    }

    #[test]
    fn malformed_documents_are_refused() {
        let good = doc(&ntry("1"));
        assert_malformed(&good.replace("</Stmt>", "</Stmmt>"));
        assert_malformed(&good.replace("<Sts>BOOK</Sts>", "<Sts>BOOK</Sts></Sts>"));
        assert_malformed(&good.replace("BOOK", "&unknown;"));
        assert_malformed(&good.replace("BOOK", "BO & OK"));
        assert_malformed(&good.replace("BOOK", "&#1;"));
        assert_malformed(&good.replace("BOOK", "&#0;"));
        assert_malformed(&good.replace("BOOK", "&#xD800;"));
        assert_malformed(&good.replace("BOOK", "&#xFFFE;"));
        assert_malformed(&good.replace("BOOK", "BO\u{1}OK"));
        assert_malformed(&good.replace("Ccy=\"EUR\"", "Ccy=\"EUR\" Ccy=\"USD\""));
        assert_malformed(&good.replace("Ccy=\"EUR\"", "Ccy=\"&ent;\""));
        assert_malformed(&good.replace("Ccy=\"EUR\"", "Ccy=EUR"));
        assert_malformed(
            &good
                .replace("<!--", "")
                .replace("<Id>S1</Id>", "<!-- a -- b -->"),
        );
        assert_malformed(&format!("{good}<Document/>"));
        assert_malformed(&format!("{good}garbage"));
        assert_malformed(&format!("{good}</Document>"));
        assert_malformed(&format!("{good}&amp;"));
        assert_malformed(&format!("{good}<![CDATA[x]]>"));
        assert_malformed(&format!("junk{good}"));
        assert_malformed(&format!(" {good}"));
        assert_malformed(
            &good.replace("version=\"1.0\"", "version=\"1.0\" encoding=\"ISO-8859-1\""),
        );
        let mut invalid_utf8 = doc(&ntry("1").replace("BOOK", "B\u{e4}K")).into_bytes();
        let at = invalid_utf8.iter().position(|&b| b == 0xC3).unwrap();
        invalid_utf8.remove(at);
        assert!(matches!(
            parse_bytes_with(&invalid_utf8, &Limits::default()),
            Err(CamtError::Malformed { .. })
        ));
    }

    #[test]
    fn truncation_is_reported() {
        let good = doc(&ntry("1"));
        let cut = &good[..good.len() - "</Document>".len()];
        assert!(matches!(parse_str(cut), Err(CamtError::Truncated)));
        assert!(matches!(
            parse_str(&good[..good.len() - 3]),
            Err(CamtError::Truncated)
        ));
        assert!(matches!(
            parse_str(&good.replace("<Id>S1</Id>", "<!-- open")),
            Err(CamtError::Truncated)
        ));
    }

    /// Every prefix of a valid file that stops before the root is closed must be refused, and no
    /// prefix may panic.
    #[test]
    fn every_prefix_of_the_fixtures_is_refused() {
        for fixture in [V02, V04, V08] {
            let bytes = fixture.as_bytes();
            let root_end = fixture.rfind("</Document>").unwrap() + "</Document>".len();
            for len in 0..bytes.len() {
                let result = parse_bytes_with(&bytes[..len], &Limits::default());
                if len < root_end {
                    assert!(result.is_err(), "prefix of {len} bytes was accepted");
                } else {
                    assert!(result.is_ok(), "{len}: {result:?}");
                }
            }
        }
    }

    #[test]
    fn doctype_is_refused() {
        let billion_laughs = format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE Document [\n<!ENTITY lol \"lol\">\n\
             <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n\
             <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n\
             <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n\
             <!ENTITY lol9 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n\
             ]>\n{}",
            doc(&ntry("1").replace("BOOK", "&lol9;")).replace("<?xml version=\"1.0\"?>", "")
        );
        assert!(matches!(
            parse_str(&billion_laughs),
            Err(CamtError::DoctypeNotAllowed)
        ));
        let external = format!(
            "<?xml version=\"1.0\"?><!DOCTYPE Document [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>{}",
            doc(&ntry("1").replace("BOOK", "&xxe;")).replace("<?xml version=\"1.0\"?>", "")
        );
        assert!(matches!(
            parse_str(&external),
            Err(CamtError::DoctypeNotAllowed)
        ));
        let plain = format!("<!DOCTYPE Document>{}", doc(""));
        assert!(matches!(
            parse_str(&plain),
            Err(CamtError::DoctypeNotAllowed)
        ));
        // Without a DOCTYPE the entities are merely undefined.
        assert_malformed(&doc(&ntry("1").replace("BOOK", "&xxe;")));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let depth = 10_000;
        let xml = format!(
            "<Document xmlns=\"{NS02}\">{}{}</Document>",
            "<a>".repeat(depth),
            "</a>".repeat(depth)
        );
        assert!(matches!(
            parse_str(&xml),
            Err(CamtError::TooDeep { limit: 64 })
        ));
        // Also before the root is identified, and with only empty elements at the limit.
        let xml = "<a>".repeat(depth);
        assert!(matches!(parse_str(&xml), Err(CamtError::NotCamt053)));
        let limits = Limits {
            max_depth: 4,
            ..Limits::default()
        };
        let at_limit = format!(
            "<Document xmlns=\"{NS02}\"><BkToCstmrStmt><Stmt><x/></Stmt></BkToCstmrStmt></Document>"
        );
        assert!(parse(at_limit.as_bytes(), &limits).is_ok());
        let over = at_limit.replace("<x/>", "<x><y/></x>");
        assert!(matches!(
            parse(over.as_bytes(), &limits),
            Err(CamtError::TooDeep { limit: 4 })
        ));
    }

    #[test]
    fn entry_count_is_limited() {
        let limits = Limits {
            max_entries: 3,
            ..Limits::default()
        };
        let three = doc(&ntry("1").repeat(3));
        assert_eq!(
            parse(three.as_bytes(), &limits).unwrap()[0].entries.len(),
            3
        );
        let four = doc(&ntry("1").repeat(4));
        assert!(matches!(
            parse(four.as_bytes(), &limits),
            Err(CamtError::TooManyEntries { limit: 3 })
        ));
        // Transactions and statements cost memory too.
        let txs = doc(&ntry("1").replace(
            "</Sts>",
            &format!("</Sts><NtryDtls>{}</NtryDtls>", "<TxDtls/>".repeat(4)),
        ));
        assert!(matches!(
            parse(txs.as_bytes(), &limits),
            Err(CamtError::TooManyEntries { limit: 3 })
        ));
        let statements = format!(
            "<Document xmlns=\"{NS02}\"><BkToCstmrStmt>{}</BkToCstmrStmt></Document>",
            "<Stmt/>".repeat(4)
        );
        assert!(matches!(
            parse(statements.as_bytes(), &limits),
            Err(CamtError::TooManyEntries { limit: 3 })
        ));
    }

    #[test]
    fn long_texts_are_refused() {
        let limit = Limits::default().max_text_len;
        let fits = doc(&ntry("1").replace("BOOK", &"x".repeat(limit)));
        assert!(parse_str(&fits).is_ok());
        let too_long = doc(&ntry("1").replace("BOOK", &"x".repeat(limit + 1)));
        assert!(matches!(
            parse_str(&too_long),
            Err(CamtError::TextTooLong { limit: 10_000 })
        ));
        // Counted after unescaping, over all pieces of one text.
        let escaped = doc(&ntry("1").replace("BOOK", &"&amp;".repeat(limit + 1)));
        assert!(matches!(
            parse_str(&escaped),
            Err(CamtError::TextTooLong { .. })
        ));
        // Also in elements the parser does not look at, and between elements.
        let unknown = doc(&format!("<Foo>{}</Foo>", "y".repeat(limit + 1)));
        assert!(matches!(
            parse_str(&unknown),
            Err(CamtError::TextTooLong { .. })
        ));
        let gap = doc(&" ".repeat(limit + 1));
        assert!(matches!(
            parse_str(&gap),
            Err(CamtError::TextTooLong { .. })
        ));
    }

    #[test]
    fn huge_tokens_are_refused_before_they_are_buffered() {
        let huge = 10 * 1024 * 1024;
        for xml in [
            doc(&format!("<Foo a=\"{}\"/>", "v".repeat(huge))),
            doc(&format!("<!--{}-->", "-> <".repeat(huge / 4))),
            doc(&format!("<{}/>", "N".repeat(huge))),
            doc(&format!("&#{}65;", "0".repeat(huge))),
            format!("<!--{}-->{}", "c".repeat(huge), doc("")),
            format!("{}{}", doc(""), " ".repeat(huge)),
        ] {
            let mut reader = CountingReader {
                inner: xml.as_bytes(),
                max_chunk: 8192,
                read: 0,
            };
            let result = parse(io::BufReader::new(&mut reader), &Limits::default());
            assert!(
                matches!(result, Err(CamtError::TextTooLong { .. })),
                "{result:?}"
            );
            // The parser stopped soon after the limit instead of reading the whole token.
            assert!(reader.read < 200_000, "read {} bytes", reader.read);
        }
    }

    #[test]
    fn other_documents_are_not_camt_053() {
        for xml in [
            String::new(),
            "   \n".to_owned(),
            "<?xml version=\"1.0\"?>".to_owned(),
            "<html><body/></html>".to_owned(),
            "<Document/>".to_owned(),
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.052.001.02\"/>".to_owned(),
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\"/>".to_owned(),
            format!("<Doc xmlns=\"{NS02}\"/>"),
        ] {
            assert!(
                matches!(parse_str(&xml), Err(CamtError::NotCamt053)),
                "{xml:?}"
            );
        }
    }

    #[test]
    fn other_versions_are_named() {
        let xml = "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.06\"/>";
        match parse_str(xml) {
            Err(CamtError::UnsupportedVersion(v)) => assert_eq!(v, "camt.053.001.06"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn read_errors_are_passed_on() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::ConnectionReset, "gone"))
            }
        }
        let error = parse(io::BufReader::new(Failing), &Limits::default()).unwrap_err();
        assert!(matches!(&error, CamtError::Io(e) if e.kind() == io::ErrorKind::ConnectionReset));
        assert_eq!(error.message_key(), "fees.camt.io");
    }

    #[test]
    fn message_keys_are_distinct() {
        let errors = [
            CamtError::Malformed {
                position: 0,
                detail: String::new(),
            },
            CamtError::Truncated,
            CamtError::DoctypeNotAllowed,
            CamtError::TooDeep { limit: 1 },
            CamtError::TooManyEntries { limit: 1 },
            CamtError::TextTooLong { limit: 1 },
            CamtError::NotCamt053,
            CamtError::UnsupportedVersion(String::new()),
            CamtError::InvalidAmount {
                entry: 1,
                value: String::new(),
            },
            CamtError::InvalidValue {
                entry: 1,
                field: "Ccy",
                value: String::new(),
            },
            CamtError::MissingField {
                entry: 1,
                field: "Amt",
            },
            CamtError::Io(io::Error::other("x")),
        ];
        let keys: std::collections::BTreeSet<_> =
            errors.iter().map(CamtError::message_key).collect();
        assert_eq!(keys.len(), errors.len());
        assert!(keys.iter().all(|k| k.starts_with("fees.camt.")));
    }

    /// Reads in small chunks and counts, to see how far the parser got.
    struct CountingReader<'a> {
        inner: &'a [u8],
        max_chunk: usize,
        read: usize,
    }

    impl Read for CountingReader<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(self.max_chunk).min(self.inner.len());
            out[..n].copy_from_slice(&self.inner[..n]);
            self.inner = &self.inner[n..];
            self.read += n;
            Ok(n)
        }
    }

    /// Receives the document from a writer on another thread in bounded chunks, so that a test
    /// can parse a statement that never exists in memory as a whole.
    struct ChannelReader {
        chunks: std::sync::mpsc::Receiver<Vec<u8>>,
        current: Vec<u8>,
        at: usize,
    }

    impl Read for ChannelReader {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            while self.at == self.current.len() {
                match self.chunks.recv() {
                    Ok(chunk) => {
                        self.current = chunk;
                        self.at = 0;
                    }
                    Err(_) => return Ok(0),
                }
            }
            let n = out.len().min(self.current.len() - self.at);
            out[..n].copy_from_slice(&self.current[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    struct ChannelWriter(std::sync::mpsc::SyncSender<Vec<u8>>);

    impl Write for ChannelWriter {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            self.0
                .send(data.to_vec())
                .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
            Ok(data.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn sample(i: usize) -> SampleCredit {
        SampleCredit {
            entry_ref: format!("REF{i:09}"),
            amount: Money(i64::try_from(i).unwrap() * 7 + 1),
            debtor_name: format!("Müller & Söhne <{i}>"),
            debtor_iban: "DE02120300000000202051".into(),
            reference: i.is_multiple_of(2).then(|| "RF18539007547034".to_owned()),
            unstructured: vec![format!("Bescheid A7K 3M9 XQX Nr. {i}"), "Danke".into()],
            booked: !i.is_multiple_of(10),
            credit: !i.is_multiple_of(7),
            booking_date: "2024-03-04".into(),
        }
    }

    fn streamed(version: CamtVersion, count: usize) -> Result<Vec<Statement>, CamtError> {
        let (sender, receiver) = std::sync::mpsc::sync_channel(16);
        let writer = std::thread::spawn(move || {
            write_sample_statement(ChannelWriter(sender), version, (0..count).map(sample))
        });
        let reader = ChannelReader {
            chunks: receiver,
            current: Vec::new(),
            at: 0,
        };
        let result = parse(io::BufReader::new(reader), &Limits::default());
        writer.join().unwrap().unwrap();
        result
    }

    #[test]
    fn large_statements_stream() {
        let count = 20_000;
        for version in [CamtVersion::V02, CamtVersion::V08] {
            let statements = streamed(version, count).unwrap();
            let entries = &statements[0].entries;
            assert_eq!(entries.len(), count);
            for (i, entry) in entries.iter().enumerate() {
                let expected = sample(i);
                assert_eq!(
                    entry.entry_ref.as_deref(),
                    Some(expected.entry_ref.as_str())
                );
                assert_eq!(entry.amount, expected.amount);
                assert_eq!(entry.credit, expected.credit);
                assert_eq!(
                    entry.transactions[0].debtor_name,
                    expected.credit.then_some(expected.debtor_name)
                );
            }
        }
    }

    /// `cargo test --release -p amtsweg-server --lib payments::camt -- --ignored`
    #[test]
    #[ignore = "timing, meaningful only in release builds"]
    fn hundred_thousand_entries_parse_quickly() {
        let mut xml = Vec::new();
        write_sample_statement(&mut xml, CamtVersion::V08, (0..100_000).map(sample)).unwrap();
        let started = std::time::Instant::now();
        let statements = parse(xml.as_slice(), &Limits::default()).unwrap();
        let elapsed = started.elapsed();
        assert_eq!(statements[0].entries.len(), 100_000);
        eprintln!("{} MB in {elapsed:?}", xml.len() / 1_000_000);
        assert!(elapsed < std::time::Duration::from_secs(2), "{elapsed:?}");
    }

    #[test]
    fn writer_refuses_what_xml_cannot_carry() {
        let mut bad = sample(1);
        bad.debtor_name = "a\u{1}b".into();
        assert!(
            write_sample_statement(io::sink(), CamtVersion::V02, std::iter::once(bad)).is_err()
        );
        let mut negative = sample(1);
        negative.amount = Money(-1);
        assert!(
            write_sample_statement(io::sink(), CamtVersion::V02, std::iter::once(negative))
                .is_err()
        );
    }

    // ---- property tests -------------------------------------------------------------------

    /// How the test writer spells the same content, so that round trips cover the variants
    /// banks produce.
    #[derive(Clone, Copy, Debug)]
    struct Style {
        prefix: bool,
        /// 0: entities, 1: character references for everything special or non-ASCII,
        /// 2: CDATA.
        escaping: u8,
        pretty: bool,
        short_amounts: bool,
        date_times: bool,
        amount_details: bool,
        notprovided: bool,
    }

    fn style() -> impl Strategy<Value = Style> {
        (
            any::<bool>(),
            0u8..3,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(
                |(
                    prefix,
                    escaping,
                    pretty,
                    short_amounts,
                    date_times,
                    amount_details,
                    notprovided,
                )| {
                    Style {
                        prefix,
                        escaping,
                        pretty,
                        short_amounts,
                        date_times,
                        amount_details,
                        notprovided,
                    }
                },
            )
    }

    struct TestWriter {
        out: String,
        style: Style,
        version: CamtVersion,
    }

    impl TestWriter {
        fn open(&mut self, name: &str) {
            let p = if self.style.prefix { "x:" } else { "" };
            write!(self.out, "<{p}{name}>").unwrap();
            if self.style.pretty {
                self.out.push_str("\n  ");
            }
        }

        fn close(&mut self, name: &str) {
            let p = if self.style.prefix { "x:" } else { "" };
            write!(self.out, "</{p}{name}>").unwrap();
            if self.style.pretty {
                self.out.push('\n');
            }
        }

        fn text(&mut self, text: &str) {
            match self.style.escaping {
                0 => {
                    for c in text.chars() {
                        match c {
                            '&' => self.out.push_str("&amp;"),
                            '<' => self.out.push_str("&lt;"),
                            '>' => self.out.push_str("&gt;"),
                            '"' => self.out.push_str("&quot;"),
                            '\'' => self.out.push_str("&apos;"),
                            c => self.out.push(c),
                        }
                    }
                }
                1 => {
                    for c in text.chars() {
                        if c.is_ascii_alphanumeric() || c == ' ' {
                            self.out.push(c);
                        } else if u32::from(c) % 2 == 0 {
                            write!(self.out, "&#{};", u32::from(c)).unwrap();
                        } else {
                            write!(self.out, "&#x{:X};", u32::from(c)).unwrap();
                        }
                    }
                }
                _ => write!(self.out, "<![CDATA[{text}]]>").unwrap(),
            }
        }

        fn leaf(&mut self, name: &str, text: &str) {
            let p = if self.style.prefix { "x:" } else { "" };
            write!(self.out, "<{p}{name}>").unwrap();
            if self.style.pretty {
                self.out.push_str(" \n\t");
            }
            self.text(text);
            if self.style.pretty {
                self.out.push_str("\r\n ");
            }
            self.close(name);
        }

        fn amount(&mut self, money: Money, currency: &str) {
            let (whole, cents) = (money.0 / 100, money.0 % 100);
            let text = if self.style.short_amounts && cents == 0 {
                format!("{whole}")
            } else if self.style.short_amounts && cents % 10 == 0 {
                format!("{whole}.{}", cents / 10)
            } else {
                format!("{whole}.{cents:02}")
            };
            let p = if self.style.prefix { "x:" } else { "" };
            write!(self.out, "<{p}Amt Ccy=\"{currency}\">{text}</{p}Amt>").unwrap();
        }

        fn date(&mut self, name: &str, date: &str) {
            self.open(name);
            if self.style.date_times {
                self.leaf("DtTm", &format!("{date}T12:34:56.789+01:00"));
            } else {
                self.leaf("Dt", date);
            }
            self.close(name);
        }

        fn document(&mut self, statements: &[Statement]) {
            self.out
                .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
            let ns = self.version.namespace();
            if self.style.prefix {
                write!(self.out, "<x:Document xmlns:x=\"{ns}\">").unwrap();
            } else {
                write!(self.out, "<Document xmlns=\"{ns}\">").unwrap();
            }
            self.open("BkToCstmrStmt");
            self.open("GrpHdr");
            self.leaf("MsgId", "M1");
            self.close("GrpHdr");
            for statement in statements {
                self.statement(statement);
            }
            self.close("BkToCstmrStmt");
            self.close("Document");
        }

        fn statement(&mut self, statement: &Statement) {
            self.open("Stmt");
            if let Some(id) = &statement.statement_id {
                self.leaf("Id", id);
            }
            self.leaf("CreDtTm", "2024-03-04T06:00:00");
            if let Some(iban) = &statement.account_iban {
                self.open("Acct");
                self.open("Id");
                self.leaf("IBAN", iban);
                self.close("Id");
                self.leaf("Ccy", "EUR");
                self.close("Acct");
            }
            self.open("Bal");
            self.amount(Money(100), "EUR");
            self.leaf("CdtDbtInd", "CRDT");
            self.close("Bal");
            for entry in &statement.entries {
                self.entry(entry);
            }
            self.close("Stmt");
        }

        fn entry(&mut self, entry: &Entry) {
            self.open("Ntry");
            self.amount(entry.amount, &entry.currency);
            self.leaf("CdtDbtInd", if entry.credit { "CRDT" } else { "DBIT" });
            let status = match &entry.status {
                EntryStatus::Booked => "BOOK",
                EntryStatus::Pending => "PDNG",
                EntryStatus::Other(code) => code,
            };
            if self.version == CamtVersion::V08 {
                self.open("Sts");
                self.leaf("Cd", status);
                self.close("Sts");
            } else {
                self.leaf("Sts", status);
            }
            if let Some(date) = &entry.booking_date {
                self.date("BookgDt", date);
            }
            if let Some(date) = &entry.value_date {
                self.date("ValDt", date);
            }
            if let Some(reference) = &entry.entry_ref {
                self.leaf("AcctSvcrRef", reference);
            }
            self.open("BkTxCd");
            self.leaf("Cd", "PMNT");
            self.close("BkTxCd");
            if !entry.transactions.is_empty() {
                self.open("NtryDtls");
                for transaction in &entry.transactions {
                    self.transaction(transaction, &entry.currency);
                }
                self.close("NtryDtls");
            }
            self.close("Ntry");
        }

        fn transaction(&mut self, transaction: &Transaction, currency: &str) {
            self.open("TxDtls");
            match &transaction.end_to_end_id {
                Some(id) => {
                    self.open("Refs");
                    self.leaf("EndToEndId", id);
                    self.close("Refs");
                }
                None if self.style.notprovided => {
                    self.open("Refs");
                    self.leaf("EndToEndId", "NOTPROVIDED");
                    self.close("Refs");
                }
                None => {}
            }
            if let Some(amount) = transaction.amount {
                if self.version == CamtVersion::V02 || self.style.amount_details {
                    self.open("AmtDtls");
                    self.open("TxAmt");
                    self.amount(amount, currency);
                    self.close("TxAmt");
                    self.close("AmtDtls");
                } else {
                    self.amount(amount, currency);
                    // A different instructed amount must not be mistaken for it.
                    self.open("AmtDtls");
                    self.open("InstdAmt");
                    self.amount(Money(amount.0 + 1), currency);
                    self.close("InstdAmt");
                    self.close("AmtDtls");
                }
            }
            if transaction.debtor_name.is_some() || transaction.debtor_iban.is_some() {
                self.open("RltdPties");
                if let Some(name) = &transaction.debtor_name {
                    self.open("Dbtr");
                    if self.version == CamtVersion::V08 {
                        self.open("Pty");
                        self.leaf("Nm", name);
                        self.close("Pty");
                    } else {
                        self.leaf("Nm", name);
                    }
                    self.close("Dbtr");
                }
                if let Some(iban) = &transaction.debtor_iban {
                    self.open("DbtrAcct");
                    self.open("Id");
                    self.leaf("IBAN", iban);
                    self.close("Id");
                    self.close("DbtrAcct");
                }
                self.open("Cdtr");
                self.leaf("Nm", "Gemeinde");
                self.close("Cdtr");
                self.close("RltdPties");
            }
            if !transaction.unstructured.is_empty() || transaction.creditor_reference.is_some() {
                self.open("RmtInf");
                for line in &transaction.unstructured {
                    self.leaf("Ustrd", line);
                }
                if let Some(reference) = &transaction.creditor_reference {
                    self.open("Strd");
                    self.open("CdtrRefInf");
                    self.leaf("Ref", reference);
                    self.close("CdtrRefInf");
                    self.close("Strd");
                }
                self.close("RmtInf");
            }
            self.close("TxDtls");
        }
    }

    /// Text as payers type it: XML's special characters, umlauts, inner spaces; never blank
    /// at the ends, since the parser trims.
    fn text() -> impl Strategy<Value = String> {
        "[A-Za-z0-9äöüÄÖÜßéçøł€😀&<>\"'/.,:;#+()-][A-Za-z0-9äöüÄÖÜßéçøł€😀&<>\"'/.,:;#+() -]{0,38}[A-Za-z0-9äöüÄÖÜß&<>\"'.)-]"
            .prop_map(|s| s.trim().to_owned())
            .prop_filter("not blank", |s| !s.is_empty() && !s.contains("]]>"))
    }

    fn date_text() -> impl Strategy<Value = String> {
        (1900u32..2100, 1u32..=12, 1u32..=31).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
    }

    fn iban() -> impl Strategy<Value = String> {
        "[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}"
    }

    fn transaction() -> impl Strategy<Value = Transaction> {
        (
            proptest::option::of(0i64..1_000_000_000_000),
            proptest::option::of(text().prop_filter("not the placeholder", |t| t != "NOTPROVIDED")),
            proptest::option::of(text()),
            proptest::option::of(iban()),
            proptest::collection::vec(text(), 0..4),
            proptest::option::of(text()),
        )
            .prop_map(
                |(
                    amount,
                    end_to_end_id,
                    debtor_name,
                    debtor_iban,
                    unstructured,
                    creditor_reference,
                )| {
                    Transaction {
                        amount: amount.map(Money),
                        end_to_end_id,
                        debtor_name,
                        debtor_iban,
                        unstructured,
                        creditor_reference,
                    }
                },
            )
    }

    fn status() -> impl Strategy<Value = EntryStatus> {
        prop_oneof![
            Just(EntryStatus::Booked),
            Just(EntryStatus::Pending),
            "[A-Z]{4}"
                .prop_filter("other", |c| c != "BOOK" && c != "PDNG")
                .prop_map(EntryStatus::Other),
        ]
    }

    fn entry_strategy() -> impl Strategy<Value = Entry> {
        (
            proptest::option::of(text()),
            0i64..=i64::MAX,
            "[A-Z]{3}",
            any::<bool>(),
            status(),
            proptest::option::of(date_text()),
            proptest::option::of(date_text()),
            proptest::collection::vec(transaction(), 0..3),
        )
            .prop_map(
                |(
                    entry_ref,
                    cents,
                    currency,
                    credit,
                    status,
                    booking_date,
                    value_date,
                    transactions,
                )| {
                    Entry {
                        entry_ref,
                        amount: Money(cents),
                        currency,
                        credit,
                        status,
                        booking_date,
                        value_date,
                        transactions,
                    }
                },
            )
    }

    fn version() -> impl Strategy<Value = CamtVersion> {
        prop_oneof![
            Just(CamtVersion::V02),
            Just(CamtVersion::V04),
            Just(CamtVersion::V08)
        ]
    }

    fn statements() -> impl Strategy<Value = (CamtVersion, Vec<Statement>)> {
        version().prop_flat_map(|version| {
            let statement = (
                proptest::option::of(text()),
                proptest::option::of(iban()),
                proptest::collection::vec(entry_strategy(), 0..5),
            )
                .prop_map(move |(statement_id, account_iban, entries)| Statement {
                    version,
                    statement_id,
                    account_iban,
                    entries,
                });
            (Just(version), proptest::collection::vec(statement, 0..3))
        })
    }

    fn sample_credit() -> impl Strategy<Value = SampleCredit> {
        (
            text(),
            0i64..100_000_000_000,
            text(),
            iban(),
            proptest::option::of(text()),
            proptest::collection::vec(text(), 0..3),
            any::<bool>(),
            any::<bool>(),
            date_text(),
        )
            .prop_map(
                |(
                    entry_ref,
                    cents,
                    debtor_name,
                    debtor_iban,
                    reference,
                    unstructured,
                    booked,
                    credit,
                    booking_date,
                )| {
                    SampleCredit {
                        entry_ref,
                        amount: Money(cents),
                        debtor_name,
                        debtor_iban,
                        reference,
                        unstructured,
                        booked,
                        credit,
                        booking_date,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let _ = parse(bytes.as_slice(), &Limits::default());
        }

        #[test]
        fn mutated_fixtures_never_panic(
            fixture in 0usize..3,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
        ) {
            let mut bytes = [V02, V04, V08][fixture].as_bytes().to_vec();
            for (at, byte, kind) in edits {
                let i = at.index(bytes.len());
                match kind {
                    0 => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    _ => { bytes.remove(i); }
                }
            }
            let _ = parse(bytes.as_slice(), &Limits::default());
        }

        #[test]
        fn generated_statements_round_trip((version, statements) in statements(), style in style()) {
            let mut writer = TestWriter { out: String::new(), style, version };
            writer.document(&statements);
            let parsed = parse(writer.out.as_bytes(), &Limits::default());
            prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed, writer.out);
            prop_assert_eq!(parsed.unwrap_or_default(), statements);
        }

        #[test]
        fn sample_statements_round_trip(version in version(), samples in proptest::collection::vec(sample_credit(), 0..6)) {
            let mut xml = Vec::new();
            write_sample_statement(&mut xml, version, samples.iter().cloned()).unwrap();
            let parsed = parse(xml.as_slice(), &Limits::default()).unwrap();
            prop_assert_eq!(parsed.len(), 1);
            prop_assert_eq!(parsed[0].version, version);
            prop_assert_eq!(parsed[0].account_iban.as_deref(), Some(SAMPLE_ACCOUNT));
            let expected: Vec<Entry> = samples
                .into_iter()
                .map(|sample| Entry {
                    entry_ref: Some(sample.entry_ref),
                    amount: sample.amount,
                    currency: "EUR".into(),
                    credit: sample.credit,
                    status: if sample.booked { EntryStatus::Booked } else { EntryStatus::Pending },
                    booking_date: Some(sample.booking_date.clone()),
                    value_date: Some(sample.booking_date),
                    transactions: vec![Transaction {
                        amount: Some(sample.amount),
                        end_to_end_id: None,
                        debtor_name: sample.credit.then_some(sample.debtor_name),
                        debtor_iban: sample.credit.then_some(sample.debtor_iban),
                        unstructured: sample.unstructured,
                        creditor_reference: sample.reference,
                    }],
                })
                .collect();
            prop_assert_eq!(&parsed[0].entries, &expected);
        }

        #[test]
        fn text_check_matches_the_char_check(text in "\\PC*|[\\x00-\\x20\u{FFFD}-\u{FFFF}a]*") {
            prop_assert_eq!(is_xml_text(&text), text.chars().all(is_xml_char));
        }

        #[test]
        fn decimals_parse_exactly(cents in 0i64..=i64::MAX) {
            let text = format!("{}.{:02}", cents / 100, cents % 100);
            prop_assert_eq!(parse_decimal(&text), Some(Money(cents)));
        }
    }
}
