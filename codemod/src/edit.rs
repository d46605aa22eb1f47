//! The edit engine: the one place that decides how source text is cut.
//!
//! Rules describe *what* goes as [`Edit`]s over byte ranges of the original
//! text; an [`EditSet`] keeps them sorted and checks that they fit together,
//! and [`EditSet::render`] produces the new text once.
//!
//! Nesting is allowed: an edit inside another one is kept as its child. A
//! replacement may copy original sub-ranges ([`Piece::Original`]); the
//! children that fall inside such a piece are applied to the copied text, so a
//! rule rewriting a whole `tokio::select!` still sees the argument another
//! rule removed inside it. Two overlapping pure deletions merge; any other
//! partial overlap is a [`Conflict`].

use std::ops::Range;

use crate::rule_id::RuleId;

/// One part of a replacement text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// New text. Written with `\n`; rendered with the file's line ending.
    Text(String),
    /// A range of the original text, with the edits inside it applied and up
    /// to `dedent` columns of leading spaces removed at its start and after
    /// every line break.
    Original { range: Range<usize>, dedent: usize },
}

/// A change to one byte range of the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    /// Empty for a deletion.
    pub replacement: Vec<Piece>,
    pub rule: RuleId,
    /// The removed symbol that caused this edit, e.g. `WorkerNotifier`.
    pub cause: String,
}

impl Edit {
    pub fn delete(range: Range<usize>, rule: RuleId, cause: impl Into<String>) -> Self {
        Edit {
            range,
            replacement: Vec::new(),
            rule,
            cause: cause.into(),
        }
    }

    pub fn replace(range: Range<usize>, replacement: Vec<Piece>, rule: RuleId, cause: impl Into<String>) -> Self {
        Edit {
            range,
            replacement,
            rule,
            cause: cause.into(),
        }
    }

    pub fn is_deletion(&self) -> bool {
        self.replacement.is_empty()
    }

    fn contains(&self, other: &Range<usize>) -> bool {
        self.range.start <= other.start && other.end <= self.range.end
    }
}

/// Two edits that overlap without one containing the other.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("edit {new:?} ({new_rule}) overlaps edit {existing:?} ({existing_rule})")]
pub struct Conflict {
    pub new: Range<usize>,
    pub new_rule: RuleId,
    pub existing: Range<usize>,
    pub existing_rule: RuleId,
}

/// A set of edits over one original text.
///
/// Invariant: `edits` is sorted by `(range.start, Reverse(range.end))`, and any
/// two edits are either disjoint or nested (one range contains the other).
#[derive(Debug, Default, Clone)]
pub struct EditSet {
    edits: Vec<Edit>,
    /// `max_end[i]`: the largest end among `edits[..=i]`, so that the edits
    /// containing a range are found by a binary search and a short walk
    /// back (queries stay logarithmic on files with tens of thousands of
    /// edits).
    max_end: Vec<usize>,
}

