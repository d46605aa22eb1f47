//! One Rust file through the pipeline: parse, run the rules, render the
//! edits, then check the result: it must parse again, and the rules run on
//! it must find nothing left to do (a few rounds are allowed to converge).
//! A file that fails either check keeps its original text and is reported.

use serde::Serialize;

use crate::parse::{self, ParseError, ParsedFile};
use crate::rules::{self, Review, RuleId, RuleOptions};
use crate::seeds::FileSeeds;
use crate::symbols::Symbols;

/// Rounds of rules allowed before a file counts as not converging.
const MAX_ROUNDS: usize = 3;

/// One edit as reported: where (1-based lines of the original) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditRecord {
    pub start_line: usize,
    pub end_line: usize,
    pub rule: RuleId,
    /// The removed symbol this edit follows from.
    pub cause: String,
}

/// What happened to one file.
#[derive(Debug)]
pub enum Transformed {
    /// Rules ran; `output` equals the input when there was nothing to do.
    Done {
        output: String,
        edits: Vec<EditRecord>,
        reviews: Vec<Review>,
        /// Byte ranges of the original text that the edits removed or replaced.
        touched: Vec<std::ops::Range<usize>>,
    },
    /// The input does not parse.
    ParseFailed(ParseError),
    /// A generated file (`@generated` header): reported, never edited.
    Generated,
    /// The rules produced text that does not parse or does not converge;
    /// a bug of the codemod. The file keeps its original text.
    Rejected(String),
}

/// Runs the rules on one file's text until nothing changes.
pub fn transform(source: &str, symbols: &Symbols, options: RuleOptions, seeds: &FileSeeds) -> Transformed {
    transform_parsed(source, None, symbols, options, seeds)
}

/// [`transform`], with `source` already parsed when `first` is given (the
/// parse the facts pass kept, see `held`).
pub(crate) fn transform_parsed(
    source: &str,
    mut first: Option<ParsedFile>,
    symbols: &Symbols,
    options: RuleOptions,
    seeds: &FileSeeds,
) -> Transformed {
    if crate::spec::is_generated(source) {
        return Transformed::Generated;
    }
    let mut current = source.to_string();
    let mut edits = Vec::new();
    let mut reviews = Vec::new();
    let mut touched = Vec::new();
    for round in 0..=MAX_ROUNDS {
        let parsed = match first.take().map_or_else(|| parse::parse(current.clone()), Ok) {
            Ok(parsed) => parsed,
            Err(err) if round == 0 => return Transformed::ParseFailed(err),
            Err(err) => return Transformed::Rejected(format!("the rewritten file does not parse: {err}")),
        };
        let pin = parsed.pin_spans();
        // Seeds are offsets of the original text: the first round only.
        let none = FileSeeds::default();
        let analysis = rules::analyse(&parsed, symbols, options, if round == 0 { seeds } else { &none });
        if analysis.abandoned {
            let reviews = if round == 0 { analysis.reviews } else { reviews };
            return Transformed::Done {
                output: source.to_string(),
                edits: Vec::new(),
                reviews,
                touched: Vec::new(),
            };
        }
        let next = analysis.edits.render(&parsed.source);
        if round == 0 {
            reviews = analysis.reviews;
            for edit in analysis.edits.top_level() {
                touched.push(edit.range.clone());
            }
        }
        for edit in analysis.edits.top_level() {
            edits.push(EditRecord {
                start_line: parsed.lines.line_of(edit.range.start),
                end_line: parsed
                    .lines
                    .line_of(edit.range.end.saturating_sub(1).max(edit.range.start)),
                rule: edit.rule,
                cause: edit.cause.clone(),
            });
        }
        drop(pin);
        drop(parsed);
        parse::forget_spans();
        if next == current {
            return Transformed::Done {
                output: current,
                edits,
                reviews,
                touched,
            };
        }
        current = next;
    }
    Transformed::Rejected(format!("the rules still find edits after {MAX_ROUNDS} rounds"))
}
