//! labrpc throughput: round-trip calls per second and CPU microseconds per
//! call on a reliable network with small arguments, sequential and from
//! several client threads; then thread use under 10^5 delayed messages.
//!
//! `cargo bench -p labrpc` (or `make bench-labrpc`). CPU comes from
//! `/proc/self/stat` (user + system, all threads of this process).

use labrpc::{ClientEnd, Network, RpcError, Server, Service};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// CPU seconds (user + system) used by this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name, which is in parentheses.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    ticks / 100.0 // USER_HZ is 100 on Linux
}

fn threads_now() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Threads:").map(|v| v.trim().parse().unwrap())))
        .unwrap_or(0)
}

fn network(clients: usize) -> (Network, Vec<ClientEnd>) {
    let net = Network::with_seed(1);
    let mut server = Server::new();
    server.add_service(Service::new("Bench").method("Echo", |x: u64| x + 1));
    net.add_server("s", server);
    let ends = (0..clients)
        .map(|i| {
            let name = format!("c{i}");
            let e = net.make_end(&name);
            net.connect(&name, "s");
            net.enable(&name, true);
            e
        })
        .collect();
    (net, ends)
}

fn round_trips(clients: usize, secs: f64) {
    let (_net, ends) = network(clients);
    let calls = Arc::new(AtomicU64::new(0));
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    thread::scope(|s| {
        for e in &ends {
            let calls = Arc::clone(&calls);
            s.spawn(move || {
                let mut x = 0u64;
                while t0.elapsed().as_secs_f64() < secs {
                    x = e.call::<_, u64>("Bench.Echo", &x).expect("reliable");
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let n = calls.load(Ordering::Relaxed) as f64;
    println!(
        "reliable round trips, {clients} client thread(s): {:>8.0} calls/s, {:>5.1} us CPU per call ({n} calls in {wall:.1} s)",
        n / wall,
        cpu * 1e6 / n
    );
}

fn delayed_messages() {
    let (net, _) = network(0);
    net.reliable(false);
    net.long_delays(true);
    let ends: Vec<ClientEnd> = (0..10)
        .map(|i| {
            let name = format!("d{i}");
            let e = net.make_end(&name);
            net.connect(&name, "s");
            net.enable(&name, i % 2 == 0); // half the ends disabled: up to 7 s delays
            e
        })
        .collect();
    let n = 100_000u64;
    let done = Arc::new(AtomicU64::new(0));
    let base = threads_now();
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    for i in 0..n {
        let done = Arc::clone(&done);
        ends[(i % 10) as usize].call_with("Bench.Echo", &i, move |_: Result<u64, RpcError>| {
            done.fetch_add(1, Ordering::Relaxed);
        });
    }
    let mut peak = 0;
    while done.load(Ordering::Relaxed) < n {
        peak = peak.max(threads_now());
        thread::sleep(Duration::from_millis(5));
    }
    println!(
        "10^5 messages, unreliable + long delays: {:.1} s wall, {:.2} s CPU, peak threads {peak} (baseline {base}), peak network workers {}",
        t0.elapsed().as_secs_f64(),
        cpu_seconds() - cpu0,
        net.stats().peak_workers
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    round_trips(1, 3.0);
    round_trips(4, 3.0);
    delayed_messages();
}
