//! UI alerts 1100–1104 answered by a configurable policy (facts §3.3, §3.4).
//!
//! The server asks the user something with an Alert whose items are
//! `[options, text, choice1, choice2, …]` (facts §3.4). The reference client has no user: a
//! [`UiPolicy`] from the device profile decides what the simulated user does — accept,
//! reject, let the alert time out, have no UI at all, or follow a script of answers loaded
//! from a TOML file ([`Script`]). [`UiHooks`] plugs the policy into the tree's
//! [`Processor`](dm_tree::Processor) as its [`CommandHooks`], so a "No" inside a `Sequence`
//! bypasses the rest of it (facts §2.6).
//!
//! The engine is sans-IO: nothing sleeps. What a real UI would have waited (MINDT, MAXDT) is
//! recorded in each [`UiEvent`] instead.
//!
//! Status codes (facts §3.1, §3.2 Alert row, §3.3):
//!
//! | Situation | Status |
//! |---|---|
//! | shown / "Yes" / input given | 200 (input in the answer's Results items) |
//! | "No" to 1101 | 304 |
//! | user cancelled | 214 |
//! | MAXDT expired, user never answered | 408 |
//! | device without UI ([`UiPolicy::Headless`]) | 406 |
//! | fewer than 2 items, bad options string, default response not fitting the alert | 412 |
//! | a configured or scripted answer that breaks MAXLEN / IT or the choice list | 500 |
//!
//! Choices where the fact sheet is silent are listed in `docs/reference-client.md`
//! ("UI alerts").

use std::collections::VecDeque;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use dm_protocol::codes::{AlertCode, StatusCode};
use dm_protocol::model::{Alert, Data, Item};
use dm_tree::{AlertAnswer, CommandHooks, NoHooks, Tree};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Alert kinds
// ---------------------------------------------------------------------------------------------

/// The five UI alerts (facts §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UiKind {
    /// 1100 DISPLAY.
    Display,
    /// 1101 CONFIRM OR REJECT.
    Confirm,
    /// 1102 TEXT INPUT.
    TextInput,
    /// 1103 SINGLE CHOICE.
    SingleChoice,
    /// 1104 MULTIPLE CHOICE.
    MultipleChoice,
}

impl UiKind {
    /// Every kind, in code order.
    pub const ALL: [UiKind; 5] = [
        UiKind::Display,
        UiKind::Confirm,
        UiKind::TextInput,
        UiKind::SingleChoice,
        UiKind::MultipleChoice,
    ];

    /// The kind of a UI alert code, `None` for any other alert.
    pub fn from_code(code: AlertCode) -> Option<UiKind> {
        match code {
            AlertCode::Display => Some(UiKind::Display),
            AlertCode::ConfirmOrReject => Some(UiKind::Confirm),
            AlertCode::TextInput => Some(UiKind::TextInput),
            AlertCode::SingleChoice => Some(UiKind::SingleChoice),
            AlertCode::MultipleChoice => Some(UiKind::MultipleChoice),
            _ => None,
        }
    }

    /// The alert code.
    pub fn code(self) -> AlertCode {
        match self {
            UiKind::Display => AlertCode::Display,
            UiKind::Confirm => AlertCode::ConfirmOrReject,
            UiKind::TextInput => AlertCode::TextInput,
            UiKind::SingleChoice => AlertCode::SingleChoice,
            UiKind::MultipleChoice => AlertCode::MultipleChoice,
        }
    }

    /// The name used in profiles and script files (`display`, `confirm`, `text_input`,
    /// `single_choice`, `multiple_choice`).
    pub fn name(self) -> &'static str {
        match self {
            UiKind::Display => "display",
            UiKind::Confirm => "confirm",
            UiKind::TextInput => "text_input",
            UiKind::SingleChoice => "single_choice",
            UiKind::MultipleChoice => "multiple_choice",
        }
    }

    fn has_choices(self) -> bool {
        matches!(self, UiKind::SingleChoice | UiKind::MultipleChoice)
    }
}

impl fmt::Display for UiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.name())
    }
}

// ---------------------------------------------------------------------------------------------
// Options (Item 1)
// ---------------------------------------------------------------------------------------------

/// `IT`: the input type of a 1102 text input (facts §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub enum InputType {
    /// `A`: alphanumeric, the default. Any text is accepted.
    #[default]
    #[serde(rename = "A")]
    Alphanumeric,
    /// `N`: a number: optional sign, digits, at most one decimal point.
    #[serde(rename = "N")]
    Numeric,
    /// `D`: a date `DDMMYYYY`.
    #[serde(rename = "D")]
    Date,
    /// `T`: a time `hhmmss`.
    #[serde(rename = "T")]
    Time,
    /// `P`: a phone number: digits and `+`, `p`, `w`, `s`.
    #[serde(rename = "P")]
    Phone,
    /// `I`: an IPv4 address `xxx.yyy.zzz.www`.
    #[serde(rename = "I")]
    Ipv4,
}

impl InputType {
    /// The option letter.
    pub fn letter(self) -> char {
        match self {
            InputType::Alphanumeric => 'A',
            InputType::Numeric => 'N',
            InputType::Date => 'D',
            InputType::Time => 'T',
            InputType::Phone => 'P',
            InputType::Ipv4 => 'I',
        }
    }
}

impl FromStr for InputType {
    type Err = OptionsError;
    fn from_str(s: &str) -> Result<Self, OptionsError> {
        Ok(match s {
            "A" => InputType::Alphanumeric,
            "N" => InputType::Numeric,
            "D" => InputType::Date,
            "T" => InputType::Time,
            "P" => InputType::Phone,
            "I" => InputType::Ipv4,
            _ => {
                return Err(OptionsError::BadInputType {
                    value: s.to_owned(),
                })
            }
        })
    }
}

