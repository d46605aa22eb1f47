//! The prefilter: a substring search for the literal markers of the
//! migration, run on every file's bytes before any parsing. A file holding
//! none of them is skipped (and counted): parsing is two orders of magnitude
//! slower than this scan, and almost no file of a large tree matches.

use aho_corasick::AhoCorasick;

/// A compiled set of markers.
pub struct Prefilter {
    matcher: Option<AhoCorasick>,
}

impl Prefilter {
    pub fn new<I, S>(markers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let markers: Vec<S> = markers.into_iter().collect();
        let matcher = if markers.is_empty() {
            None
        } else {
            // Leftmost-first lets aho-corasick use its SIMD prefilter; we only
            // ask whether anything matches, so the match semantics do not
            // matter (the standard kind is about 30x slower here).
            let matcher = AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                .build(markers)
                .expect("literal markers always compile");
            Some(matcher)
        };
        Prefilter { matcher }
    }

    /// Does `haystack` contain any marker?
    pub fn matches(&self, haystack: &[u8]) -> bool {
        self.matcher.as_ref().is_some_and(|m| m.is_match(haystack))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_any_marker() {
        let p = Prefilter::new(["WorkerNotifier", "enable_notifications"]);
        assert!(p.matches(b"let x = cfg.enable_notifications;"));
        assert!(!p.matches(b"fn main() {}"));
    }

    #[test]
    fn empty_set_matches_nothing() {
        assert!(!Prefilter::new(Vec::<&str>::new()).matches(b"anything"));
    }
}
