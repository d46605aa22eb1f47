//! Seeds from outside the syntax tree: what the compiler said about one
//! file, in the coordinates of its original text, for the rules to act on
//! as if they had found it themselves (so that a compiler-derived removal
//! cascades like any other). Empty for a purely syntactic run.

use std::collections::BTreeMap;

use crate::edit::Edit;

/// Per-file seeds. Offsets are byte offsets of the original text; each
/// maps to the diagnostic that caused it (the report's cause).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileSeeds {
    /// An expression here reads something removed: the path, field or
    /// method name starting at the offset (`cannot find value`, `no field`).
    pub tainted: BTreeMap<usize, String>,
    /// A method name here no longer exists: its link in a call chain goes,
    /// a call statement on a plain receiver goes.
    pub links: BTreeMap<usize, String>,
    /// The item whose name starts here is unused (`dead_code`).
    pub dead: BTreeMap<usize, String>,
    /// The binding starting here is unused (`unused_variables`): a `let`
    /// with a side-effect-free initialiser goes.
    pub unused_bindings: BTreeMap<usize, String>,
    /// Imports rustc reports unused without a suggestion (traits): the
    /// `use` leaf inside the range goes.
    pub unused_imports: Vec<(std::ops::Range<usize>, String)>,
    /// rustc's own suggestions (unused imports, `_name`, `mut`, an extra
    /// argument), applied as they are.
    pub edits: Vec<Edit>,
}

impl FileSeeds {
    /// Adds `other`'s seeds; returns whether anything was new.
    pub fn absorb(&mut self, other: FileSeeds) -> bool {
        let before = self.clone();
        // The first cause stays: one place reported twice (a library and
        // its tests print a type differently) is one seed.
        for (map, new) in [
            (&mut self.tainted, other.tainted),
            (&mut self.links, other.links),
            (&mut self.dead, other.dead),
            (&mut self.unused_bindings, other.unused_bindings),
        ] {
            for (at, cause) in new {
                map.entry(at).or_insert(cause);
            }
        }
        for import in other.unused_imports {
            if !self.unused_imports.iter().any(|(r, _)| *r == import.0) {
                self.unused_imports.push(import);
            }
        }
        for edit in other.edits {
            if !self.edits.contains(&edit) {
                self.edits.push(edit);
            }
        }
        *self != before
    }
}
