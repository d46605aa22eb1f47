//! Parsed files kept from the facts pass to the rules, so that a file is
//! parsed once for both. A syn tree and its spans cannot leave the thread
//! that parsed them, so each worker keeps its own files, and the rules run
//! on them on the same thread (`pipeline` runs both passes with
//! `rayon::broadcast`).
//!
//! Memory: a tree takes about 60 times its source text. A thread keeps its
//! first file whatever its size (that tree exists anyway while it is
//! parsed) and then files while their sources total at most [`BUDGET`];
//! the others are parsed again for the rules.

use std::cell::RefCell;

use crate::parse::ParsedFile;

/// Source bytes of the files one thread keeps beside its first.
pub(crate) const BUDGET: usize = 4 * 1024 * 1024;

thread_local! {
    static HELD: RefCell<Vec<(usize, ParsedFile)>> = const { RefCell::new(Vec::new()) };
}

/// How many parsed files this thread keeps. While any is kept, the
/// thread's spans are not invalidated (`parse::forget_spans`).
pub(crate) fn count() -> usize {
    HELD.with(|held| held.borrow().len())
}

/// Keeps `parsed`, candidate number `index`, when the budget allows;
/// gives it back otherwise.
pub(crate) fn offer(index: usize, parsed: ParsedFile) -> Option<ParsedFile> {
    HELD.with(|held| {
        let mut held = held.borrow_mut();
        let bytes: usize = held.iter().map(|(_, p)| p.source.len()).sum();
        if held.is_empty() || bytes + parsed.source.len() <= BUDGET {
            held.push((index, parsed));
            None
        } else {
            Some(parsed)
        }
    })
}

/// Takes back one kept file, the last kept first. The others stay counted,
/// so spans stay valid until the last one is taken and dropped.
pub(crate) fn take() -> Option<(usize, ParsedFile)> {
    HELD.with(|held| held.borrow_mut().pop())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> ParsedFile {
        crate::parse::parse(text.to_string()).unwrap()
    }

    #[test]
    fn keeps_the_first_file_whatever_its_size_then_within_the_budget() {
        let big = format!("const A: &str = \"{}\";", "x".repeat(BUDGET));
        assert!(offer(0, parsed(&big)).is_none(), "the first file is kept");
        assert!(offer(1, parsed("fn b() {}")).is_some(), "over the budget");
        assert_eq!(count(), 1);
        let (index, file) = take().unwrap();
        assert_eq!((index, file.source.len()), (0, big.len()));
        drop(file);
        assert!(offer(2, parsed("fn c() {}")).is_none());
        assert!(offer(3, parsed("fn d() {}")).is_none());
        assert_eq!(take().map(|(i, _)| i), Some(3));
        assert_eq!(take().map(|(i, _)| i), Some(2));
        assert!(take().is_none());
        crate::parse::forget_spans();
    }

    #[test]
    fn spans_of_kept_files_outlive_forget_and_answer_when_pinned() {
        let first = "fn first() {}\n";
        let second = "\n\n  fn second() {}\n";
        assert!(offer(0, parsed(first)).is_none());
        let other = parsed(second);
        crate::parse::forget_spans(); // a kept file: nothing is invalidated
        let (_, kept) = take().unwrap();
        let name = |f: &ParsedFile| match &f.ast.items[0] {
            syn::Item::Fn(item) => item.sig.ident.span(),
            _ => unreachable!(),
        };
        {
            let _pin = kept.pin_spans();
            assert_eq!(&first[crate::spans::byte_range(name(&kept))], "first");
        }
        let _pin = other.pin_spans();
        assert_eq!(&second[crate::spans::byte_range(name(&other))], "second");
        drop((kept, other));
        crate::parse::forget_spans();
    }
}