/// `ET`: how a 1102 input is echoed (facts §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub enum EchoType {
    /// `T`: shown as typed, the default.
    #[default]
    #[serde(rename = "T")]
    Text,
    /// `P`: a password, masked on screen. The value is still sent to the server as typed.
    #[serde(rename = "P")]
    Password,
}

impl FromStr for EchoType {
    type Err = OptionsError;
    fn from_str(s: &str) -> Result<Self, OptionsError> {
        match s {
            "T" => Ok(EchoType::Text),
            "P" => Ok(EchoType::Password),
            _ => Err(OptionsError::BadEchoType {
                value: s.to_owned(),
            }),
        }
    }
}

/// Why an options string (Item 1 of a UI alert) was refused. The alert is answered 412
/// Incomplete command ("bad Alert items", facts §3.1, §3.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// A `%` not followed by two hexadecimal digits, in a known parameter.
    #[error("bad percent-escape in `{segment}`")]
    BadEscape {
        /// The `name=value` segment as received.
        segment: String,
    },
    /// Percent-escapes that decode to bytes that are not UTF-8, in a known parameter.
    #[error("`{segment}` does not decode to UTF-8 text")]
    NotUtf8 {
        /// The `name=value` segment as received.
        segment: String,
    },
    /// A known parameter without `=value`.
    #[error("{name} has no value")]
    MissingValue {
        /// The parameter name.
        name: String,
    },
    /// MINDT, MAXDT or MAXLEN that is not a positive integer (facts §3.4).
    #[error("{name}={value:?} is not a positive integer")]
    BadNumber {
        /// The parameter name.
        name: String,
        /// The decoded value.
        value: String,
    },
    /// IT other than `A`, `N`, `D`, `T`, `P`, `I`.
    #[error("IT={value:?} is not one of A, N, D, T, P, I")]
    BadInputType {
        /// The decoded value.
        value: String,
    },
    /// ET other than `T`, `P`.
    #[error("ET={value:?} is not one of T, P")]
    BadEchoType {
        /// The decoded value.
        value: String,
    },
}

/// The options of a UI alert: Item 1, URL-encoded `name=value` pairs joined by `&`
/// (facts §3.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UiOptions {
    /// `MINDT`: minimum display time, seconds.
    pub min_dt: Option<u32>,
    /// `MAXDT`: maximum time to wait for the user, seconds; on expiry the alert times out.
    pub max_dt: Option<u32>,
    /// `DR`: the default response, decoded but not yet interpreted (its meaning depends on
    /// the alert, see [`DefaultResponse`]).
    pub default_response: Option<String>,
    /// `MAXLEN`: maximum number of input characters (1102 only).
    pub max_len: Option<u32>,
    /// `IT`: input type (1102 only); absent means [`InputType::Alphanumeric`].
    pub input_type: Option<InputType>,
    /// `ET`: echo type (1102 only); absent means [`EchoType::Text`].
    pub echo_type: Option<EchoType>,
    /// Names of parameters that were ignored because they are unknown (facts §3.4: unknown
    /// parameters are ignored silently), as received.
    pub ignored: Vec<String>,
    /// Known parameters given more than once: the last value counts.
    pub repeated: Vec<String>,
}

impl UiOptions {
    /// Parse an options string. Parameter names are matched exactly (upper case, as the
    /// fact sheet spells them); values are percent-decoded (`+` stays a plus sign). An
    /// empty string, or empty `&&` segments, are fine.
    pub fn parse(s: &str) -> Result<UiOptions, OptionsError> {
        let mut o = UiOptions::default();
        let mut seen: Vec<String> = Vec::new();
        for segment in s.trim().split('&').filter(|seg| !seg.is_empty()) {
            let (raw_name, raw_value) = match segment.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (segment, None),
            };
            let name = match percent_decode(raw_name) {
                Ok(n) if is_known(&n) => n,
                // A name that does not decode cannot be a known one: ignored like any
                // unknown parameter.
                Ok(n) => {
                    o.ignored.push(n);
                    continue;
                }
                Err(_) => {
                    o.ignored.push(raw_name.to_owned());
                    continue;
                }
            };
            let Some(raw_value) = raw_value else {
                return Err(OptionsError::MissingValue { name });
            };
            let value = percent_decode(raw_value).map_err(|e| match e {
                DecodeError::BadEscape => OptionsError::BadEscape {
                    segment: segment.to_owned(),
                },
                DecodeError::NotUtf8 => OptionsError::NotUtf8 {
                    segment: segment.to_owned(),
                },
            })?;
            if seen.contains(&name) {
                if !o.repeated.contains(&name) {
                    o.repeated.push(name.clone());
                }
            } else {
                seen.push(name.clone());
            }
            match name.as_str() {
                "MINDT" => o.min_dt = Some(positive(&name, &value)?),
                "MAXDT" => o.max_dt = Some(positive(&name, &value)?),
                "MAXLEN" => o.max_len = Some(positive(&name, &value)?),
                "IT" => o.input_type = Some(value.parse()?),
                "ET" => o.echo_type = Some(value.parse()?),
                _ => o.default_response = Some(value),
            }
        }
        Ok(o)
    }

    /// The input type, with its default `A`.
    pub fn input_type(&self) -> InputType {
        self.input_type.unwrap_or_default()
    }

    /// The echo type, with its default `T`.
    pub fn echo_type(&self) -> EchoType {
        self.echo_type.unwrap_or_default()
    }
}

fn is_known(name: &str) -> bool {
    matches!(name, "MINDT" | "MAXDT" | "DR" | "MAXLEN" | "IT" | "ET")
}

fn positive(name: &str, value: &str) -> Result<u32, OptionsError> {
    let bad = || OptionsError::BadNumber {
        name: name.to_owned(),
        value: value.to_owned(),
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match value.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(bad()),
    }
}

enum DecodeError {
    BadEscape,
    NotUtf8,
}

