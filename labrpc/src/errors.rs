//! Programming errors the network sees: kept in a list and handed at once
//! to the hook a test harness installs ([`crate::Network::on_error`]).

use std::sync::{Arc, Mutex};

/// What a harness runs for each programming error, on the thread that saw it.
pub(crate) type ErrorHook = Arc<dyn Fn(&str) + Send + Sync>;

#[derive(Default)]
pub(crate) struct ErrorSink {
    list: Mutex<Vec<String>>,
    hook: Mutex<Option<ErrorHook>>,
}

impl ErrorSink {
    /// Records `msg`, prints it, and runs the hook (outside every lock: a
    /// hook may end the process).
    pub(crate) fn report(&self, msg: String) {
        eprintln!("{msg}");
        self.list.lock().expect("labrpc errors lock poisoned").push(msg.clone());
        let hook = self.hook.lock().expect("labrpc error hook lock poisoned").clone();
        if let Some(hook) = hook {
            hook(&msg);
        }
    }

    pub(crate) fn set_hook(&self, hook: ErrorHook) {
        *self.hook.lock().expect("labrpc error hook lock poisoned") = Some(hook);
    }

    pub(crate) fn list(&self) -> Vec<String> {
        self.list.lock().expect("labrpc errors lock poisoned").clone()
    }
}

/// The message of a panic payload.
pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}
