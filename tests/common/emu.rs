//! The Graph emulator on its own thread, for tests that need Graph over
//! real HTTP on loopback.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use roster::emulator::{Emulator, Options};
use roster::live::LiveState;
use roster::provider::graph::{Connection, Credential, GraphProvider, Secret, Settings, Wanted};

/// The client secret every test emulator accepts (client id `app`).
pub const SECRET: &str = "contract-secret";

/// Into `dir`: the seed `tenant.json` and `config/tenant.kdl` holding
/// `config`; then an emulator serving a fresh copy of the seed, its options
/// set by `tweak`.
pub fn serve(
    dir: &std::path::Path,
    tenant: &serde_json::Value,
    config: &str,
    tweak: impl FnOnce(&mut Options),
) -> Emu {
    let seed = dir.join("tenant.json");
    std::fs::write(&seed, tenant.to_string()).unwrap();
    std::fs::create_dir(dir.join("config")).unwrap();
    std::fs::write(dir.join("config/tenant.kdl"), config).unwrap();
    Emu::start(&seed, tweak)
}

/// `roster plan --detailed-exitcode` of `dir/config` through `emu`.
pub fn plan(dir: &std::path::Path, emu: &Emu) -> std::process::Output {
    super::roster()
        .env("ROSTER_TEST_SECRET", SECRET)
        .arg("-C")
        .arg(dir.join("config"))
        .args([
            "--graph-endpoint",
            &emu.url(),
            "plan",
            "--detailed-exitcode",
        ])
        .output()
        .unwrap()
}

/// An emulator running on its own thread, stopped on drop.
pub struct Emu {
    pub addr: SocketAddr,
    pub emu: Arc<Emulator>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Emu {
    pub fn start(tenant: &std::path::Path, tweak: impl FnOnce(&mut Options)) -> Emu {
        let mut o = Options::new(tenant.to_path_buf());
        o.listen = "127.0.0.1:0".parse().unwrap();
        o.client_id = Some("app".into());
        o.client_secret = Some(SECRET.into());
        tweak(&mut o);
        let emu = Emulator::new(o).expect("emulator starts");
        let (tx_addr, rx_addr) = std::sync::mpsc::channel();
        let (stop, rx_stop) = tokio::sync::oneshot::channel::<()>();
        let served = emu.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                served
                    .serve(
                        async move {
                            let _ = rx_stop.await;
                        },
                        move |a| tx_addr.send(a).unwrap(),
                    )
                    .await
                    .unwrap();
            });
        });
        let addr = rx_addr
            .recv_timeout(Duration::from_secs(10))
            .expect("emulator listening");
        Emu {
            addr,
            emu,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn provider(&self, secret: &str, wanted: Wanted) -> GraphProvider {
        self.provider_via(&self.url(), secret, wanted)
    }

    /// [`Emu::provider`] reaching the emulator through `endpoint` (a proxy
    /// in front of it).
    pub fn provider_via(&self, endpoint: &str, secret: &str, wanted: Wanted) -> GraphProvider {
        let conn = Connection {
            tenant_id: "contoso".into(),
            client_id: "app".into(),
            credential: Credential::Secret(Secret::new(secret)),
            endpoint: endpoint.into(),
            authority: endpoint.into(),
            settings: Settings {
                concurrency: 8,
                max_attempts: 10,
                throttle_budget: Duration::from_secs(60),
                timeout: Duration::from_secs(20),
                backoff_base: Duration::from_millis(5),
                backoff_max: Duration::from_millis(100),
                poll_initial: Duration::from_millis(5),
                poll_max: Duration::from_millis(50),
                poll_timeout: Duration::from_secs(30),
            },
        };
        GraphProvider::new(conn, wanted).expect("provider")
    }

    /// Count of requests for a route (all statuses, or one).
    pub fn count(&self, route: &str, status: Option<u16>) -> u64 {
        let stats = self.emu.stats_json();
        stats["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["route"] == route && status.is_none_or(|s| r["status"] == s))
            .map(|r| r["count"].as_u64().unwrap())
            .sum()
    }

    pub fn count_status(&self, status: u16) -> u64 {
        let stats = self.emu.stats_json();
        stats["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] == status)
            .map(|r| r["count"].as_u64().unwrap())
            .sum()
    }

    pub fn live(&self) -> LiveState {
        let text = self.emu.snapshot_text();
        let snap = roster::snapshot::parse("emulator", &text).unwrap();
        roster::snapshot::to_live("emulator", &snap).unwrap()
    }
}

/// The numbers `live` has held by the user `id`, sorted.
pub fn numbers_held(live: &LiveState, id: &str) -> Vec<String> {
    let mut numbers: Vec<String> = live
        .numbers
        .values()
        .filter(|n| n.is_held() && n.target.as_deref() == Some(id))
        .map(|n| n.number.to_string())
        .collect();
    numbers.sort();
    numbers
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
