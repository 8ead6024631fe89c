//! The standard `process_*` metrics (CPU seconds, resident and virtual memory, open and
//! maximum file descriptors, threads, start time), read from `/proc` by `procfs` at every
//! scrape.
//!
//! `prometheus` has such a collector behind its `process` feature, but that pins `procfs`
//! 0.17 and with it a second major version of `rustix` beside the one the tree already has;
//! this is the same collector on the current `procfs`.

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{Counter, Gauge, IntGauge, Opts};

pub struct ProcessCollector {
    cpu_seconds: Counter,
    open_fds: IntGauge,
    max_fds: IntGauge,
    virtual_memory: IntGauge,
    resident_memory: IntGauge,
    threads: IntGauge,
    start_time: Gauge,
    descs: Vec<Desc>,
}

impl ProcessCollector {
    pub fn new() -> Self {
        let gauge = |name: &str, help: &str| {
            IntGauge::with_opts(Opts::new(name, help)).expect("a valid metric definition")
        };
        let collector = Self {
            cpu_seconds: Counter::with_opts(Opts::new(
                "process_cpu_seconds_total",
                "Total user and system CPU time spent in seconds.",
            ))
            .expect("a valid metric definition"),
            open_fds: gauge("process_open_fds", "Number of open file descriptors."),
            max_fds: gauge(
                "process_max_fds",
                "Maximum number of open file descriptors.",
            ),
            virtual_memory: gauge(
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
            ),
            resident_memory: gauge(
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
            ),
            threads: gauge("process_threads", "Number of OS threads in the process."),
            start_time: Gauge::with_opts(Opts::new(
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
            ))
            .expect("a valid metric definition"),
            descs: Vec::new(),
        };
        let descs = collector
            .parts()
            .iter()
            .flat_map(|part| part.desc().into_iter().cloned())
            .collect();
        Self { descs, ..collector }
    }

    fn parts(&self) -> [&dyn Collector; 7] {
        [
            &self.cpu_seconds,
            &self.open_fds,
            &self.max_fds,
            &self.virtual_memory,
            &self.resident_memory,
            &self.threads,
            &self.start_time,
        ]
    }

    /// Reads `/proc/self`; a figure that cannot be read keeps its last value.
    fn refresh(&self) {
        let Ok(process) = procfs::process::Process::myself() else {
            return;
        };
        if let Ok(count) = process.fd_count() {
            self.open_fds.set(saturating(count as u64));
        }
        if let Ok(limits) = process.limits() {
            if let procfs::process::LimitValue::Value(max) = limits.max_open_files.soft_limit {
                self.max_fds.set(saturating(max));
            }
        }
        if let Ok(stat) = process.stat() {
            let ticks = procfs::ticks_per_second().max(1) as f64;
            let cpu = (stat.utime + stat.stime) as f64 / ticks;
            // Two scrapes at once may both add: never let the counter go back.
            let behind = cpu - self.cpu_seconds.get();
            if behind > 0.0 {
                self.cpu_seconds.inc_by(behind);
            }
            self.virtual_memory.set(saturating(stat.vsize));
            self.resident_memory
                .set(saturating(stat.rss.saturating_mul(procfs::page_size())));
            self.threads.set(stat.num_threads);
            if let Ok(boot) = procfs::boot_time_secs() {
                self.start_time
                    .set(boot as f64 + stat.starttime as f64 / ticks);
            }
        }
    }
}

fn saturating(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Collector for ProcessCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        self.refresh();
        self.parts()
            .iter()
            .flat_map(|part| part.collect())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus::{Encoder, Registry, TextEncoder};

    #[test]
    fn reports_this_process() {
        let registry = Registry::new();
        registry
            .register(Box::new(ProcessCollector::new()))
            .unwrap();
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&registry.gather(), &mut text)
            .unwrap();
        let text = String::from_utf8(text).unwrap();
        let value = |name: &str| -> f64 {
            let line = text.lines().find(|l| l.starts_with(&format!("{name} ")));
            line.unwrap_or_else(|| panic!("{name} in {text}"))[name.len() + 1..]
                .parse()
                .unwrap()
        };
        assert!(value("process_resident_memory_bytes") > 1024.0 * 1024.0);
        assert!(value("process_virtual_memory_bytes") > value("process_resident_memory_bytes"));
        assert!(value("process_open_fds") >= 3.0);
        assert!(value("process_max_fds") >= value("process_open_fds"));
        assert!(value("process_threads") >= 1.0);
        assert!(value("process_start_time_seconds") > 1.7e9);
        assert!(value("process_cpu_seconds_total") >= 0.0);
    }
}