/// RFC 3986 percent-decoding. `+` is kept: the options are URL-encoded, not form-encoded,
/// and a phone number default (`IT=P`) may start with `+`.
fn percent_decode(s: &str) -> Result<String, DecodeError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let (Some(&h), Some(&l)) = (b.get(i + 1), b.get(i + 2)) else {
                return Err(DecodeError::BadEscape);
            };
            let (Some(h), Some(l)) = (hex(h), hex(l)) else {
                return Err(DecodeError::BadEscape);
            };
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| DecodeError::NotUtf8)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

// ---------------------------------------------------------------------------------------------
// The parsed alert
// ---------------------------------------------------------------------------------------------

/// `DR` interpreted for the alert it came with (facts §3.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultResponse {
    /// 1101: `1` accept (true) or `0` reject (false) is highlighted.
    Confirm(bool),
    /// 1102: the default text.
    Text(String),
    /// 1103 (one index) or 1104 (`-`-joined indexes), 1-based, in the order given.
    Choices(Vec<u32>),
}

/// Why a UI alert could not be shown. Always answered 412 Incomplete command ("bad Alert
/// items", facts §3.1, §3.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UiError {
    /// Fewer than 2 items (facts §3.4: options and text are both required).
    #[error("a UI alert needs at least 2 items (options, text); got {count}")]
    TooFewItems {
        /// How many items the alert had.
        count: usize,
    },
    /// The options string was refused.
    #[error("bad options string: {0}")]
    Options(#[from] OptionsError),
    /// An item's Data is markup or bytes that are not UTF-8 text.
    #[error("Item {index} does not carry text")]
    NotText {
        /// 1-based item number.
        index: usize,
    },
    /// 1103 / 1104 without any choice item.
    #[error("a {kind} alert needs at least one choice (Items 3..)")]
    NoChoices {
        /// The alert kind.
        kind: UiKind,
    },
    /// `DR` that does not fit the alert.
    #[error("DR={value:?} does not fit a {kind} alert: {reason}")]
    BadDefault {
        /// The alert kind.
        kind: UiKind,
        /// The decoded DR value.
        value: String,
        /// Why.
        reason: String,
    },
}

impl UiError {
    /// The Alert status for this error: 412.
    pub fn status(&self) -> StatusCode {
        StatusCode::IncompleteCommand
    }
}

/// A UI alert as the user would see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UiAlert {
    /// Which UI alert.
    pub kind: UiKind,
    /// The options (Item 1).
    pub options: UiOptions,
    /// The display text or title (Item 2); empty when Item 2 has no Data.
    pub text: String,
    /// The choices (Items 3..), for 1103 / 1104.
    pub choices: Vec<String>,
    /// `DR` interpreted for this alert (never set for 1100, where DR means nothing).
    pub default: Option<DefaultResponse>,
    /// What was accepted but ignored (options that do not apply to this alert, extra items).
    pub notes: Vec<String>,
}

fn item_text(item: &Item, index: usize) -> Result<String, UiError> {
    match &item.data {
        None => Ok(String::new()),
        Some(Data::Text(t)) => Ok(t.clone()),
        Some(Data::Binary(b)) => {
            String::from_utf8(b.clone()).map_err(|_| UiError::NotText { index })
        }
        Some(Data::Markup(_)) => Err(UiError::NotText { index }),
    }
}

impl UiAlert {
    /// Parse the items of a UI alert of kind `kind` (facts §3.4).
    pub fn parse(kind: UiKind, items: &[Item]) -> Result<UiAlert, UiError> {
        let [opts, text, rest @ ..] = items else {
            return Err(UiError::TooFewItems { count: items.len() });
        };
        let options = UiOptions::parse(&item_text(opts, 1)?)?;
        let text = item_text(text, 2)?;
        let mut notes = Vec::new();
        let choices = if kind.has_choices() {
            let c = rest
                .iter()
                .enumerate()
                .map(|(i, it)| item_text(it, i + 3))
                .collect::<Result<Vec<_>, _>>()?;
            if c.is_empty() {
                return Err(UiError::NoChoices { kind });
            }
            c
        } else {
            if !rest.is_empty() {
                notes.push(format!(
                    "{} item(s) after Item 2 ignored: only 1103/1104 have choices",
                    rest.len()
                ));
            }
            Vec::new()
        };
        if kind != UiKind::TextInput {
            for (set, name) in [
                (options.max_len.is_some(), "MAXLEN"),
                (options.input_type.is_some(), "IT"),
                (options.echo_type.is_some(), "ET"),
            ] {
                if set {
                    notes.push(format!("{name} ignored: it applies to 1102 only"));
                }
            }
        }
        let mut alert = UiAlert {
            kind,
            options,
            text,
            choices,
            default: None,
            notes,
        };
        alert.default = alert.interpret_default()?;
        Ok(alert)
    }

    fn interpret_default(&mut self) -> Result<Option<DefaultResponse>, UiError> {
        let Some(value) = self.options.default_response.clone() else {
            return Ok(None);
        };
        let kind = self.kind;
        let bad = |reason: String| UiError::BadDefault {
            kind,
            value: value.clone(),
            reason,
        };
        let d = match self.kind {
            UiKind::Display => {
                self.notes
                    .push("DR ignored: a 1100 display has no response".to_owned());
                return Ok(None);
            }
            UiKind::Confirm => match value.as_str() {
                "0" => DefaultResponse::Confirm(false),
                "1" => DefaultResponse::Confirm(true),
                _ => return Err(bad("1101 takes 0 (reject) or 1 (accept)".to_owned())),
            },
            UiKind::TextInput => {
                validate_text(&value, &self.options).map_err(|e| bad(e.to_string()))?;
                DefaultResponse::Text(value.clone())
            }
            UiKind::SingleChoice | UiKind::MultipleChoice => {
                let parts: Vec<&str> = if self.kind == UiKind::SingleChoice {
                    vec![value.as_str()]
                } else {
                    value.split('-').collect()
                };
                let mut idx = Vec::with_capacity(parts.len());
                for p in parts {
                    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(bad(format!("{p:?} is not a choice number")));
                    }
                    idx.push(p.parse::<u32>().unwrap_or(0));
                }
                validate_choices(self.kind, &idx, self.choices.len())
                    .map_err(|e| bad(e.to_string()))?;
                DefaultResponse::Choices(idx)
            }
        };
        Ok(Some(d))
    }
}

