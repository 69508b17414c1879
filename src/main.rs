//! The `dims-fix` command: flags in, exit code out; the work is in the library.

use clap::Parser;

fn main() {
    let cli = dims_fix::cli::Cli::parse();
    let code = match dims_fix::run(&cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("dims-fix: {err}");
            err.exit_code()
        }
    };
    std::process::exit(code);
}
