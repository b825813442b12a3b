//! A test line for scenes and self-checks: two connected phones in one
//! process, and a few questions about what is waiting on them.
//!
//! Chapters 6 onwards need a real TCP conversation to show what `read` and
//! `write` do, and a way to script the other party precisely: "write these
//! bytes, wait until the learner has taken them, then write the next ones".
//! That waiting is what makes a transcript or a check deterministic: bytes
//! written while earlier ones are still unread would merge into one `read`.
//!
//! Both ends live on 127.0.0.1 with a kernel-chosen port; the listener is
//! bound before anyone dials, so no sleep is needed to wait for it. (An
//! `AF_UNIX` socketpair would be simpler, but would teach the wrong family.)

use nix::errno::Errno;
use nix::sys::socket::{
    accept, connect, getsockname, listen, recv, setsockopt, sockopt, Backlog, MsgFlags, SockaddrIn,
};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::thread;
use std::time::{Duration, Instant};

/// Two ends of one call on loopback: `(caller, callee)`.
pub struct Pair {
    /// The side that dialled (`connect`).
    pub caller: OwnedFd,
    /// The side that picked up (`accept`).
    pub callee: OwnedFd,
}

/// Socket options to set before the call is made: some (the receive buffer,
/// which sets the window the callee advertises) only take full effect if set
/// before the connection exists.
#[derive(Debug, Default, Clone, Copy)]
pub struct Options {
    /// `SO_SNDBUF` for the caller (the kernel doubles it, with a floor).
    pub caller_sndbuf: Option<usize>,
    /// `SO_RCVBUF` for the callee, set on the listener and inherited by `accept`.
    pub callee_rcvbuf: Option<usize>,
}

/// A connected pair on 127.0.0.1 with default options.
pub fn call_pair() -> nix::Result<Pair> {
    call_pair_with(Options::default())
}

/// A connected pair on 127.0.0.1: listen on port 0, dial it, pick up. The
/// listener is dropped once the call is answered (its job is done).
pub fn call_pair_with(options: Options) -> nix::Result<Pair> {
    let stream = || crate::party::new_phone();
    let listener = stream()?;
    if let Some(size) = options.callee_rcvbuf {
        setsockopt(&listener, sockopt::RcvBuf, &size)?;
    }
    nix::sys::socket::bind(listener.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
    // Backlog 1: exactly one call is expected (a server would use ~128).
    listen(&listener, Backlog::new(1)?)?;
    let number: SockaddrIn = getsockname(listener.as_raw_fd())?;
    let caller = stream()?;
    if let Some(size) = options.caller_sndbuf {
        setsockopt(&caller, sockopt::SndBuf, &size)?;
    }
    // On loopback the handshake completes inside connect(), with the call
    // waiting in the listener's queue; accept() then picks it up at once.
    connect(caller.as_raw_fd(), &number)?;
    let callee = accept(&listener)?;
    Ok(Pair { caller, callee })
}

/// How many unread bytes are waiting on `fd` right now, without taking them
/// (`recv(MSG_PEEK | MSG_DONTWAIT)`). 0 when nothing is waiting or the other
/// side has hung up. Counts up to 1 MiB, more than any check queues.
pub fn queued<F: AsFd>(fd: &F) -> nix::Result<usize> {
    let mut buf = vec![0u8; 1 << 20];
    match recv(
        fd.as_fd().as_raw_fd(),
        &mut buf,
        MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT,
    ) {
        Ok(n) => Ok(n),
        Err(Errno::EAGAIN) => Ok(0),
        Err(e) => Err(e),
    }
}

/// Waits (up to `limit`) until at least `n` bytes are waiting unread on `fd`.
/// Returns whether they are. Used before a scripted read, so that what one
/// `read` returns doesn't depend on how fast the other thread ran.
pub fn wait_until_queued<F: AsFd>(fd: &F, n: usize, limit: Duration) -> bool {
    wait_for(limit, || queued(fd).map_or(true, |q| q >= n))
}

/// Waits (up to `limit`) until nothing is waiting unread on `fd`: the reader
/// has taken everything written so far. A scripted peer calls this between
/// two writes so they can't arrive in the same `read`. Returns whether it
/// drained (an error on the line counts as drained: nobody will read it).
pub fn wait_until_drained<F: AsFd>(fd: &F, limit: Duration) -> bool {
    wait_for(limit, || queued(fd).map_or(true, |q| q == 0))
}

/// Polls `done` every 200 µs until it holds or `limit` passes. Nothing here
/// waits for a peer to start: these wait for bytes already sent to be read.
fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_micros(200));
    }
}