// ---------------------------------------------------------------------------------------------
// Input validation
// ---------------------------------------------------------------------------------------------

/// Why a user input does not fit the alert.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// More characters than MAXLEN.
    #[error("{len} characters exceed MAXLEN={max}")]
    TooLong {
        /// Characters in the input.
        len: usize,
        /// MAXLEN.
        max: u32,
    },
    /// The text does not match the input type.
    #[error("{value:?} is not a valid IT={} input ({})", .input_type.letter(), describe(*.input_type))]
    BadFormat {
        /// The input type.
        input_type: InputType,
        /// The text.
        value: String,
    },
    /// A choice number outside `1..=count`.
    #[error("choice {index} is not between 1 and {count}")]
    ChoiceOutOfRange {
        /// The choice number.
        index: u32,
        /// How many choices the alert offers.
        count: usize,
    },
    /// The same choice twice.
    #[error("choice {index} is given twice")]
    DuplicateChoice {
        /// The choice number.
        index: u32,
    },
    /// A single choice with zero or several selections.
    #[error("a 1103 single choice takes exactly one choice, got {count}")]
    NotSingle {
        /// How many were given.
        count: usize,
    },
    /// An answer that does not belong to this kind of alert.
    #[error("a {answer} answer does not fit a {kind} alert")]
    WrongAnswer {
        /// What kind of answer.
        answer: &'static str,
        /// The alert kind.
        kind: UiKind,
    },
}

fn describe(t: InputType) -> &'static str {
    match t {
        InputType::Alphanumeric => "text",
        InputType::Numeric => "a number: sign, digits, one decimal point",
        InputType::Date => "a date DDMMYYYY",
        InputType::Time => "a time hhmmss",
        InputType::Phone => "a phone number: digits, +, p, w, s",
        InputType::Ipv4 => "an IPv4 address xxx.yyy.zzz.www",
    }
}

/// Check a 1102 input against MAXLEN (characters) and IT (facts §3.4). An empty input is
/// always valid: the user cleared the field and confirmed.
pub fn validate_text(text: &str, options: &UiOptions) -> Result<(), InputError> {
    let len = text.chars().count();
    if let Some(max) = options.max_len {
        if len > max as usize {
            return Err(InputError::TooLong { len, max });
        }
    }
    let input_type = options.input_type();
    if text.is_empty() || fits(input_type, text) {
        Ok(())
    } else {
        Err(InputError::BadFormat {
            input_type,
            value: text.to_owned(),
        })
    }
}

fn fits(t: InputType, s: &str) -> bool {
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    let num = |x: &str| x.parse::<u32>().unwrap_or(u32::MAX);
    match t {
        InputType::Alphanumeric => true,
        InputType::Numeric => {
            let body = s.strip_prefix(['+', '-']).unwrap_or(s);
            let mut parts = body.splitn(2, '.');
            let int = parts.next().unwrap_or("");
            let frac = parts.next();
            let all_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
            all_digits(int)
                && frac.is_none_or(all_digits)
                && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()))
        }
        InputType::Date => {
            if s.len() != 8 || !digits(s) {
                return false;
            }
            let (d, m, y) = (num(&s[0..2]), num(&s[2..4]), num(&s[4..8]));
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let days = match m {
                1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
                4 | 6 | 9 | 11 => 30,
                2 if leap => 29,
                2 => 28,
                _ => return false,
            };
            (1..=days).contains(&d)
        }
        InputType::Time => {
            s.len() == 6
                && digits(s)
                && num(&s[0..2]) < 24
                && num(&s[2..4]) < 60
                && num(&s[4..6]) < 60
        }
        InputType::Phone => s
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | 'p' | 'w' | 's')),
        InputType::Ipv4 => {
            let parts: Vec<&str> = s.split('.').collect();
            parts.len() == 4
                && parts
                    .iter()
                    .all(|p| p.len() <= 3 && digits(p) && num(p) <= 255)
        }
    }
}

/// Check choice numbers against a 1103 / 1104 alert offering `count` choices: 1-based, in
/// range, no repeats, exactly one for 1103. An empty selection is valid for 1104.
pub fn validate_choices(kind: UiKind, choices: &[u32], count: usize) -> Result<(), InputError> {
    if !kind.has_choices() {
        return Err(InputError::WrongAnswer {
            answer: "choices",
            kind,
        });
    }
    if kind == UiKind::SingleChoice && choices.len() != 1 {
        return Err(InputError::NotSingle {
            count: choices.len(),
        });
    }
    for (i, &c) in choices.iter().enumerate() {
        if c == 0 || c as usize > count {
            return Err(InputError::ChoiceOutOfRange { index: c, count });
        }
        if choices[..i].contains(&c) {
            return Err(InputError::DuplicateChoice { index: c });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Answers, policies, scripts
// ---------------------------------------------------------------------------------------------

/// What the simulated user does with one alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// OK / Yes: 1100, 1101 → 200; 1102 → the DR text (or empty); 1103 / 1104 → the DR
    /// choices, or choice 1.
    Accept,
    /// No: 1101 → 304; 1102–1104 → 214 (there is no "No" but cancel); 1100 → 200 (a
    /// display cannot be refused, only seen).
    Reject,
    /// Cancel: 214 for every kind (facts §3.4).
    Cancel,
    /// The user never answers: 408 once MAXDT expires (facts §3.4); a 1100 display simply
    /// closes → 200.
    Timeout,
    /// Type this text (1102 only) → 200 with the text, if it fits MAXLEN and IT.
    Text(String),
    /// Select these choices, 1-based, sent in this order (1103: one; 1104: any number) →
    /// 200 with one Item per choice.
    Choices(Vec<u32>),
    /// Answer this status, whatever it is (fault injection, e.g. 416 "cannot be displayed").
    Status(u16),
}

impl Response {
    fn name(&self) -> &'static str {
        match self {
            Response::Accept => "accept",
            Response::Reject => "reject",
            Response::Cancel => "cancel",
            Response::Timeout => "timeout",
            Response::Text(_) => "text",
            Response::Choices(_) => "choices",
            Response::Status(_) => "status",
        }
    }
}

/// One scripted answer: the alert kind it expects and what the user does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawAnswer", into = "RawAnswer")]
pub struct ScriptedAnswer {
    /// The alert kind this answer is for.
    pub alert: UiKind,
    /// The user's response.
    pub response: Response,
}

/// The file / profile form of a [`ScriptedAnswer`]: `alert`, `response` and, depending on
/// the response, `text`, `choices` or `status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnswer {
    alert: UiKind,
    response: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    choices: Option<Vec<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
}

