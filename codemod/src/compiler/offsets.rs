//! From a position in the edited text (where rustc reports) back to the
//! original text (where the rules work): a byte diff of the two (Myers,
//! the edits being few), through the bytes both share. A position inside
//! text the edits wrote has no counterpart.

use std::ops::Range;
use std::time::{Duration, Instant};

use similar::{Algorithm, DiffOp};

/// Maps byte offsets of an edited text to byte offsets of its original.
pub struct OffsetMap {
    /// `(edited range, original start)` of each run of shared bytes.
    equal: Vec<(Range<usize>, usize)>,
}

impl OffsetMap {
    pub fn new(original: &str, edited: &str) -> Self {
        let deadline = Instant::now() + Duration::from_secs(2);
        let ops = similar::capture_diff_slices_deadline(
            Algorithm::Myers,
            original.as_bytes(),
            edited.as_bytes(),
            Some(deadline),
        );
        let equal = ops
            .into_iter()
            .filter_map(|op| match op {
                DiffOp::Equal {
                    old_index,
                    new_index,
                    len,
                } => Some((new_index..new_index + len, old_index)),
                _ => None,
            })
            .collect();
        OffsetMap { equal }
    }

    /// The original offset of the byte at `offset` of the edited text.
    pub fn to_original(&self, offset: usize) -> Option<usize> {
        let at = self.equal.partition_point(|(r, _)| r.end <= offset);
        let (range, original) = self.equal.get(at)?;
        range.contains(&offset).then(|| original + (offset - range.start))
    }

    /// A range of the edited text whose every byte the original has, in one
    /// piece (a suggestion's span), as a range of the original.
    pub fn range_to_original(&self, range: &Range<usize>) -> Option<Range<usize>> {
        if range.is_empty() {
            // An insertion point: between two shared bytes.
            let before = range.start.checked_sub(1).and_then(|b| self.to_original(b));
            return match (before, self.to_original(range.start)) {
                (Some(b), _) => Some(b + 1..b + 1),
                (None, Some(a)) => Some(a..a),
                _ => None,
            };
        }
        let start = self.to_original(range.start)?;
        let last = self.to_original(range.end - 1)?;
        // Contiguous in the original too, or the range spans a cut.
        (last + 1 - start == range.len()).then_some(start..last + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_bytes_map_and_written_ones_do_not() {
        let original = "a\nremoved\nkeep me\nf(x, n)\n";
        let edited = "a\nkeep me\nf(x)\n// zq\n";
        let map = OffsetMap::new(original, edited);
        let keep = edited.find("me").unwrap();
        assert_eq!(&original[map.to_original(keep).unwrap()..][..2], "me");
        let fx = edited.find("f(x)").unwrap();
        assert_eq!(&original[map.range_to_original(&(fx..fx + 3)).unwrap()], "f(x");
        assert_eq!(map.to_original(edited.find("zq").unwrap()), None);
    }
}
