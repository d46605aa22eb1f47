//! `--interactive`: every hunk of the planned migration is shown with the
//! rules and causes of its edits, and the person at the terminal answers
//! accept / skip / accept the rest of this file / quit. Only the accepted
//! hunks are written (through the library's write stage, with all its
//! guards); a file whose accepted hunks do not parse is left unchanged.

use std::io::{BufRead, Write};
use std::ops::Range;

use similar::{DiffOp, DiffTag, TextDiff};

use codemod::{FileOutcome, Outcome};

/// What the person chose for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Accept,
    Skip,
    AcceptFile,
    Quit,
}

/// Reviews every changed file; returns how many hunks were accepted.
pub fn review(outcome: &mut Outcome, input: &mut dyn BufRead, out: &mut dyn Write) -> std::io::Result<usize> {
    let mut accepted = 0;
    let mut quit = false;
    for file in outcome.files.iter_mut().filter(|f| f.changed()) {
        if quit {
            file.output = file.original.clone();
            continue;
        }
        let (count, stop) = review_file(file, input, out)?;
        accepted += count;
        quit = stop;
    }
    Ok(accepted)
}

fn review_file(file: &mut FileOutcome, input: &mut dyn BufRead, out: &mut dyn Write) -> std::io::Result<(usize, bool)> {
    let diff = TextDiff::from_lines(&file.original, &file.output);
    let groups = diff.grouped_ops(3);
    let mut take = vec![false; groups.len()];
    let mut all = false;
    let mut quit = false;
    for (i, group) in groups.iter().enumerate() {
        if all {
            take[i] = true;
            continue;
        }
        writeln!(out, "\n{} — hunk {} of {}", file.path.display(), i + 1, groups.len())?;
        for cause in causes(file, group) {
            writeln!(out, "  {cause}")?;
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                    similar::ChangeTag::Equal => ' ',
                };
                write!(out, "{sign}{}", change.value())?;
                if change.missing_newline() {
                    writeln!(out)?;
                }
            }
        }
        match ask(input, out)? {
            Answer::Accept => take[i] = true,
            Answer::Skip => {}
            Answer::AcceptFile => {
                take[i] = true;
                all = true;
            }
            Answer::Quit => {
                quit = true;
                break;
            }
        }
    }
    let chosen: Vec<&DiffOp> = groups
        .iter()
        .zip(&take)
        .filter(|(_, t)| **t)
        .flat_map(|(g, _)| g.iter())
        .filter(|op| op.tag() != DiffTag::Equal)
        .collect();
    let text = assemble(&diff, &chosen);
    if text != file.original {
        if let Err(err) = codemod::parse::parse(text.clone()) {
            writeln!(
                out,
                "{}: the accepted hunks do not parse ({err}); this file is left unchanged",
                file.path.display()
            )?;
            file.output = file.original.clone();
            codemod::parse::forget_spans();
            return Ok((0, quit));
        }
        codemod::parse::forget_spans();
    }
    file.output = text;
    Ok((take.iter().filter(|t| **t).count(), quit))
}

/// The original with the chosen changes applied.
fn assemble<'a>(diff: &TextDiff<'a, 'a, 'a, str>, chosen: &[&DiffOp]) -> String {
    let old = diff.old_slices();
    let new = diff.new_slices();
    let mut text = String::new();
    for op in diff.ops() {
        let lines: Range<usize> = if op.tag() != DiffTag::Equal && chosen.contains(&op) {
            let r = op.new_range();
            text.extend(new[r].iter().copied());
            continue;
        } else {
            op.old_range()
        };
        text.extend(old[lines].iter().copied());
    }
    text
}

/// `rule (cause)` of the edits whose original lines the hunk covers.
fn causes(file: &FileOutcome, group: &[DiffOp]) -> Vec<String> {
    let (Some(first), Some(last)) = (group.first(), group.last()) else {
        return Vec::new();
    };
    let lines = first.old_range().start + 1..last.old_range().end + 1;
    let mut out: Vec<String> = file
        .edits
        .iter()
        .filter(|e| e.start_line < lines.end && e.end_line >= lines.start)
        .map(|e| format!("{} ({})", e.rule, e.cause))
        .collect();
    out.dedup();
    out
}

fn ask(input: &mut dyn BufRead, out: &mut dyn Write) -> std::io::Result<Answer> {
    loop {
        write!(out, "Apply this hunk? [y]es, [n]o, [a]ll in this file, [q]uit: ")?;
        out.flush()?;
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Ok(Answer::Quit);
        }
        match line.trim() {
            "y" | "Y" => return Ok(Answer::Accept),
            "n" | "N" => return Ok(Answer::Skip),
            "a" | "A" => return Ok(Answer::AcceptFile),
            "q" | "Q" => return Ok(Answer::Quit),
            other => writeln!(out, "`{other}`: answer y, n, a or q")?,
        }
    }
}
