//! Output: the findings report (text, JSON, SARIF) and, later, diffs.

pub mod diff;
pub mod report;
pub mod sarif;
pub mod text;

pub use crate::analyze::snippet;