impl TryFrom<RawAnswer> for ScriptedAnswer {
    type Error = String;
    fn try_from(r: RawAnswer) -> Result<Self, String> {
        let kind = r.alert;
        let extra = |field: &str| {
            format!(
                "`{field}` does not go with response = \"{}\" (alert {})",
                r.response,
                kind.name()
            )
        };
        let response = match r.response.as_str() {
            "accept" | "reject" | "cancel" | "timeout" => {
                if r.text.is_some() {
                    return Err(extra("text"));
                }
                if r.choices.is_some() {
                    return Err(extra("choices"));
                }
                if r.status.is_some() {
                    return Err(extra("status"));
                }
                match r.response.as_str() {
                    "accept" => Response::Accept,
                    "reject" => Response::Reject,
                    "cancel" => Response::Cancel,
                    _ => Response::Timeout,
                }
            }
            "text" => {
                if kind != UiKind::TextInput {
                    return Err(format!(
                        "response = \"text\" needs alert = \"text_input\", not {:?}",
                        kind.name()
                    ));
                }
                if r.choices.is_some() {
                    return Err(extra("choices"));
                }
                if r.status.is_some() {
                    return Err(extra("status"));
                }
                Response::Text(r.text.ok_or("response = \"text\" needs `text`")?)
            }
            "choices" => {
                if r.text.is_some() {
                    return Err(extra("text"));
                }
                if r.status.is_some() {
                    return Err(extra("status"));
                }
                let c = r.choices.ok_or("response = \"choices\" needs `choices`")?;
                // The number of choices is only known when the alert comes; check the rest.
                validate_choices(kind, &c, usize::MAX).map_err(|e| e.to_string())?;
                Response::Choices(c)
            }
            "status" => {
                if r.text.is_some() {
                    return Err(extra("text"));
                }
                if r.choices.is_some() {
                    return Err(extra("choices"));
                }
                let s = r.status.ok_or("response = \"status\" needs `status`")?;
                if !(100..=599).contains(&s) {
                    return Err(format!("status {s} is not a status code (100–599)"));
                }
                Response::Status(s)
            }
            other => {
                return Err(format!(
                    "unknown response {other:?}: expected accept, reject, cancel, timeout, \
                     text, choices or status"
                ))
            }
        };
        Ok(ScriptedAnswer {
            alert: kind,
            response,
        })
    }
}

impl From<ScriptedAnswer> for RawAnswer {
    fn from(a: ScriptedAnswer) -> RawAnswer {
        let mut r = RawAnswer {
            alert: a.alert,
            response: a.response.name().to_owned(),
            text: None,
            choices: None,
            status: None,
        };
        match a.response {
            Response::Text(t) => r.text = Some(t),
            Response::Choices(c) => r.choices = Some(c),
            Response::Status(s) => r.status = Some(s),
            _ => {}
        }
        r
    }
}

/// What a [`UiPolicy::Scripted`] does when its queue is empty or the next answer expects
/// another kind of alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// As [`UiPolicy::Accept`] (no configured text).
    Accept,
    /// As [`UiPolicy::Reject`]: nothing the script did not plan is consented to.
    #[default]
    Reject,
    /// 214 for every alert.
    Cancel,
    /// As [`UiPolicy::Timeout`].
    Timeout,
    /// As [`UiPolicy::Headless`]: 406.
    Headless,
}

impl Fallback {
    /// The name used in profiles and script files.
    pub fn name(self) -> &'static str {
        match self {
            Fallback::Accept => "accept",
            Fallback::Reject => "reject",
            Fallback::Cancel => "cancel",
            Fallback::Timeout => "timeout",
            Fallback::Headless => "headless",
        }
    }

    fn response(self) -> Response {
        match self {
            Fallback::Accept => Response::Accept,
            Fallback::Reject => Response::Reject,
            Fallback::Cancel => Response::Cancel,
            Fallback::Timeout => Response::Timeout,
            Fallback::Headless => Response::Status(406),
        }
    }
}

/// How the simulated user answers UI alerts (device profile setting).
///
/// TOML: `mode = "accept"` (optional `text = "…"`), `mode = "reject"`,
/// `mode = "timeout"`, `mode = "headless"`, or `mode = "scripted"` with `fallback` and an
/// `answers` array (the [`Script`] file format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", try_from = "RawPolicy")]
pub enum UiPolicy {
    /// Yes to everything; inputs take DR (or `text` for 1102, if configured), choices take
    /// DR or the first choice.
    Accept {
        /// The text typed into every 1102 (checked against MAXLEN and IT); DR otherwise.
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// No to 1101, cancel (214) for 1102–1104, 1100 shown (200).
    Reject,
    /// The user never answers: 408 for 1101–1104 when MAXDT expires; 1100 shown (200).
    Timeout,
    /// A device without UI: every UI alert 406 (facts §3.4).
    Headless,
    /// Answers from a script, in order.
    Scripted {
        /// What to do when the script has no fitting answer (default `reject`).
        fallback: Fallback,
        /// The remaining answers, consumed from the front.
        answers: VecDeque<ScriptedAnswer>,
    },
}

/// The profile form of a [`UiPolicy`]: serde's internally tagged enums let unit variants
/// take any field, so unknown and misplaced fields are refused here.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    mode: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    fallback: Option<Fallback>,
    #[serde(default)]
    answers: Option<VecDeque<ScriptedAnswer>>,
}