impl EditSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// The edits that are not inside another edit, in text order.
    pub fn top_level(&self) -> Vec<&Edit> {
        let mut out: Vec<&Edit> = Vec::new();
        for edit in &self.edits {
            if out.last().is_some_and(|outer| outer.contains(&edit.range)) {
                continue;
            }
            out.push(edit);
        }
        out
    }

    /// Every edit, nested ones included, in text order.
    pub fn all(&self) -> &[Edit] {
        &self.edits
    }

    /// Adds an edit. An identical duplicate is accepted and ignored; two
    /// overlapping deletions merge; nesting is kept; any other overlap is a
    /// conflict and leaves the set unchanged.
    pub fn insert(&mut self, edit: Edit) -> Result<(), Conflict> {
        if let Some(existing) = self.same_range(&edit.range).map(|i| &self.edits[i]) {
            if existing.replacement == edit.replacement || existing.is_deletion() {
                return Ok(());
            }
            if !edit.is_deletion() {
                return Err(conflict(&edit, existing));
            }
        }
        // A deletion absorbs the deletions it partially overlaps, to a
        // fixpoint; decided before anything changes.
        let mut range = edit.range.clone();
        let mut absorbed: Vec<usize> = Vec::new();
        loop {
            let overlapping: Vec<usize> = self
                .partially_overlapping(&range)
                .into_iter()
                .filter(|i| !absorbed.contains(i))
                .collect();
            if overlapping.is_empty() {
                break;
            }
            if let Some(&i) = overlapping
                .iter()
                .find(|&&i| !(edit.is_deletion() && self.edits[i].is_deletion()))
            {
                return Err(conflict(&edit, &self.edits[i]));
            }
            for i in overlapping {
                let r = &self.edits[i].range;
                range = range.start.min(r.start)..range.end.max(r.end);
                absorbed.push(i);
            }
        }
        // A deletion replaces a rewrite of the same range.
        absorbed.extend(self.same_range(&range));
        absorbed.sort_unstable();
        absorbed.dedup();
        for &i in absorbed.iter().rev() {
            self.edits.remove(i);
        }
        if let Some(&first) = absorbed.first() {
            self.refresh_max_end(first);
        }
        self.push_sorted(Edit { range, ..edit });
        Ok(())
    }

    /// Adds a group of edits atomically: either all of them go in or none.
    pub fn insert_group(&mut self, edits: Vec<Edit>) -> Result<(), Conflict> {
        if edits.len() == 1 {
            // `insert` leaves the set unchanged on a conflict.
            return self.insert(edits.into_iter().next().expect("one edit"));
        }
        let backup = self.clone();
        for edit in edits {
            if let Err(conflict) = self.insert(edit) {
                *self = backup;
                return Err(conflict);
            }
        }
        Ok(())
    }

    fn push_sorted(&mut self, edit: Edit) {
        let key = |e: &Edit| (e.range.start, std::cmp::Reverse(e.range.end));
        let at = self.edits.partition_point(|e| key(e) <= key(&edit));
        self.edits.insert(at, edit);
        self.refresh_max_end(at);
    }

    /// The index of the edit over exactly `range`, if any.
    fn same_range(&self, range: &Range<usize>) -> Option<usize> {
        let from = self.edits.partition_point(|e| e.range.start < range.start);
        (from..self.edits.len())
            .take_while(|&i| self.edits[i].range.start == range.start)
            .find(|&i| self.edits[i].range == *range)
    }

    /// The edits that overlap `range` without nesting: among those starting
    /// inside it (found by binary search) and those starting before it
    /// that reach into it (a walk back, stopped by `max_end`).
    fn partially_overlapping(&self, range: &Range<usize>) -> Vec<usize> {
        let lo = self.edits.partition_point(|e| e.range.start < range.start);
        let hi = self.edits.partition_point(|e| e.range.start < range.end);
        let before = (0..lo).rev().take_while(|&i| self.max_end[i] > range.start);
        before
            .chain(lo..hi)
            .filter(|&i| partially_overlaps(&self.edits[i].range, range))
            .collect()
    }

    /// Recomputes `max_end` from index `from` on (edits are mostly added in
    /// text order, near the end, so this is short).
    fn refresh_max_end(&mut self, from: usize) {
        self.max_end.truncate(from);
        let mut max = from.checked_sub(1).map_or(0, |i| self.max_end[i]);
        for edit in &self.edits[from..] {
            max = max.max(edit.range.end);
            self.max_end.push(max);
        }
    }

    /// The edits containing `range`, innermost (latest start) first.
    fn containing(&self, range: Range<usize>) -> impl Iterator<Item = &Edit> + '_ {
        let upto = self.edits.partition_point(|e| e.range.start <= range.start);
        (0..upto)
            .rev()
            .take_while(move |&i| self.max_end[i] >= range.end)
            .map(move |i| &self.edits[i])
            .filter(move |e| e.range.end >= range.end)
    }

    /// The edits lying inside `range` (or equal to it), in text order.
    pub fn within<'a>(&'a self, range: &'a Range<usize>) -> impl Iterator<Item = &'a Edit> + 'a {
        let from = self.edits.partition_point(|e| e.range.start < range.start);
        self.edits[from..]
            .iter()
            .take_while(move |e| e.range.start < range.end || (e.range.start == range.end && range.is_empty()))
            .filter(move |e| e.range.end <= range.end)
    }

    /// Is `offset` inside the range of a deletion (or a replacement that does
    /// not copy that offset)? Used to tell what text survives.
    pub fn removes(&self, range: &Range<usize>) -> bool {
        self.containing(range.clone()).any(|e| {
            !e.replacement
                .iter()
                .any(|p| matches!(p, Piece::Original { range: r, .. } if r.start <= range.start && range.end <= r.end))
        })
    }

    /// The cause of an edit that removes `range`, if any.
    pub fn cause_of(&self, range: &Range<usize>) -> Option<&str> {
        self.containing(range.clone()).next().map(|e| e.cause.as_str())
    }

    /// Renders the whole text with every edit applied. After each cut of
    /// whole lines the blank lines around the junction are normalised: never
    /// two blank lines in a row, no blank line right after an opening or
    /// right before a closing bracket, unless the original had it there.
    pub fn render(&self, source: &str) -> String {
        let crlf = source.contains("\r\n");
        let mut out = String::with_capacity(source.len());
        let mut junctions = Vec::new();
        self.render_range(source, 0..source.len(), crlf, &mut out, &mut junctions);
        normalise_junctions(&mut out, &junctions)
    }

    fn render_range(
        &self,
        source: &str,
        range: Range<usize>,
        crlf: bool,
        out: &mut String,
        junctions: &mut Vec<usize>,
    ) {
        let mut at = range.start;
        let inner: Vec<&Edit> = self
            .edits
            .iter()
            .filter(|e| range.start <= e.range.start && e.range.end <= range.end && e.range != range)
            .collect();
        let mut last_end: Option<usize> = None;
        for edit in inner {
            if last_end.is_some_and(|end| edit.range.start < end) {
                continue; // nested in an edit already rendered
            }
            if edit.range.start < at {
                continue;
            }
            out.push_str(&source[at..edit.range.start]);
            for piece in &edit.replacement {
                match piece {
                    Piece::Text(text) => push_text(out, text, crlf),
                    Piece::Original { range, dedent } => {
                        let mut copied = String::new();
                        let mut inner_junctions = Vec::new();
                        self.render_range(source, range.clone(), crlf, &mut copied, &mut inner_junctions);
                        out.push_str(&dedent_text(&copied, *dedent));
                    }
                }
            }
            if edit.is_deletion() && at_line_start(source, edit.range.start) {
                junctions.push(out.len());
            }
            at = edit.range.end;
            last_end = Some(edit.range.end);
        }
        out.push_str(&source[at..range.end]);
    }
}

