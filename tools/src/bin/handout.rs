//! `handout DEST`: writes the student kit to DEST: this kit with the
//! student skeletons of `raft` and `kvraft` in place of the solutions, the
//! student README and Makefile, and without the kit's checks of its own
//! solution. Refuses a DEST that is not empty, and a handout that would
//! hold a line of the solutions.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Write the student handout: the kit with skeletons in place of the solutions")]
struct Args {
    /// Where to write it: a new or empty folder.
    dest: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let kit = tools::scratch::kit_root();
    match tools::handout::write(&kit, &args.dest) {
        Ok(h) => {
            let checked = tools::handout::distinctive_solution_lines(&kit).len();
            println!(
                "handout: wrote {} files to {}: skeleton raft and kvraft, the student README and Makefile; \
                 none of the solutions' {checked} distinctive lines is in it",
                h.files,
                h.root.display()
            );
            println!("next: cd {} && make test-3A   (its 3 tests fail until 3A is written)", h.root.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("handout: {e}");
            ExitCode::from(2)
        }
    }
}