impl TryFrom<RawPolicy> for UiPolicy {
    type Error = String;
    fn try_from(r: RawPolicy) -> Result<Self, String> {
        let misplaced = |field: &str| format!("`{field}` does not go with mode = \"{}\"", r.mode);
        if r.mode != "accept" && r.text.is_some() {
            return Err(misplaced("text"));
        }
        if r.mode != "scripted" {
            if r.fallback.is_some() {
                return Err(misplaced("fallback"));
            }
            if r.answers.is_some() {
                return Err(misplaced("answers"));
            }
        }
        Ok(match r.mode.as_str() {
            "accept" => UiPolicy::Accept { text: r.text },
            "reject" => UiPolicy::Reject,
            "timeout" => UiPolicy::Timeout,
            "headless" => UiPolicy::Headless,
            "scripted" => UiPolicy::Scripted {
                fallback: r.fallback.unwrap_or_default(),
                answers: r.answers.unwrap_or_default(),
            },
            other => {
                return Err(format!(
                    "unknown UI mode {other:?}: expected accept, reject, timeout, headless or \
                     scripted"
                ))
            }
        })
    }
}

impl Default for UiPolicy {
    /// [`UiPolicy::Accept`] without configured text: a cooperative user.
    fn default() -> Self {
        UiPolicy::Accept { text: None }
    }
}

impl UiPolicy {
    /// The mode name (`accept`, `reject`, `timeout`, `headless`, `scripted`).
    pub fn mode(&self) -> &'static str {
        match self {
            UiPolicy::Accept { .. } => "accept",
            UiPolicy::Reject => "reject",
            UiPolicy::Timeout => "timeout",
            UiPolicy::Headless => "headless",
            UiPolicy::Scripted { .. } => "scripted",
        }
    }
}

/// A scripted-answer file (TOML): an optional `fallback` and an `answers` array.
///
/// ```toml
/// fallback = "reject"
///
/// [[answers]]
/// alert = "confirm"
/// response = "accept"
///
/// [[answers]]
/// alert = "text_input"
/// response = "text"
/// text = "12345"
///
/// [[answers]]
/// alert = "multiple_choice"
/// response = "choices"
/// choices = [3, 1]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// What to do when the script has no fitting answer (default `reject`).
    #[serde(default)]
    pub fallback: Fallback,
    /// The answers, in the order the alerts are expected.
    #[serde(default)]
    pub answers: VecDeque<ScriptedAnswer>,
}

/// Why a script file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The file could not be read.
    #[error("cannot read UI script {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid script.
    #[error("bad UI script{}: {source}", .path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    Toml {
        /// The file, if read from one.
        path: Option<PathBuf>,
        /// The parse error (with line and column).
        source: toml::de::Error,
    },
}

impl Script {
    /// Parse a script from TOML text.
    pub fn from_toml(text: &str) -> Result<Script, ScriptError> {
        toml::from_str(text).map_err(|source| ScriptError::Toml { path: None, source })
    }

    /// Read and parse a script file.
    pub fn load(path: impl AsRef<Path>) -> Result<Script, ScriptError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScriptError::Io {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ScriptError::Toml {
            path: Some(path.to_owned()),
            source,
        })
    }
}

impl From<Script> for UiPolicy {
    fn from(s: Script) -> UiPolicy {
        UiPolicy::Scripted {
            fallback: s.fallback,
            answers: s.answers,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The log
// ---------------------------------------------------------------------------------------------

/// The user's input returned with a 200 (facts §3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UiInput {
    /// 1102: the text typed.
    Text(String),
    /// 1103 / 1104: the selected choices, 1-based, in the order sent.
    Choices(Vec<u32>),
}

impl UiInput {
    /// The Items carrying the input: 1102 one Item with the text, 1103 one Item with the
    /// index, 1104 one Item per selected index (facts §3.3).
    pub fn to_items(&self) -> Vec<Item> {
        let item = |s: String| Item {
            data: Some(Data::Text(s)),
            ..Item::default()
        };
        match self {
            UiInput::Text(t) => vec![item(t.clone())],
            UiInput::Choices(c) => c.iter().map(|i| item(i.to_string())).collect(),
        }
    }
}

/// What a real UI would have waited before this answer (nothing is slept: sans-IO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Waited {
    /// Nothing was shown (406, 412, or an alert that is not a UI alert).
    NotShown,
    /// The simulated user answered at once.
    Immediate,
    /// A 1100 display stayed up for MINDT seconds.
    MinDisplay(u32),
    /// Nobody answered; MAXDT seconds passed.
    MaxDt(u32),
    /// Nobody answered and the alert gave no MAXDT: a real device waits for its own limit.
    DeviceLimit,
}

/// Timing options of the alert and what a real UI would have waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timing {
    /// MINDT, seconds.
    pub min_dt: Option<u32>,
    /// MAXDT, seconds.
    pub max_dt: Option<u32>,
    /// What a real UI would have waited.
    pub waited: Waited,
}

/// Where an answer came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerSource {
    /// The policy, by mode name.
    Policy(&'static str),
    /// A scripted answer, by its 0-based position in the script.
    Script(usize),
    /// The script's fallback (see the event's `note` for why).
    Fallback(Fallback),
    /// The alert was refused before any policy applied (412).
    Malformed,
    /// Not a UI alert: answered by the inner hooks.
    Inner,
}

