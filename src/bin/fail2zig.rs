//! `fail2zig`: parse the command line, set up logging, call the library, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use fail2zig::cli::{Cli, Command};
use fail2zig::{daemon, exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => match daemon::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => exit::report("fail2zig", &e, e.exit_code()),
        },
        Command::Check(args) => match daemon::check(&args) {
            Ok(summary) => {
                print!("{summary}");
                ExitCode::SUCCESS
            }
            Err(e) => exit::report("fail2zig", &e, exit::CONFIG),
        },
        Command::Import(args) => match fail2zig::import::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => exit::report("fail2zig import", &e, exit::FAILURE),
        },
        Command::Regex(args) => match fail2zig::filter::regex_tool::run(&args) {
            Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(exit::FAILURE)),
            Err(e) => exit::report("fail2zig regex", &e, exit::FAILURE),
        },
        Command::Demo(args) => {
            daemon::init_logging("info");
            match daemon::demo(&args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => exit::report("fail2zig demo", &e, exit::FAILURE),
            }
        }
    }
}