/// Says all of `bytes` on `fd`: the checks' and callers' own write loop (a
/// check can't lean on the learner's `send_all` to test it).
pub fn say_all<F: AsFd>(fd: &F, mut bytes: &[u8]) -> nix::Result<()> {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Slams the phone down: `SO_LINGER` on with a 0 s linger, then `close`. The
/// kernel throws away anything unsent and sends a reset (RST), so the other
/// side's next `read` or `write` fails with `ECONNRESET` instead of reading
/// a polite end-of-file.
pub fn slam_down(fd: OwnedFd) -> nix::Result<()> {
    let linger = nix::libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    setsockopt(&fd, sockopt::Linger, &linger)?;
    drop(fd);
    Ok(())
}

/// Waits (up to `limit`) until the line is dead: the other side's kernel
/// has reset the call, or both directions are shut. `poll()` with no events
/// asked for still reports `POLLHUP` and `POLLERR`, so it sleeps until then.
/// Returns whether the line died in time.
pub fn wait_until_dead<F: AsFd>(fd: &F, limit: Duration) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let millis = u16::try_from(limit.as_millis()).unwrap_or(u16::MAX);
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::empty())];
    matches!(poll(&mut fds, PollTimeout::from(millis)), Ok(1))
}

/// How many descriptors in this process refer to the same open socket as
/// `fd` (including `fd` itself): the handsets on this one line. Read from
/// `/proc/self/fd`, so it counts only what this process holds, whatever
/// other threads are doing with other sockets.
pub fn handsets_on<F: AsFd>(fd: &F) -> usize {
    match crate::kernel::fd_target(fd.as_fd().as_raw_fd()) {
        Some(target) => handsets_for(&target),
        None => 0,
    }
}

/// How many descriptors in this process point at `target` (as
/// `/proc/self/fd` spells it, e.g. `socket:[81723]`), and in the learner's
/// process when a judge runs the learner's code there.
pub fn handsets_for(target: &str) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|p| p.display().to_string() == target))
        .count()
        + crate::judge::handsets_in_host(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::unistd::{read, write};

    /// Two writes drained one at a time stay two reads; queued() sees them.
    #[test]
    fn scripted_writes_stay_apart() {
        let pair = call_pair().expect("loopback pair");
        write(&pair.callee, b"ab").expect("write");
        assert!(wait_until_queued(&pair.caller, 2, Duration::from_secs(5)));
        assert_eq!(queued(&pair.caller), Ok(2));
        let mut buf = [0u8; 16];
        assert_eq!(read(&pair.caller, &mut buf), Ok(2));
        assert!(wait_until_drained(&pair.caller, Duration::from_secs(5)));
    }

    /// A slammed-down phone makes the other side's read fail with ECONNRESET.
    #[test]
    fn slam_down_resets() {
        let pair = call_pair().expect("loopback pair");
        slam_down(pair.callee).expect("linger");
        let mut buf = [0u8; 4];
        assert_eq!(read(&pair.caller, &mut buf), Err(Errno::ECONNRESET));
    }

    /// Talking to a phone that was hung up draws a reset; then the line is dead.
    #[test]
    fn a_dead_line_is_noticed() {
        let pair = call_pair().expect("loopback pair");
        assert!(!wait_until_dead(&pair.caller, Duration::from_millis(10)));
        drop(pair.callee);
        nix::sys::socket::send(pair.caller.as_raw_fd(), b"?", MsgFlags::MSG_NOSIGNAL)
            .expect("the first words are accepted");
        assert!(wait_until_dead(&pair.caller, Duration::from_secs(5)));
    }

    /// A duplicated descriptor is a second handset on the same line.
    #[test]
    fn handsets_count_duplicates() {
        let pair = call_pair().expect("loopback pair");
        assert_eq!(handsets_on(&pair.caller), 1);
        let extra = pair.caller.try_clone().expect("dup");
        assert_eq!(handsets_on(&pair.caller), 2);
        drop(extra);
        assert_eq!(handsets_on(&pair.caller), 1);
    }
}