/// One alert seen by [`UiHooks`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UiEvent {
    /// The Alert's CmdID.
    pub cmd_id: String,
    /// The alert code (`None`: the Alert had no Data).
    pub code: Option<AlertCode>,
    /// Item 1 as received (the options string, before decoding), for UI alerts.
    pub raw_options: Option<String>,
    /// The alert as parsed (options, text, choices, DR), when it could be.
    pub alert: Option<UiAlert>,
    /// The answer's status.
    pub status: StatusCode,
    /// The input sent back with a 200.
    pub input: Option<UiInput>,
    /// The response applied (`None` when no response was needed: 406 headless, 412, inner).
    pub response: Option<Response>,
    /// Who decided.
    pub source: AnswerSource,
    /// MINDT / MAXDT and the simulated wait.
    pub timing: Timing,
    /// Why, for anything but a plain answer: the 412 / 500 reason, why a fallback applied.
    pub note: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// The hooks
// ---------------------------------------------------------------------------------------------

/// [`CommandHooks`] answering UI alerts with a [`UiPolicy`] and every other Alert with an
/// inner hooks value (by default [`NoHooks`]: 406, facts §3.1). Every alert is logged.
#[derive(Debug, Clone, Default)]
pub struct UiHooks<H = NoHooks> {
    policy: UiPolicy,
    inner: H,
    events: Vec<UiEvent>,
    consumed: usize,
    inventory: Option<crate::privacy::InventoryGate>,
}

impl UiHooks<NoHooks> {
    /// Hooks with this policy; non-UI alerts are answered 406.
    pub fn new(policy: UiPolicy) -> Self {
        UiHooks::with_inner(policy, NoHooks)
    }
}

impl<H: CommandHooks> UiHooks<H> {
    /// Hooks with this policy; non-UI alerts go to `inner`.
    pub fn with_inner(policy: UiPolicy, inner: H) -> Self {
        UiHooks {
            policy,
            inner,
            events: Vec::new(),
            consumed: 0,
            inventory: None,
        }
    }

    /// Guard the installed-application list with the user's consent (DMRD-6.1.4-16,
    /// [`crate::privacy`]): a Get that would disclose it is answered 425 unless the setting
    /// allows it or the user, asked with a 1101 confirmation through the policy, agrees.
    pub fn with_inventory_gate(mut self, gate: crate::privacy::InventoryGate) -> Self {
        self.inventory = Some(gate);
        self
    }

    /// The policy (for a scripted one: with the answers not yet used).
    pub fn policy(&self) -> &UiPolicy {
        &self.policy
    }

    /// Replace the policy (a scripted one starts counting answers from 0 again).
    pub fn set_policy(&mut self, policy: UiPolicy) {
        self.policy = policy;
        self.consumed = 0;
    }

    /// The inner hooks.
    pub fn inner_mut(&mut self) -> &mut H {
        &mut self.inner
    }

    /// Every alert seen so far.
    pub fn events(&self) -> &[UiEvent] {
        &self.events
    }

    /// Take the log, leaving it empty.
    pub fn take_events(&mut self) -> Vec<UiEvent> {
        std::mem::take(&mut self.events)
    }

    /// Answer a UI alert of kind `kind` (the [`CommandHooks::alert`] path for codes
    /// 1100–1104).
    pub fn answer_ui(&mut self, kind: UiKind, alert: &Alert) -> AlertAnswer {
        let raw_options = alert.items.first().map(|i| match &i.data {
            Some(Data::Text(t)) => t.clone(),
            Some(Data::Binary(b)) => String::from_utf8_lossy(b).into_owned(),
            Some(Data::Markup(m)) => m.to_xml(),
            None => String::new(),
        });
        let mut ev = UiEvent {
            cmd_id: alert.cmd_id.clone(),
            code: Some(kind.code()),
            raw_options,
            alert: None,
            status: StatusCode::OptionalFeatureNotSupported,
            input: None,
            response: None,
            source: AnswerSource::Policy(self.policy.mode()),
            timing: Timing {
                min_dt: None,
                max_dt: None,
                waited: Waited::NotShown,
            },
            note: None,
        };
        // facts §3.4: a client without UI support answers 406, whatever the items.
        if self.policy == UiPolicy::Headless {
            return self.finish(ev);
        }
        let parsed = match UiAlert::parse(kind, &alert.items) {
            Ok(p) => p,
            Err(e) => {
                ev.status = e.status();
                ev.source = AnswerSource::Malformed;
                ev.note = Some(e.to_string());
                return self.finish(ev);
            }
        };
        ev.timing.min_dt = parsed.options.min_dt;
        ev.timing.max_dt = parsed.options.max_dt;
        let (response, source, note) = self.choose(&parsed);
        ev.source = source;
        ev.note = note;
        match evaluate(&parsed, &response) {
            Ok((status, input)) => {
                ev.status = status;
                ev.input = input;
            }
            Err(e) => {
                ev.status = StatusCode::CommandFailed;
                let why = format!("{} answer refused: {e}", response.name());
                ev.note = Some(match ev.note.take() {
                    Some(n) => format!("{n}; {why}"),
                    None => why,
                });
            }
        }
        ev.timing.waited = waited(&parsed, &response, ev.status);
        ev.response = Some(response);
        ev.alert = Some(parsed);
        self.finish(ev)
    }

    fn finish(&mut self, ev: UiEvent) -> AlertAnswer {
        let answer = AlertAnswer {
            code: ev.status,
            results: ev.input.as_ref().map(UiInput::to_items).unwrap_or_default(),
        };
        self.events.push(ev);
        answer
    }