fn conflict(new: &Edit, existing: &Edit) -> Conflict {
    Conflict {
        new: new.range.clone(),
        new_rule: new.rule,
        existing: existing.range.clone(),
        existing_rule: existing.rule,
    }
}

/// Overlap that is not nesting.
fn partially_overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    let disjoint = a.end <= b.start || b.end <= a.start;
    let nested = (a.start <= b.start && b.end <= a.end) || (b.start <= a.start && a.end <= b.end);
    !disjoint && !nested
}

fn at_line_start(source: &str, offset: usize) -> bool {
    offset == 0 || source.as_bytes()[offset - 1] == b'\n'
}

fn push_text(out: &mut String, text: &str, crlf: bool) {
    if !crlf {
        out.push_str(text);
        return;
    }
    let mut prev = '\0';
    for c in text.chars() {
        if c == '\n' && prev != '\r' {
            out.push('\r');
        }
        out.push(c);
        prev = c;
    }
}

/// Removes up to `columns` leading spaces at the start and after each `\n`.
pub fn dedent_text(text: &str, columns: usize) -> String {
    if columns == 0 {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let spaces = line.bytes().take(columns).take_while(|b| *b == b' ').count();
        out.push_str(&line[spaces..]);
    }
    out
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// Fixes blank lines at each junction (an offset in `text`, at a line start,
/// where whole lines were cut). Works from the last junction backwards so
/// earlier offsets stay valid.
fn normalise_junctions(text: &mut String, junctions: &[usize]) -> String {
    let mut out = std::mem::take(text);
    let mut points: Vec<usize> = junctions.to_vec();
    points.sort_unstable();
    points.dedup();
    for &j in points.iter().rev() {
        if j > out.len() {
            continue;
        }
        let prev = prev_line(&out, j);
        let next = next_line(&out, j);
        let next_text = next.as_ref().map(|r| &out[r.clone()]);
        let next_blank = next_text.is_some_and(is_blank)
            && next
                .as_ref()
                .is_some_and(|r| r.end < out.len() || !out[r.clone()].is_empty());
        let next_closes = next_text.is_none_or(|t| {
            let t = t.trim_start();
            t.starts_with('}') || t.starts_with(')') || t.starts_with(']')
        });
        match prev {
            Some(p) if is_blank(&out[p.clone()]) && (next_blank || next_closes) => {
                out.replace_range(p.start..j, "");
            }
            _ => {
                let prev_opens = prev.as_ref().is_none_or(|p| {
                    let t = out[p.clone()].trim_end();
                    t.ends_with('{') || t.ends_with('(') || t.ends_with('[')
                });
                if prev_opens && next_blank {
                    let end = next.expect("next_blank implies a line").end;
                    out.replace_range(j..end, "");
                }
            }
        }
    }
    out
}

/// The line ending at `j` (with its line break), if any.
fn prev_line(text: &str, j: usize) -> Option<Range<usize>> {
    if j == 0 {
        return None;
    }
    let start = text[..j - 1].rfind('\n').map_or(0, |i| i + 1);
    Some(start..j)
}

/// The line starting at `j` (with its line break), if any.
fn next_line(text: &str, j: usize) -> Option<Range<usize>> {
    if j >= text.len() {
        return None;
    }
    let end = text[j..].find('\n').map_or(text.len(), |i| j + i + 1);
    Some(j..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn del(r: Range<usize>) -> Edit {
        Edit::delete(r, RuleId::NotifyCall, "x")
    }

    #[test]
    fn insert_same_twice() {
        let mut set = EditSet::new();
        set.insert(del(2..4)).unwrap();
        set.insert(del(2..4)).unwrap();
        assert_eq!(set.all().len(), 1);
    }

    #[test]
    fn overlapping_deletions_merge() {
        let mut set = EditSet::new();
        set.insert(del(2..5)).unwrap();
        set.insert(del(4..8)).unwrap();
        assert_eq!(set.all()[0].range, 2..8);
        assert_eq!(set.render("0123456789"), "0189");
    }

    #[test]
    fn overlapping_replacement_conflicts() {
        let mut set = EditSet::new();
        set.insert(del(2..5)).unwrap();
        let rep = Edit::replace(4..8, vec![Piece::Text("x".into())], RuleId::SelectBranch, "y");
        let err = set.insert(rep).unwrap_err();
        assert_eq!(err.existing, 2..5);
        assert_eq!(err.new, 4..8);
    }

    #[test]
    fn nested_edit_applies_inside_copied_piece() {
        let src = "abcdefgh";
        let mut set = EditSet::new();
        set.insert(del(3..4)).unwrap();
        let outer = Edit::replace(
            1..7,
            vec![
                Piece::Text("[".into()),
                Piece::Original { range: 2..6, dedent: 0 },
                Piece::Text("]".into()),
            ],
            RuleId::SelectBranch,
            "y",
        );
        set.insert(outer).unwrap();
        assert_eq!(set.render(src), "a[cef]h");
    }

    #[test]
    fn group_is_atomic() {
        let mut set = EditSet::new();
        set.insert(Edit::replace(
            0..2,
            vec![Piece::Text("z".into())],
            RuleId::SelectBranch,
            "y",
        ))
        .unwrap();
        let group = vec![
            del(5..6),
            Edit::replace(1..3, vec![Piece::Text("q".into())], RuleId::SelectBranch, "y"),
        ];
        assert!(set.insert_group(group).is_err());
        assert_eq!(set.all().len(), 1);
    }

    #[test]
    fn blank_lines_not_doubled() {
        let src = "a\n\nb\n\nc\n";
        let mut set = EditSet::new();
        set.insert(del(3..5)).unwrap();
        assert_eq!(set.render(src), "a\n\nc\n");
    }

    #[test]
    fn no_blank_line_before_closing_brace() {
        let src = "{\n    a;\n\n    b;\n}\n";
        let mut set = EditSet::new();
        set.insert(del(10..17)).unwrap();
        assert_eq!(set.render(src), "{\n    a;\n}\n");
    }

    #[test]
    fn no_blank_line_after_opening_brace() {
        let src = "{\n    a;\n\n    b;\n}\n";
        let mut set = EditSet::new();
        set.insert(del(2..9)).unwrap();
        assert_eq!(set.render(src), "{\n    b;\n}\n");
    }

    #[test]
    fn crlf_text_keeps_crlf() {
        let src = "a\r\nb\r\n";
        let mut set = EditSet::new();
        set.insert(Edit::replace(
            0..1,
            vec![Piece::Text("x\ny".into())],
            RuleId::SelectBranch,
            "y",
        ))
        .unwrap();
        assert_eq!(set.render(src), "x\r\ny\r\nb\r\n");
    }

    #[test]
    fn dedent_removes_only_spaces() {
        assert_eq!(dedent_text("    a\n      b\n  c", 4), "a\n  b\nc");
    }

    /// A tiny deterministic generator, so the property tests need no crate.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) as usize) % n.max(1)
        }
    }

    /// Deletions that never start a line: rendering removes exactly the
    /// bytes some deletion covers, whatever the order of insertion.
    #[test]
    fn deletions_remove_exactly_their_bytes_in_any_order() {
        let src = "abcdefghijklmnopqrstuvwxyz0123456789";
        for seed in 0..500 {
            let mut rng = Lcg(seed);
            let ranges: Vec<Range<usize>> = (0..1 + rng.below(6))
                .map(|_| {
                    let start = 1 + rng.below(src.len() - 2);
                    start..(start + 1 + rng.below(6)).min(src.len())
                })
                .collect();
            let expected: String = src
                .char_indices()
                .filter(|(i, _)| !ranges.iter().any(|r| r.contains(i)))
                .map(|(_, c)| c)
                .collect();
            let mut forward = EditSet::new();
            let mut backward = EditSet::new();
            for r in &ranges {
                forward.insert(del(r.clone())).unwrap();
            }
            for r in ranges.iter().rev() {
                backward.insert(del(r.clone())).unwrap();
            }
            assert_eq!(forward.render(src), expected, "seed {seed}: {ranges:?}");
            assert_eq!(backward.render(src), expected, "seed {seed}: {ranges:?}");
        }
    }

    /// The indexed queries answer as a scan of every edit would.
    #[test]
    fn indexed_queries_match_a_full_scan() {
        for seed in 0..300 {
            let mut rng = Lcg(seed);
            let mut set = EditSet::new();
            for _ in 0..12 {
                let start = rng.below(60);
                let range = start..start + 1 + rng.below(15);
                let edit = if rng.below(3) == 0 {
                    let inner = range.start..range.start + (range.len() / 2);
                    Edit::replace(
                        range,
                        vec![Piece::Original {
                            range: inner,
                            dedent: 0,
                        }],
                        RuleId::SelectBranch,
                        "y",
                    )
                } else {
                    del(range)
                };
                let _ = set.insert(edit);
            }
            for start in 0..70 {
                for len in 0..6 {
                    let q = start..start + len;
                    let containing: Vec<&Edit> = set
                        .all()
                        .iter()
                        .filter(|e| e.range.start <= q.start && q.end <= e.range.end)
                        .collect();
                    let removes = containing.iter().any(|e| {
                        !e.replacement.iter().any(
                            |p| matches!(p, Piece::Original { range: r, .. } if r.start <= q.start && q.end <= r.end),
                        )
                    });
                    assert_eq!(set.removes(&q), removes, "seed {seed} {q:?}");
                    let cause = containing.last().map(|e| e.cause.as_str());
                    assert_eq!(set.cause_of(&q), cause, "seed {seed} {q:?}");
                }
            }
        }
    }

    /// Edits kept by the set are always disjoint or nested, sorted.
    #[test]
    fn invariant_holds_after_random_inserts() {
        for seed in 0..500 {
            let mut rng = Lcg(seed);
            let mut set = EditSet::new();
            for _ in 0..8 {
                let start = rng.below(40);
                let range = start..start + rng.below(10);
                let edit = if rng.below(2) == 0 {
                    del(range)
                } else {
                    Edit::replace(range, vec![Piece::Text("x".into())], RuleId::SelectBranch, "y")
                };
                let _ = set.insert(edit);
            }
            for (i, a) in set.all().iter().enumerate() {
                for b in &set.all()[i + 1..] {
                    assert!(!partially_overlaps(&a.range, &b.range), "seed {seed}: {a:?} {b:?}");
                    assert!(a.range.start <= b.range.start, "seed {seed}: not sorted");
                }
            }
        }
    }
}
