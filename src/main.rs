//! The `dims-fix` command: flags in, exit code out; the work is in the library.

use std::io::Write;

use clap::Parser;

fn main() {
    let cli = dims_fix::cli::Cli::parse();
    let code = match dims_fix::run(&cli) {
        Ok(code) => code,
        Err(err) => {
            // A full or closed stderr must not turn the run's code into a panic.
            let shown = dims_fix::quote::visible(&err.to_string()).into_owned();
            let _ = writeln!(std::io::stderr(), "dims-fix: {shown}");
            err.exit_code()
        }
    };
    std::process::exit(code);
}
