//! The codemod's one integration test binary.

mod cli;
mod compiler;
mod corpus;
mod fixture_pairs;
mod hardening;
mod kept_parses;
mod legacy_pair;
mod reference_stub;
mod sample_sdk;
mod server_tree;
mod util;
