//! Tests only (`tests/`): the legacy server and SDK together show what the
//! migration removes, notifications waking workflow workers that sleep in
//! their poll backoff.
