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

use crate::party::Kind;
use nix::errno::Errno;
use nix::sys::socket::{
    accept, connect, getsockname, listen, recv, setsockopt, sockopt, AddressFamily, Backlog,
    MsgFlags, SockType, SockaddrIn, SockaddrStorage,
};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
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
///
/// Stream sockets only (`EPROTOTYPE` otherwise): on a datagram socket a
/// peek sees only the next datagram, so its size is not what is queued, and
/// an empty datagram would read as "nothing waiting". Datagrams are counted
/// by [`next_datagram`] and a [`Courier`].
pub fn queued<F: AsFd>(fd: &F) -> nix::Result<usize> {
    if crate::kernel::line_kind(fd)? != SockType::Stream {
        return Err(Errno::EPROTOTYPE);
    }
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
    debug_assert_ne!(queued(fd), Err(Errno::EPROTOTYPE), "{STREAMS_ONLY}");
    wait_for(limit, || queued(fd).map_or(true, |q| q >= n))
}

/// Waits (up to `limit`) until nothing is waiting unread on `fd`: the reader
/// has taken everything written so far. A scripted peer calls this between
/// two writes so they can't arrive in the same `read`. Returns whether it
/// drained (an error on the line counts as drained: nobody will read it).
pub fn wait_until_drained<F: AsFd>(fd: &F, limit: Duration) -> bool {
    debug_assert_ne!(queued(fd), Err(Errno::EPROTOTYPE), "{STREAMS_ONLY}");
    wait_for(limit, || queued(fd).map_or(true, |q| q == 0))
}

const STREAMS_ONLY: &str =
    "wait_until_queued/drained count stream bytes: on a datagram socket use a wire::Courier";

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
/// `/proc/self/fd` spells it, e.g. `socket:[81723]`).
pub fn handsets_for(target: &str) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|p| p.display().to_string() == target))
        .count()
}

/// Two datagram phones on this machine, each with a kernel-chosen number
/// ([`crate::party::numbered`]): postcards between them need no call, so
/// neither is connected; each side names the other's number per postcard.
pub struct Postal {
    /// The learner's side (or the side a scene calls "you").
    pub you: OwnedFd,
    pub your_number: SockaddrStorage,
    /// The scripted side.
    pub friend: OwnedFd,
    pub friends_number: SockaddrStorage,
}

/// Two datagram phones in `family` (IPv4, IPv6 or Unix) on this machine.
pub fn postal_pair(family: AddressFamily) -> nix::Result<Postal> {
    let kind = Kind::new(family, SockType::Datagram);
    let (you, your_number) = crate::party::numbered(kind)?;
    let (friend, friends_number) = crate::party::numbered(kind)?;
    Ok(Postal {
        you,
        your_number,
        friend,
        friends_number,
    })
}

/// The size of the next datagram waiting on `fd`, without taking it
/// (`recv(MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC)`: with `MSG_TRUNC` the kernel
/// says the datagram's whole length, however small the buffer), or `None`
/// if none is waiting. `Some(0)` is an empty datagram, which is still mail.
pub fn next_datagram<F: AsFd>(fd: &F) -> nix::Result<Option<usize>> {
    let mut byte = [0u8; 1];
    let flags = MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_TRUNC;
    match recv(fd.as_fd().as_raw_fd(), &mut byte, flags) {
        Ok(n) => Ok(Some(n)),
        Err(Errno::EAGAIN) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The scripted side of a postal line, pacing by datagrams, not bytes.
///
/// The kernel doesn't say how many datagrams wait on a socket: `FIONREAD`
/// answers in bytes (on UDP, of the next datagram only) and needs an unsafe
/// `ioctl`; a peek always sees the first datagram. So a courier counts with
/// a model of the queue: it knows how many it posted, and when the
/// learner's queue is seen empty (no [`next_datagram`]) every one of them
/// has been taken. [`Courier::post_paced`] posts the next only then, so at
/// most one datagram waits at a time and the learner's k-th receive gets
/// exactly the k-th datagram, whatever the sizes.
pub struct Courier<'a> {
    /// The courier's own datagram socket.
    from: BorrowedFd<'a>,
    /// The learner's socket, whose queue the courier watches.
    reader: BorrowedFd<'a>,
    /// Where the postcards go: the learner's number.
    to: SockaddrStorage,
    posted: usize,
}

impl<'a> Courier<'a> {
    /// A courier posting from `from` to the socket `reader` (at its own number).
    pub fn new(from: BorrowedFd<'a>, reader: BorrowedFd<'a>) -> nix::Result<Self> {
        let to = crate::kernel::number_of(&reader)?;
        Ok(Courier {
            from,
            reader,
            to,
            posted: 0,
        })
    }

    /// How many datagrams this courier has posted.
    pub fn posted(&self) -> usize {
        self.posted
    }

    /// Posts one datagram now, whatever is still waiting.
    pub fn post(&mut self, bytes: &[u8]) -> nix::Result<()> {
        crate::party::post(&self.from, bytes, &self.to)?;
        self.posted += 1;
        Ok(())
    }

    /// Waits (up to `limit`) until the reader has taken every datagram
    /// posted so far (its queue is empty). Returns whether it has.
    pub fn wait_until_taken(&self, limit: Duration) -> bool {
        wait_for(limit, || {
            next_datagram(&self.reader).map_or(true, |next| next.is_none())
        })
    }

    /// Waits (up to `limit`) until the reader has taken everything posted,
    /// then posts `bytes`. `Ok(false)` if the reader never took the last
    /// one (nothing is posted then): the learner isn't receiving.
    pub fn post_paced(&mut self, bytes: &[u8], limit: Duration) -> nix::Result<bool> {
        if !self.wait_until_taken(limit) {
            return Ok(false);
        }
        self.post(bytes)?;
        Ok(true)
    }
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

    /// A courier paces by datagrams: the next postcard waits until the
    /// learner has taken the last, an empty one counts, and a learner who
    /// never receives is noticed instead of waited on.
    #[test]
    fn a_courier_counts_datagrams_not_bytes() {
        for family in [
            AddressFamily::Inet,
            AddressFamily::Inet6,
            AddressFamily::Unix,
        ] {
            let p = postal_pair(family).expect("two postboxes");
            let mut courier = Courier::new(p.friend.as_fd(), p.you.as_fd()).expect("numbered");
            courier.post(b"").expect("an empty postcard");
            assert_eq!(
                next_datagram(&p.you),
                Ok(Some(0)),
                "empty, but mail: {family:?}"
            );
            assert_eq!(
                courier.post_paced(b"two", Duration::from_millis(20)),
                Ok(false)
            );
            assert_eq!(courier.posted(), 1, "nothing posted while the first waits");
            let mut buf = [0u8; 8];
            assert_eq!(
                nix::sys::socket::recv(p.you.as_raw_fd(), &mut buf, MsgFlags::empty()),
                Ok(0)
            );
            assert_eq!(courier.post_paced(b"two", Duration::from_secs(2)), Ok(true));
            assert_eq!(next_datagram(&p.you), Ok(Some(3)));
            assert_eq!(read(&p.you, &mut buf), Ok(3));
            assert!(courier.wait_until_taken(Duration::from_secs(2)));
            assert_eq!((courier.posted(), next_datagram(&p.you)), (2, Ok(None)));
        }
    }

    /// Stream byte counts refuse a datagram socket rather than answer wrong.
    #[test]
    fn queued_is_for_streams() {
        let p = postal_pair(AddressFamily::Inet).expect("two postboxes");
        assert_eq!(queued(&p.you), Err(Errno::EPROTOTYPE));
    }
}
