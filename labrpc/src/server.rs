//! Servers and services: where `"Service.Method"` names meet typed handlers.

use crate::RpcError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

type Handler = Box<dyn Fn(&[u8]) -> Result<Vec<u8>, RpcError> + Send + Sync>;

/// A named set of methods, e.g. the service `"Raft"` with methods
/// `"RequestVote"`, `"AppendEntries"` and `"InstallSnapshot"`.
///
/// Each method is a typed closure: its argument is decoded from, and its
/// reply encoded to, labgob bytes, so caller and handler never share memory.
pub struct Service {
    name: String,
    methods: BTreeMap<String, Handler>,
}

impl Service {
    /// A service with no methods yet.
    pub fn new(name: &str) -> Service {
        assert!(
            !name.is_empty() && !name.contains('.'),
            "labrpc: a service name must be non-empty and contain no '.', got {name:?}"
        );
        Service { name: name.to_string(), methods: BTreeMap::new() }
    }

    /// Adds method `name`, handled by `handler`.
    ///
    /// # Panics
    /// If the service already has a method of that name.
    pub fn method<A, R, F>(mut self, name: &str, handler: F) -> Service
    where
        A: DeserializeOwned,
        R: Serialize,
        F: Fn(A) -> R + Send + Sync + 'static,
    {
        let full = format!("{}.{name}", self.name);
        let h: Handler = Box::new(move |bytes| {
            let args: A = labgob::decode(bytes).map_err(|e| RpcError::Bad(format!("arguments of {full}: {e}")))?;
            Ok(labgob::encode(&handler(args)))
        });
        let old = self.methods.insert(name.to_string(), h);
        assert!(old.is_none(), "labrpc: service {} already has a method {name}", self.name);
        self
    }

    /// The service's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A server: a set of services reachable under one server name on a
/// [`Network`](crate::Network).
#[derive(Default)]
pub struct Server {
    services: BTreeMap<String, Service>,
    count: AtomicU64,
}

impl Server {
    /// A server with no services.
    pub fn new() -> Server {
        Server::default()
    }

    /// Adds a service.
    ///
    /// # Panics
    /// If a service of that name is already present.
    pub fn add_service(&mut self, service: Service) {
        let name = service.name.clone();
        let old = self.services.insert(name.clone(), service);
        assert!(old.is_none(), "labrpc: server already has a service {name}");
    }

    /// The number of requests that reached this server's dispatcher.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Runs the handler for `svc_meth` on `args`. An unknown service or
    /// method is a programming error: the error names what exists.
    pub(crate) fn dispatch(&self, svc_meth: &str, args: &[u8]) -> Result<Vec<u8>, RpcError> {
        self.count.fetch_add(1, Ordering::Relaxed);
        let services = || self.services.keys().cloned().collect::<Vec<_>>().join(", ");
        let Some((svc, meth)) = svc_meth.split_once('.') else {
            return Err(RpcError::Bad(format!(
                "labrpc: {svc_meth:?} is not of the form \"Service.Method\"; services here: [{}]",
                services()
            )));
        };
        let Some(service) = self.services.get(svc) else {
            return Err(RpcError::Bad(format!(
                "labrpc: unknown service {svc:?} in {svc_meth:?}; services here: [{}]",
                services()
            )));
        };
        let Some(handler) = service.methods.get(meth) else {
            let methods = service.methods.keys().cloned().collect::<Vec<_>>().join(", ");
            return Err(RpcError::Bad(format!(
                "labrpc: unknown method {meth:?} in {svc_meth:?}; service {svc} has methods: [{methods}]"
            )));
        };
        handler(args)
    }
}
