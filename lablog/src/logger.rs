//! The `log` logger: filters by [`Filter`], prefixes the elapsed time and
//! the tag, and hands the line to `simplelog`, which writes it to stderr.

use crate::filter::{Filter, FilterError};
use crate::topic::{level_tag, Topic};
use log::{Log, Metadata, Record};
use simplelog::{ConfigBuilder, LevelFilter, WriteLogger};
use std::io::Stderr;
use std::sync::OnceLock;
use std::time::Instant;

struct KitLogger {
    start: Instant,
    filter: Filter,
    /// Writes exactly the line it is given: every part of simplelog's own
    /// prefix is off.
    out: WriteLogger<Stderr>,
}

impl KitLogger {
    fn new(filter: Filter) -> KitLogger {
        let config = ConfigBuilder::new()
            .set_max_level(LevelFilter::Off)
            .set_time_level(LevelFilter::Off)
            .set_thread_level(LevelFilter::Off)
            .set_target_level(LevelFilter::Off)
            .set_location_level(LevelFilter::Off)
            .build();
        KitLogger {
            start: Instant::now(),
            filter,
            out: *WriteLogger::new(LevelFilter::Trace, config, std::io::stderr()),
        }
    }
}

impl Log for KitLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.filter.enabled(metadata.target(), metadata.level())
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let ms = self.start.elapsed().as_millis();
        let (target, args) = (record.target(), record.args());
        let line = match Topic::from_tag_exact(target) {
            Some(t) => format_args!("{ms:06} {} {args}", t.tag()),
            None => format_args!("{ms:06} {} {target}: {args}", level_tag(record.level())),
        };
        self.out.log(&Record::builder().args(line).level(record.level()).target(target).build());
    }

    fn flush(&self) {
        self.out.flush();
    }
}

/// Installs the kit's logger as configured by `RAFT_LOG` (see the crate
/// docs). Idempotent: later calls return the first call's result. With
/// `RAFT_LOG` unset, empty or `0`, nothing is installed and logging costs
/// one relaxed atomic load per call site.
///
/// # Errors
/// A `RAFT_LOG` that names an unknown topic or level; the message lists the
/// known ones. Nothing is logged then.
pub fn init() -> Result<(), FilterError> {
    static INIT: OnceLock<Result<(), FilterError>> = OnceLock::new();
    INIT.get_or_init(|| {
        let spec = std::env::var("RAFT_LOG").unwrap_or_default();
        let filter = Filter::parse(&spec)?;
        let max = filter.max_level();
        if max == LevelFilter::Off {
            return Ok(());
        }
        // Another logger may already be installed (a program's own): then
        // the kit's lines go to it, unfiltered by RAFT_LOG.
        if log::set_boxed_logger(Box::new(KitLogger::new(filter))).is_ok() {
            log::set_max_level(max);
        }
        Ok(())
    })
    .clone()
}

/// Like [`init`], but a bad `RAFT_LOG` panics with its message: for
/// programs and tests, where silently logging nothing would mislead.
pub fn init_or_panic() {
    if let Err(e) = init() {
        panic!("{e}");
    }
}
