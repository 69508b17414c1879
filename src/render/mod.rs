//! Output: unified diffs of the planned changes, the findings report as
//! text, JSON or SARIF, and the pages of the codes (`--explain`).

pub mod diff;
pub mod explain;
pub mod report;
pub mod sarif;
pub mod text;
