//! How fast does the answering service echo? Round trips per second with one
//! caller on loopback, beside `socat` doing the same echo in the same run.
//!
//! ```console
//! $ cargo run --release -p ch08-answering-service --features solution --example echo-bench
//! ```
//!
//! (Without `--features solution` it measures your own answer.) One round
//! trip is: the caller writes a 32-byte message and reads the 32 bytes back.
//! Each side runs at most 50 000 round trips or 2 seconds, whichever comes
//! first, so the command always stops by itself.
//!
//! socat can't print the port it listens on, so it is given none: it dials
//! us instead (`socat TCP:127.0.0.1:PORT PIPE`, PIPE being socat's echo) on a
//! phone we switched on first. Who dialled doesn't matter once the call is
//! up: the bytes take the same path.
#![forbid(unsafe_code)]

use ch08_answering_service::caller::{self, Heard};
use ch08_answering_service::service::{self, LIMITS};
use ch08_answering_service::ANSWER;
use dialtone_kit::kernel;
use nix::sys::socket::{accept, SockaddrIn};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const MESSAGE: [u8; 32] = *b"ring ring, is anybody there?\r\n..";
const MAX_TRIPS: u32 = 50_000;
const MAX_TIME: Duration = Duration::from_secs(2);
const PATIENCE: Duration = Duration::from_secs(5);

fn main() {
    let started = Instant::now();
    let loopback = SockaddrIn::new(127, 0, 0, 1, 0);
    println!(
        "echo round trips, one caller, {}-byte messages, 127.0.0.1",
        MESSAGE.len()
    );

    // The answering service (your serve(), or the reference with --features solution).
    let ours = (|| {
        let phone = service::open(&loopback, LIMITS).map_err(|e| e.to_string())?;
        let number = kernel::own_number(&phone).map_err(|e| e.to_string())?;
        let running = thread::spawn(move || {
            service::run(
                &ANSWER,
                phone,
                (1, 1),
                LIMITS,
                Duration::from_secs(30),
                |_| {},
            )
        });
        // A refused call means the service already stopped: say why.
        let Ok(line) = caller::dial(&number, PATIENCE) else {
            return Err(finish_err(running));
        };
        match caller::hear_line(&line) {
            Heard::All(_) => {}
            _ => return Err(finish_err(running)),
        }
        let result = round_trips(&line);
        drop(line);
        let _ = running.join();
        result
    })();
    report("answering service", &ours);

    // socat, echoing with PIPE, dialling a phone we switched on first.
    let theirs = socat_round_trips(&loopback);
    report("socat PIPE", &theirs);

    if let (Ok(a), Ok(b)) = (&ours, &theirs) {
        println!(
            "ratio: the service does {:.2}x socat's round trips per second",
            rate(a) / rate(b)
        );
    }
    println!("wall time: {:.2} s", started.elapsed().as_secs_f64());
}

/// Writes a message and reads it back until the count or the time runs out.
fn round_trips(line: &OwnedFd) -> Result<(u32, Duration), String> {
    let start = Instant::now();
    let mut trips = 0;
    while trips < MAX_TRIPS && start.elapsed() < MAX_TIME {
        caller::say(line, &MESSAGE).map_err(|e| format!("write: {e}"))?;
        match caller::hear_exactly(line, MESSAGE.len()) {
            Heard::All(b) if b == MESSAGE => trips += 1,
            other => return Err(format!("round trip {trips}: heard {other:?}")),
        }
    }
    let elapsed = start.elapsed();
    caller::done_talking(line).map_err(|e| format!("shutdown: {e}"))?;
    let _ = caller::hear_the_end(line, 1024);
    Ok((trips, elapsed))
}

fn socat_round_trips(loopback: &SockaddrIn) -> Result<(u32, Duration), String> {
    let phone = service::open(loopback, LIMITS).map_err(|e| e.to_string())?;
    let number = kernel::own_number(&phone).map_err(|e| e.to_string())?;
    let child = Command::new("socat")
        .args([format!("TCP:127.0.0.1:{}", number.port()), "PIPE".into()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("could not start socat ({e}); install the Debian package socat"))?;
    let mut child = Reaped(child);
    // socat dials a phone that is already on: accept() waits for it, and the
    // phone's own patience doesn't apply to accept, so bound it by hand.
    let line = accept_within(&phone, PATIENCE, &mut child.0)?;
    caller::be_patient(&line, PATIENCE).map_err(|e| e.to_string())?;
    let result = round_trips(&line);
    drop(line);
    result
}

/// Accepts one call, giving up if `child` exits or `limit` passes.
fn accept_within(phone: &OwnedFd, limit: Duration, child: &mut Child) -> Result<OwnedFd, String> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let mut ready = [PollFd::new(phone.as_fd(), PollFlags::POLLIN)];
        if poll(&mut ready, PollTimeout::from(100u16)).map_err(|e| e.to_string())? > 0 {
            return accept(phone).map_err(|e| format!("accept: {e}"));
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("socat exited ({status}) before calling"));
        }
    }
    Err(format!("socat didn't call within {limit:?}"))
}

/// socat is killed and reaped however the benchmark ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn finish_err(running: thread::JoinHandle<Result<(), dialtone_kit::scene::SceneError>>) -> String {
    match running.join() {
        Ok(Err(e)) => e.to_string(),
        _ => "the service didn't greet the caller".into(),
    }
}

fn rate((trips, elapsed): &(u32, Duration)) -> f64 {
    f64::from(*trips) / elapsed.as_secs_f64()
}

fn report(who: &str, result: &Result<(u32, Duration), String>) {
    match result {
        Ok(r) => println!(
            "{who:<18} {:>6} round trips in {:.3} s = {:>8.0} per second ({:.1} us each)",
            r.0,
            r.1.as_secs_f64(),
            rate(r),
            1e6 / rate(r)
        ),
        Err(e) => println!("{who:<18} not measured: {e}"),
    }
}