    fn choose(&mut self, a: &UiAlert) -> (Response, AnswerSource, Option<String>) {
        let mode = self.policy.mode();
        match &mut self.policy {
            UiPolicy::Accept { text: Some(t) } if a.kind == UiKind::TextInput => {
                (Response::Text(t.clone()), AnswerSource::Policy(mode), None)
            }
            UiPolicy::Accept { .. } => (Response::Accept, AnswerSource::Policy(mode), None),
            UiPolicy::Reject => (Response::Reject, AnswerSource::Policy(mode), None),
            UiPolicy::Timeout => (Response::Timeout, AnswerSource::Policy(mode), None),
            UiPolicy::Headless => (Response::Status(406), AnswerSource::Policy(mode), None),
            UiPolicy::Scripted { fallback, answers } => {
                let fb = *fallback;
                let why = match answers.front() {
                    Some(next) if next.alert == a.kind => {
                        let response = answers
                            .pop_front()
                            .map_or(Response::Accept, |next| next.response);
                        let index = self.consumed;
                        self.consumed += 1;
                        return (response, AnswerSource::Script(index), None);
                    }
                    Some(next) => format!(
                        "script answer #{} expects a {} alert, got {}; it stays queued",
                        self.consumed + 1,
                        next.alert,
                        a.kind
                    ),
                    None => format!("script exhausted ({} answers used)", self.consumed),
                };
                (
                    fb.response(),
                    AnswerSource::Fallback(fb),
                    Some(format!("{why}; fallback {}", fb.name())),
                )
            }
        }
    }
}

/// The status and input for `response` to `a`, or why the response does not fit the alert
/// (answered 500).
fn evaluate(a: &UiAlert, response: &Response) -> Result<(StatusCode, Option<UiInput>), InputError> {
    use StatusCode as S;
    let ok = |input| Ok((S::Ok, input));
    match response {
        Response::Accept => match a.kind {
            UiKind::Display | UiKind::Confirm => ok(None),
            UiKind::TextInput => {
                let text = match &a.default {
                    Some(DefaultResponse::Text(t)) => t.clone(),
                    _ => String::new(),
                };
                ok(Some(UiInput::Text(text)))
            }
            UiKind::SingleChoice | UiKind::MultipleChoice => {
                let choices = match &a.default {
                    Some(DefaultResponse::Choices(c)) => c.clone(),
                    _ => vec![1],
                };
                ok(Some(UiInput::Choices(choices)))
            }
        },
        Response::Reject => Ok((
            match a.kind {
                UiKind::Display => S::Ok,
                UiKind::Confirm => S::NotModified,
                _ => S::OperationCancelled,
            },
            None,
        )),
        Response::Cancel => Ok((S::OperationCancelled, None)),
        Response::Timeout => Ok((
            if a.kind == UiKind::Display {
                S::Ok
            } else {
                S::RequestTimeout
            },
            None,
        )),
        Response::Text(t) => {
            if a.kind != UiKind::TextInput {
                return Err(InputError::WrongAnswer {
                    answer: "text",
                    kind: a.kind,
                });
            }
            validate_text(t, &a.options)?;
            ok(Some(UiInput::Text(t.clone())))
        }
        Response::Choices(c) => {
            validate_choices(a.kind, c, a.choices.len())?;
            ok(Some(UiInput::Choices(c.clone())))
        }
        Response::Status(s) => Ok((S::from_u16(*s), None)),
    }
}

fn waited(a: &UiAlert, response: &Response, status: StatusCode) -> Waited {
    let never_answered = matches!(response, Response::Timeout);
    match (never_answered, a.kind) {
        (true, _) => a.options.max_dt.map_or(Waited::DeviceLimit, Waited::MaxDt),
        (false, UiKind::Display) if status == StatusCode::Ok => a
            .options
            .min_dt
            .map_or(Waited::Immediate, Waited::MinDisplay),
        _ => Waited::Immediate,
    }
}

impl<H: CommandHooks> CommandHooks for UiHooks<H> {
    /// UI alerts (1100–1104) go through the policy. An Alert without Data (no alert code)
    /// is answered 412. Any other alert goes to the inner hooks (406 with [`NoHooks`]):
    /// 1200/1201/1224/1226 are client-to-server only, 1222/1223 belong to the session layer
    /// (which should handle them before the processor), unknown codes are not supported.
    fn alert(&mut self, tree: &mut Tree, alert: &Alert) -> AlertAnswer {
        let Some(code) = alert.code else {
            let ev = UiEvent {
                cmd_id: alert.cmd_id.clone(),
                code: None,
                raw_options: None,
                alert: None,
                status: StatusCode::IncompleteCommand,
                input: None,
                response: None,
                source: AnswerSource::Malformed,
                timing: Timing {
                    min_dt: None,
                    max_dt: None,
                    waited: Waited::NotShown,
                },
                note: Some("the Alert has no Data (alert code)".to_owned()),
            };
            return self.finish(ev);
        };
        if let Some(kind) = UiKind::from_code(code) {
            return self.answer_ui(kind, alert);
        }
        let answer = self.inner.alert(tree, alert);
        self.events.push(UiEvent {
            cmd_id: alert.cmd_id.clone(),
            code: Some(code),
            raw_options: None,
            alert: None,
            status: answer.code,
            input: None,
            response: None,
            source: AnswerSource::Inner,
            timing: Timing {
                min_dt: None,
                max_dt: None,
                waited: Waited::NotShown,
            },
            note: None,
        });
        answer
    }

    /// DMRD-6.1.4-16: the installed-application list only with the user's consent
    /// ([`UiHooks::with_inventory_gate`]); everything else goes to the inner hooks.
    fn may_read(&mut self, tree: &Tree, node: &str, listing: bool) -> Option<StatusCode> {
        if let Some(mut gate) = self.inventory {
            let code = gate.check(node, listing, || {
                let item = |s: &str| Item {
                    data: Some(Data::Text(s.to_owned())),
                    ..Item::default()
                };
                let alert = Alert {
                    cmd_id: "0".into(),
                    code: Some(AlertCode::ConfirmOrReject),
                    items: vec![item(""), item(crate::privacy::QUESTION)],
                    ..Alert::default()
                };
                self.answer_ui(UiKind::Confirm, &alert).code == StatusCode::Ok
            });
            self.inventory = Some(gate);
            if code.is_some() {
                return code;
            }
        }
        self.inner.may_read(tree, node, listing)
    }
}
