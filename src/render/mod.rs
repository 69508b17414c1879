//! Output: unified diffs of the planned changes, the findings report as
//! text, JSON, SARIF or GitHub annotations, and the pages of the codes (`--explain`).

pub mod diff;
pub mod explain;
pub mod github;
pub mod report;
pub mod sarif;
pub mod text;
