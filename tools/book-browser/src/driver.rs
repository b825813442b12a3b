//! Chromium, driven through chromedriver, with nothing left behind.
//!
//! chromedriver runs in a process group of its own and starts Chromium inside
//! it, so one `killpg` on every way out (normal end, error, panic, Ctrl-C)
//! ends both: no orphaned browsers. Chromium starts headless with a fresh
//! profile and its background networking off, so the test neither reads a
//! person's browser profile nor phones home; everything it loads comes from
//! the book's loopback server.

use fantoccini::wd::{Capabilities, TimeoutConfiguration, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};
use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What to type when the browser isn't there.
pub const INSTALL: &str = "apt-get install chromium chromium-driver";

/// Finds `name` on PATH (or the file an environment variable names).
fn find(env: &str, names: &[&str]) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(env) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{env}={} is not a file", path.display()))
        };
    }
    let dirs = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&dirs) {
        for name in names {
            let path = dir.join(name);
            if path.is_file() {
                return Ok(path);
            }
        }
    }
    Err(format!("no {} on PATH", names.join(" or ")))
}

/// The browser and its driver, or one line saying how to install them.
pub fn locate() -> Result<(PathBuf, PathBuf), String> {
    let browser = find("BOOK_BROWSER_CHROMIUM", &["chromium", "chromium-browser"]);
    let driver = find("BOOK_BROWSER_CHROMEDRIVER", &["chromedriver"]);
    match (browser, driver) {
        (Ok(b), Ok(d)) => Ok((b, d)),
        (b, d) => {
            let why: Vec<String> = [b.err(), d.err()].into_iter().flatten().collect();
            Err(format!(
                "the browser test needs Chromium and chromedriver ({}). Install them with: {INSTALL}",
                why.join("; ")
            ))
        }
    }
}

/// A running chromedriver (and, once a session starts, its Chromium).
/// Dropping it ends the whole process group.
pub struct Driver {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits (at most
    /// `within`) until it accepts connections.
    pub fn start(chromedriver: &Path, log: PathBuf, within: Duration) -> Result<Driver, String> {
        // Ask the kernel for a free port, then hand it to chromedriver. The
        // port is free again for a moment in between; nothing else on this
        // machine is racing for it.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free loopback port for chromedriver: {e}"))?
            .port();
        let out = File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own process group, so killpg reaches Chromium too.
            .process_group(0)
            .spawn()
            .map_err(|e| {
                format!(
                    "{} won't start: {e}. Reinstall with: {INSTALL}",
                    chromedriver.display()
                )
            })?;
        let mut driver = Driver { child, port, log };
        let deadline = Instant::now() + within;
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(driver);
            }
            if let Ok(Some(status)) = driver.child.try_wait() {
                return Err(format!(
                    "chromedriver exited ({status}) before it listened: {}",
                    driver.log_tail()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "chromedriver didn't listen within {within:?}: {}",
                    driver.log_tail()
                ));
            }
            // chromedriver says nothing when it is ready, so poll its port.
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last lines chromedriver wrote, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(5)..].join(" | ")
    }

    /// Opens a browser session: headless Chromium, fresh profile in
    /// `profile`, browser console logs collected, every wait bounded.
    pub async fn session(&self, chromium: &Path, profile: &Path) -> Result<Client, String> {
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--window-size=1280,1000".into(),
            // Every host name but loopback resolves to nothing: a request the
            // book should never make is logged (and reported) but can't leave
            // the machine, even from the deliberately broken copy.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        // Debian's /usr/bin/chromium is a shell wrapper around the real
        // browser; hand chromedriver the browser itself when it is there.
        let real = Path::new("/usr/lib/chromium/chromium");
        let binary = if chromium == Path::new("/usr/bin/chromium") && real.is_file() {
            real
        } else {
            chromium
        };
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": binary, "args": args },
            // The console, and the DevTools network events (every request
            // the page makes, including ones that fail).
            "goog:loggingPrefs": { "browser": "ALL", "performance": "ALL" },
        });
        let Value::Object(caps) = caps else {
            unreachable!("json!({{..}}) is an object")
        };
        let caps: Capabilities = caps;
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = tokio::time::timeout(
            Duration::from_secs(30),
            ClientBuilder::new(connector)
                .capabilities(caps)
                .connect(&format!("http://127.0.0.1:{}", self.port)),
        )
        .await
        .map_err(|_| format!("Chromium didn't start within 30 s: {}", self.log_tail()))?
        .map_err(|e| {
            format!(
                "Chromium won't start ({e}); chromedriver said: {}. Reinstall with: {INSTALL}",
                self.log_tail()
            )
        })?;
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(10)),
                Some(Duration::from_secs(20)),
                Some(Duration::ZERO),
            ))
            .await
            .map_err(|e| format!("setting WebDriver timeouts: {e}"))?;
        Ok(client)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = Pid::from_raw(self.child.id() as i32);
        // Politely first, so Chromium can delete its profile's lock files.
        let _ = killpg(group, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Whatever is left of the group (a stuck renderer) goes now.
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.child.wait();
        end_strays(Duration::from_secs(3));
    }
}

/// Makes this process the reaper of its orphaned descendants: a helper that
/// Chromium double-forks out of the process group (its crash handler) comes
/// back to us when its parent dies, so [`end_strays`] can end and reap it.
pub fn adopt_orphans() {
    // Without it the sweep below only sees direct children; not fatal.
    let _ = nix::sys::prctl::set_child_subreaper(true);
}

/// This process's children, from /proc (their parent pid is ours).
pub fn children() -> Vec<Pid> {
    let me = std::process::id().to_string();
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(pid) = name.parse::<i32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // The fields after the `(command)`, which may itself hold spaces.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        // fields[0] is the state, fields[1] the parent pid.
        if fields.get(1) == Some(&me.as_str()) && fields.first() != Some(&"Z") {
            out.push(Pid::from_raw(pid));
        }
    }
    out
}

/// Ends and reaps every child process left (adopted orphans included),
/// waiting at most `within` for them to go quietly.
pub fn end_strays(within: Duration) {
    use nix::sys::wait::{waitpid, WaitPidFlag};
    let deadline = Instant::now() + within;
    loop {
        // Reap whatever has exited.
        while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            if status == nix::sys::wait::WaitStatus::StillAlive {
                break;
            }
        }
        let left = children();
        if left.is_empty() {
            return;
        }
        let signal = if Instant::now() < deadline {
            Signal::SIGTERM
        } else {
            Signal::SIGKILL
        };
        for pid in &left {
            let _ = nix::sys::signal::kill(*pid, signal);
        }
        if signal == Signal::SIGKILL {
            for pid in left {
                let _ = waitpid(pid, None);
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// chromedriver's own command for one of its logs since the last call
/// (`goog:loggingPrefs` turns the collection on): `"browser"` is the
/// console, `"performance"` the DevTools events.
#[derive(Debug)]
pub struct BrowserLog(pub &'static str);

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }
    fn method_and_body(&self, _url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(serde_json::json!({ "type": self.0 }).to_string()),
        )
    }
}
