//! Output: unified diffs of the planned changes, and the findings report as
//! text, JSON or SARIF.

pub mod diff;
pub mod report;
pub mod sarif;
pub mod text;
