//! The timeline of a checked history: one self-contained HTML page (style,
//! data and script inline; nothing is fetched), titled "Porcupine".
//!
//! One row per client; each operation is a box from its call to its return,
//! labelled with the model's description. Time is warped: distinct instants
//! are at least 20 px apart and every box is as wide as its label. Each
//! illegal partition's longest partial linearization is drawn as linked
//! points (grey: valid steps; red: the operations that could have come next
//! and were illegal there); every partition's if none is illegal.
//! "[ jump to first error ]" scrolls to the leftmost red point. Hovering an
//! operation shows its partition's longest linearization through it, fades
//! the other partitions, and shows the state before and after it (or
//! "⟨invalid op⟩") with its call and return times; a click pins that view,
//! another click releases it. At the end of the page's address,
//! `#first-error` jumps to the first error on load and `#op=P.I` pins
//! operation `I` of partition `P`. The `<body>` gets
//! `data-drawn-ops`, `data-valid-lps`, `data-invalid-lps` and
//! `data-partitions` attributes with what the script drew.

mod data;
pub(crate) mod json;

use crate::check::LinearizationInfo;
use crate::model::Model;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const TEMPLATE: &str = include_str!("page.html");
const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// Writes the page for `info` (from a verbose check with `model`) to `out`.
///
/// # Panics
/// If replaying a recorded linearization with `model` hits an illegal step,
/// i.e. `info` came from a different model.
pub fn visualize<M: Model, W: Write>(
    model: &M,
    info: &LinearizationInfo<M::Input, M::Output>,
    mut out: W,
) -> io::Result<()> {
    let data = data::page_data(model, info);
    let mut rest = TEMPLATE;
    for (marker, content) in [("{{style}}", STYLE), ("{{data}}", data.as_str()), ("{{script}}", SCRIPT)] {
        let (before, after) = rest.split_once(marker).expect("the page template holds each marker once, in order");
        out.write_all(before.as_bytes())?;
        out.write_all(content.as_bytes())?;
        rest = after;
    }
    out.write_all(rest.as_bytes())?;
    out.flush()
}

/// Why [`visualize_to_temp_file`] failed. Its `Display` is the Lab 4
/// tester's message, followed by the cause.
#[derive(Debug)]
pub enum VisualizeError {
    /// No new file could be made in the temporary directory.
    CreateTempFile(io::Error),
    /// The file was made but writing the page to it failed.
    Write {
        /// The file (left in place).
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

impl fmt::Display for VisualizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VisualizeError::CreateTempFile(e) => write!(f, "failed to create temp file for visualization: {e}"),
            VisualizeError::Write { path, source } => {
                write!(f, "failed to write history visualization to {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for VisualizeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            VisualizeError::CreateTempFile(e) | VisualizeError::Write { source: e, .. } => Some(e),
        }
    }
}

/// Writes the page to a new file `porcupine-<pid>-<time>-<n>.html` in
/// [`std::env::temp_dir`] and returns its path.
pub fn visualize_to_temp_file<M: Model>(
    model: &M,
    info: &LinearizationInfo<M::Input, M::Output>,
) -> Result<PathBuf, VisualizeError> {
    let (path, file) = create_temp_file().map_err(VisualizeError::CreateTempFile)?;
    match visualize(model, info, BufWriter::new(file)) {
        Ok(()) => Ok(path),
        Err(source) => Err(VisualizeError::Write { path, source }),
    }
}

/// A new, uniquely named `.html` file in the temporary directory.
fn create_temp_file() -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let mut last_error = None;
    for _ in 0..16 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("porcupine-{}-{nanos}-{n}.html", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.expect("the loop ran"))
}
