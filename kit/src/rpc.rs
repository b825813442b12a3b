//! The line between the judge and the host: framed messages on a Unix
//! stream socket, with file descriptors crossing beside the bytes.
//!
//! A self-check never runs the learner's code itself. The *host* process
//! runs it; the *judge* calls it through proxies that send the call (task
//! name, arguments) here and wait for the answer. A socket handed over is
//! the same kernel object on both sides (`SCM_RIGHTS`), so the judge asks the
//! kernel about exactly what the learner's code made.
//!
//! A frame is an 8-byte header (kind, descriptor count, body length) sent
//! with `sendmsg` and the descriptors as ancillary data, then the body. The
//! values inside a body are written by [`Ret`] (owned values, both ways) and
//! [`Param`] (a function's arguments, which may be borrowed or lent back).

use nix::errno::Errno;
use nix::sys::socket::{self, ControlMessage, MsgFlags, SockaddrIn, SockaddrIn6};
use std::collections::VecDeque;
use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

/// The judge asks (name and arguments).
pub const CALL: u8 = 1;
/// The host answers (what the arguments lent back, then the return value).
pub const REPLY: u8 = 2;
/// The learner's function panicked (or reached a `todo!()`): the message.
pub const PANIC: u8 = 3;
/// Something the function reported while it ran (chapter 8's call log).
pub const EVENT: u8 = 4;
/// The control line carries only fresh call lines.
pub const LINE: u8 = 5;

const HEADER: usize = 8;
/// More descriptors than any one message of the course carries.
const MAX_FDS: usize = 8;
/// Bigger than any argument or answer of the course (chapter 8 sends 2 MiB).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// What the other side sent that doesn't decode: the host is not speaking
/// this protocol (a learner writing on descriptors it doesn't own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken(pub String);

impl Broken {
    fn new(what: impl Into<String>) -> Self {
        Broken(what.into())
    }
}

/// A message being written.
#[derive(Default)]
pub struct Out {
    bytes: Vec<u8>,
    /// Descriptors that cross and stay open here too (`&OwnedFd`).
    lent: Vec<RawFd>,
    /// Descriptors that cross and are closed here once sent (`OwnedFd`), so
    /// the other side's close is the last one.
    given: Vec<OwnedFd>,
}

impl Out {
    pub fn new() -> Self {
        Out::default()
    }
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.bytes.extend_from_slice(b);
    }
    /// Sends a copy of `fd`; ours stays open.
    pub fn lend(&mut self, fd: &(impl AsRawFd + std::os::fd::AsFd)) {
        self.u64(close_on_exec(fd));
        self.lent.push(fd.as_raw_fd());
    }
    /// Sends `fd` and closes ours once it's on its way.
    pub fn give(&mut self, fd: OwnedFd) {
        self.u64(close_on_exec(&fd));
        self.given.push(fd);
    }
}

/// 1 if `fd` is close-on-exec (`F_GETFD`), else 0.
fn close_on_exec(fd: &impl std::os::fd::AsFd) -> u64 {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    let flags = fcntl(fd, FcntlArg::F_GETFD).unwrap_or(0);
    u64::from(FdFlag::from_bits_truncate(flags).contains(FdFlag::FD_CLOEXEC))
}

/// A message being read.
pub struct In {
    bytes: Vec<u8>,
    at: usize,
    fds: VecDeque<OwnedFd>,
}

impl In {
    pub fn u64(&mut self) -> Result<u64, Broken> {
        let end = self.at + 8;
        let raw = self.bytes.get(self.at..end).ok_or(Broken::new("short"))?;
        self.at = end;
        Ok(u64::from_le_bytes(raw.try_into().expect("8 bytes")))
    }
    pub fn bytes(&mut self) -> Result<Vec<u8>, Broken> {
        let n = usize::try_from(self.u64()?).map_err(|_| Broken::new("length"))?;
        let end = self.at.checked_add(n).ok_or(Broken::new("length"))?;
        let raw = self.bytes.get(self.at..end).ok_or(Broken::new("short"))?;
        self.at = end;
        Ok(raw.to_vec())
    }
    pub fn text(&mut self) -> Result<String, Broken> {
        String::from_utf8(self.bytes()?).map_err(|_| Broken::new("text"))
    }
    /// The next descriptor, with the close-on-exec flag its sender's copy
    /// had. The flag belongs to a descriptor, not to the socket, and
    /// `SCM_RIGHTS` with `MSG_CMSG_CLOEXEC` sets it on every copy received: a
    /// check that asks `F_GETFD` must see what the learner's code chose.
    pub fn fd(&mut self) -> Result<OwnedFd, Broken> {
        let cloexec = self.u64()? != 0;
        let fd = self
            .fds
            .pop_front()
            .ok_or(Broken::new("a descriptor is missing"))?;
        if !cloexec {
            use nix::fcntl::{fcntl, FcntlArg, FdFlag};
            fcntl(&fd, FcntlArg::F_SETFD(FdFlag::empty())).map_err(|_| Broken::new("F_SETFD"))?;
        }
        Ok(fd)
    }
}

/// Sends one frame. Blocks until the whole body is in the socket.
pub fn send(sock: &impl AsFd, kind: u8, out: Out) -> io::Result<()> {
    let fd = sock.as_fd().as_raw_fd();
    let mut fds = out.lent.clone();
    fds.extend(out.given.iter().map(|f| f.as_raw_fd()));
    let len = u32::try_from(out.bytes.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
    let mut header = [0u8; HEADER];
    header[0] = kind;
    header[1] = u8::try_from(fds.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
    header[4..].copy_from_slice(&len.to_le_bytes());
    let rights = [ControlMessage::ScmRights(&fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &rights };
    let flags = MsgFlags::MSG_NOSIGNAL;
    // The descriptors ride on the header's bytes; the kernel never splits
    // an 8-byte blocking send, but a signal may interrupt it before it starts.
    let sent = loop {
        match socket::sendmsg::<()>(fd, &[IoSlice::new(&header)], cmsgs, flags, None) {
            Err(Errno::EINTR) => continue,
            other => break other?,
        }
    };
    send_rest(fd, &header[sent..])?;
    send_rest(fd, &out.bytes)?;
    // `out.given` closes here: the other side holds the only copy now.
    Ok(())
}

fn send_rest(fd: RawFd, mut rest: &[u8]) -> io::Result<()> {
    while !rest.is_empty() {
        match socket::send(fd, rest, MsgFlags::MSG_NOSIGNAL) {
            Ok(n) => rest = &rest[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Receives one frame; `None` when the other side has closed the line.
///
/// nix 0.32's `recvmsg` hands received descriptors back as bare numbers,
/// which only `unsafe` code may own; rustix hands them back as `OwnedFd`.
/// They arrive close-on-exec, so a program the learner starts never
/// inherits the judge's line.
pub fn recv(sock: &impl AsFd) -> io::Result<Option<(u8, In)>> {
    use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
    let mut header = [0u8; HEADER];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let got = loop {
        let mut iov = [IoSliceMut::new(&mut header)];
        match rustix::net::recvmsg(sock, &mut iov, &mut control, RecvFlags::CMSG_CLOEXEC) {
            Err(rustix::io::Errno::INTR) => continue,
            other => break other?.bytes,
        }
    };
    let mut fds = VecDeque::new();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = message {
            fds.extend(received);
        }
    }
    if got == 0 {
        return Ok(None);
    }
    read_exact(sock, &mut header[got..])?;
    let len = u32::from_le_bytes(header[4..].try_into().expect("4 bytes")) as usize;
    if len > MAX_BODY || usize::from(header[1]) != fds.len() {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "not a frame"));
    }
    let mut bytes = vec![0u8; len];
    read_exact(sock, &mut bytes)?;
    Ok(Some((header[0], In { bytes, at: 0, fds })))
}

fn read_exact(sock: &impl AsFd, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match nix::unistd::read(sock.as_fd(), buf) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => buf = &mut buf[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// A value that crosses whole: a return value, or an argument passed by value.
pub trait Ret: Sized {
    fn put(self, out: &mut Out);
    fn take(inp: &mut In) -> Result<Self, Broken>;
}

impl Ret for () {
    fn put(self, _: &mut Out) {}
    fn take(_: &mut In) -> Result<(), Broken> {
        Ok(())
    }
}

impl Ret for u64 {
    fn put(self, out: &mut Out) {
        out.u64(self);
    }
    fn take(inp: &mut In) -> Result<u64, Broken> {
        inp.u64()
    }
}

impl Ret for usize {
    fn put(self, out: &mut Out) {
        out.u64(self as u64);
    }
    fn take(inp: &mut In) -> Result<usize, Broken> {
        usize::try_from(inp.u64()?).map_err(|_| Broken::new("usize"))
    }
}

impl Ret for Vec<u8> {
    fn put(self, out: &mut Out) {
        out.bytes(&self);
    }
    fn take(inp: &mut In) -> Result<Vec<u8>, Broken> {
        inp.bytes()
    }
}

impl Ret for String {
    fn put(self, out: &mut Out) {
        out.bytes(self.as_bytes());
    }
    fn take(inp: &mut In) -> Result<String, Broken> {
        inp.text()
    }
}

impl Ret for OwnedFd {
    fn put(self, out: &mut Out) {
        out.give(self);
    }
    fn take(inp: &mut In) -> Result<OwnedFd, Broken> {
        inp.fd()
    }
}

impl Ret for SockaddrIn {
    fn put(self, out: &mut Out) {
        let v4 = SocketAddrV4::from(self);
        out.u64(u64::from(u32::from(*v4.ip())) << 16 | u64::from(v4.port()));
    }
    fn take(inp: &mut In) -> Result<SockaddrIn, Broken> {
        let v = inp.u64()?;
        let ip = Ipv4Addr::from(u32::try_from(v >> 16).map_err(|_| Broken::new("address"))?);
        Ok(SocketAddrV4::new(ip, v as u16).into())
    }
}

impl Ret for Errno {
    fn put(self, out: &mut Out) {
        out.u64(self as i32 as u64);
    }
    fn take(inp: &mut In) -> Result<Errno, Broken> {
        Ok(Errno::from_raw(inp.u64()? as i32))
    }
}

/// Caller ID (`SO_PEERCRED`, chapter 10): pid, uid and gid, as numbers.
impl Ret for socket::UnixCredentials {
    fn put(self, out: &mut Out) {
        // pid_t is signed; a pid is never negative, but keep its bits.
        out.u64(u64::from(self.pid() as u32));
        out.u64(u64::from(self.uid()));
        out.u64(u64::from(self.gid()));
    }
    fn take(inp: &mut In) -> Result<socket::UnixCredentials, Broken> {
        let number =
            |inp: &mut In| u32::try_from(inp.u64()?).map_err(|_| Broken::new("credentials"));
        let (pid, uid, gid) = (number(inp)?, number(inp)?, number(inp)?);
        Ok(nix::libc::ucred {
            pid: pid as nix::libc::pid_t,
            uid,
            gid,
        }
        .into())
    }
}

impl<T: Ret> Ret for Option<T> {
    fn put(self, out: &mut Out) {
        out.u64(u64::from(self.is_some()));
        if let Some(v) = self {
            v.put(out);
        }
    }
    fn take(inp: &mut In) -> Result<Option<T>, Broken> {
        match inp.u64()? {
            0 => Ok(None),
            1 => T::take(inp).map(Some),
            _ => Err(Broken::new("option")),
        }
    }
}

impl<T: Ret, E: Ret> Ret for Result<T, E> {
    fn put(self, out: &mut Out) {
        match self {
            Ok(v) => {
                out.u64(0);
                v.put(out);
            }
            Err(e) => {
                out.u64(1);
                e.put(out);
            }
        }
    }
    fn take(inp: &mut In) -> Result<Result<T, E>, Broken> {
        match inp.u64()? {
            0 => T::take(inp).map(Ok),
            1 => E::take(inp).map(Err),
            _ => Err(Broken::new("result")),
        }
    }
}

impl<A: Ret, B: Ret> Ret for (A, B) {
    fn put(self, out: &mut Out) {
        self.0.put(out);
        self.1.put(out);
    }
    fn take(inp: &mut In) -> Result<(A, B), Broken> {
        Ok((A::take(inp)?, B::take(inp)?))
    }
}

/// The host's end of one call: where a function's reports (chapter 8's
/// call log) go while it runs.
#[derive(Clone)]
pub struct Caller(pub Arc<OwnedFd>);

/// A function argument, seen from both ends.
///
/// The judge's proxy `send`s it (keeping what it needs to finish: the buffer
/// behind a `&mut Vec<u8>`, the callback behind a log) and reads back what
/// the host lent back. The host `take`s it into a value it holds for the
/// call, `lend`s the learner's function the argument's own type, and gives
/// back what the function may have changed.
pub trait Param<'a>: Sized {
    /// What the host holds while the learner's function borrows from it.
    type Held: Send + 'static;
    /// What the proxy keeps until the answer comes.
    type Keep;
    fn send(self, out: &mut Out) -> Self::Keep;
    /// A report that arrived during the call: `true` if it was for this one.
    fn event(_keep: &mut Self::Keep, _inp: &mut In) -> Result<bool, Broken> {
        Ok(false)
    }
    fn back(_keep: Self::Keep, _inp: &mut In) -> Result<(), Broken> {
        Ok(())
    }
    fn take(inp: &mut In, caller: &Caller) -> Result<Self::Held, Broken>;
    fn lend(held: &'a mut Self::Held) -> Self;
    fn give_back(_held: Self::Held, _out: &mut Out) {}
}

/// Arguments passed by value cross whole and are handed over once.
macro_rules! by_value {
    ($($t:ty),*) => {$(
        impl<'a> Param<'a> for $t {
            type Held = Option<$t>;
            type Keep = ();
            fn send(self, out: &mut Out) {
                Ret::put(self, out);
            }
            fn take(inp: &mut In, _: &Caller) -> Result<Option<$t>, Broken> {
                <$t as Ret>::take(inp).map(Some)
            }
            fn lend(held: &'a mut Option<$t>) -> $t {
                held.take().expect("each argument is lent once")
            }
        }
    )*};
}
by_value!(OwnedFd, SockaddrIn, usize, u64);

impl<'a> Param<'a> for &'a OwnedFd {
    type Held = OwnedFd;
    type Keep = ();
    fn send(self, out: &mut Out) {
        // The host gets its own descriptor for the same socket; ours stays.
        out.lend(self);
    }
    fn take(inp: &mut In, _: &Caller) -> Result<OwnedFd, Broken> {
        inp.fd()
    }
    fn lend(held: &'a mut OwnedFd) -> &'a OwnedFd {
        held
    }
}

impl<'a> Param<'a> for &'a [u8] {
    type Held = Vec<u8>;
    type Keep = ();
    fn send(self, out: &mut Out) {
        out.bytes(self);
    }
    fn take(inp: &mut In, _: &Caller) -> Result<Vec<u8>, Broken> {
        inp.bytes()
    }
    fn lend(held: &'a mut Vec<u8>) -> &'a [u8] {
        held
    }
}

impl<'a> Param<'a> for &'a str {
    type Held = String;
    type Keep = ();
    fn send(self, out: &mut Out) {
        out.bytes(self.as_bytes());
    }
    fn take(inp: &mut In, _: &Caller) -> Result<String, Broken> {
        inp.text()
    }
    fn lend(held: &'a mut String) -> &'a str {
        held
    }
}

/// A buffer the function reads and appends to: it goes over, and whatever
/// the function left in it comes back into the caller's own buffer.
impl<'a> Param<'a> for &'a mut Vec<u8> {
    type Held = Vec<u8>;
    type Keep = &'a mut Vec<u8>;
    fn send(self, out: &mut Out) -> &'a mut Vec<u8> {
        out.bytes(self);
        self
    }
    fn back(keep: &'a mut Vec<u8>, inp: &mut In) -> Result<(), Broken> {
        *keep = inp.bytes()?;
        Ok(())
    }
    fn take(inp: &mut In, _: &Caller) -> Result<Vec<u8>, Broken> {
        inp.bytes()
    }
    fn lend(held: &'a mut Vec<u8>) -> &'a mut Vec<u8> {
        held
    }
    fn give_back(held: Vec<u8>, out: &mut Out) {
        out.bytes(&held);
    }
}

/// A log callback: each time the learner's function calls it in the host,
/// the value comes over the call's line and the judge's callback is called
/// with it, while the function is still running.
impl<'a> Param<'a> for &'a mut dyn FnMut(nix::Result<u64>) {
    type Held = Box<dyn FnMut(nix::Result<u64>) + Send>;
    type Keep = Self;
    fn send(self, _: &mut Out) -> Self {
        self
    }
    fn event(keep: &mut Self, inp: &mut In) -> Result<bool, Broken> {
        keep(<nix::Result<u64> as Ret>::take(inp)?);
        Ok(true)
    }
    fn take(_: &mut In, caller: &Caller) -> Result<Self::Held, Broken> {
        let line = caller.0.clone();
        Ok(Box::new(move |result| {
            let mut out = Out::new();
            result.put(&mut out);
            // A judge that stopped listening has given its verdict already.
            let _ = send(&*line, EVENT, out);
        }))
    }
    fn lend(held: &'a mut Self::Held) -> Self {
        &mut **held
    }
}

// ------------------------------------------- Part III: numbers of any family

/// An IP number of either family, with its port (and, for IPv6, its flow
/// label and scope): what `getaddrinfo` (std's `ToSocketAddrs`) hands out.
impl Ret for SocketAddr {
    fn put(self, out: &mut Out) {
        match self {
            SocketAddr::V4(v4) => {
                out.u64(4);
                out.bytes(&v4.ip().octets());
                out.u64(u64::from(v4.port()));
            }
            SocketAddr::V6(v6) => {
                out.u64(6);
                out.bytes(&v6.ip().octets());
                out.u64(u64::from(v6.port()));
                out.u64(u64::from(v6.flowinfo()));
                out.u64(u64::from(v6.scope_id()));
            }
        }
    }
    fn take(inp: &mut In) -> Result<SocketAddr, Broken> {
        let family = inp.u64()?;
        let ip = inp.bytes()?;
        let port = u16::try_from(inp.u64()?).map_err(|_| Broken::new("port"))?;
        match family {
            4 => {
                let octets: [u8; 4] = ip.try_into().map_err(|_| Broken::new("IPv4"))?;
                Ok(SocketAddr::V4(SocketAddrV4::new(octets.into(), port)))
            }
            6 => {
                let octets: [u8; 16] = ip.try_into().map_err(|_| Broken::new("IPv6"))?;
                let flow = u32::try_from(inp.u64()?).map_err(|_| Broken::new("flow"))?;
                let scope = u32::try_from(inp.u64()?).map_err(|_| Broken::new("scope"))?;
                let v6 = SocketAddrV6::new(Ipv6Addr::from(octets), port, flow, scope);
                Ok(SocketAddr::V6(v6))
            }
            _ => Err(Broken::new("family")),
        }
    }
}

/// nix's IPv6 address crosses as the std one it converts to and from.
impl Ret for SockaddrIn6 {
    fn put(self, out: &mut Out) {
        SocketAddr::V6(SocketAddrV6::from(self)).put(out);
    }
    fn take(inp: &mut In) -> Result<SockaddrIn6, Broken> {
        match <SocketAddr as Ret>::take(inp)? {
            SocketAddr::V6(v6) => Ok(v6.into()),
            SocketAddr::V4(_) => Err(Broken::new("an IPv6 address")),
        }
    }
}

impl Ret for bool {
    fn put(self, out: &mut Out) {
        out.u64(u64::from(self));
    }
    fn take(inp: &mut In) -> Result<bool, Broken> {
        match inp.u64()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Broken::new("bool")),
        }
    }
}

/// A time limit, to the nanosecond.
impl Ret for Duration {
    fn put(self, out: &mut Out) {
        out.u64(u64::try_from(self.as_nanos()).unwrap_or(u64::MAX));
    }
    fn take(inp: &mut In) -> Result<Duration, Broken> {
        Ok(Duration::from_nanos(inp.u64()?))
    }
}

by_value!(SocketAddr, SockaddrIn6, bool, Duration);

/// A list of numbers to try (a name's addresses): it crosses whole.
impl<'a> Param<'a> for &'a [SocketAddr] {
    type Held = Vec<SocketAddr>;
    type Keep = ();
    fn send(self, out: &mut Out) {
        out.u64(self.len() as u64);
        for number in self {
            number.put(out);
        }
    }
    fn take(inp: &mut In, _: &Caller) -> Result<Vec<SocketAddr>, Broken> {
        let n = usize::try_from(inp.u64()?).map_err(|_| Broken::new("length"))?;
        if n > 1024 {
            return Err(Broken::new("too many numbers"));
        }
        (0..n).map(|_| <SocketAddr as Ret>::take(inp)).collect()
    }
    fn lend(held: &'a mut Vec<SocketAddr>) -> &'a [SocketAddr] {
        held
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};

    fn line() -> (OwnedFd, OwnedFd) {
        socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .expect("a socketpair")
    }

    /// Numbers of both families, a flag and a time limit survive the trip.
    #[test]
    fn numbers_of_both_families_cross() {
        let numbers: Vec<SocketAddr> = vec![
            "127.0.0.1:7".parse().unwrap(),
            "[::1]:8".parse().unwrap(),
            SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 9, 3, 2)),
        ];
        let mut out = Out::new();
        <&[SocketAddr] as Param>::send(&numbers, &mut out);
        let six = SockaddrIn6::from(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 5, 0, 0));
        six.put(&mut out);
        true.put(&mut out);
        Duration::from_millis(300).put(&mut out);
        let mut inp = In {
            bytes: out.bytes,
            at: 0,
            fds: VecDeque::new(),
        };
        let (a, _b) = line();
        let caller = Caller(Arc::new(a));
        assert_eq!(
            <&[SocketAddr] as Param>::take(&mut inp, &caller).unwrap(),
            numbers
        );
        assert_eq!(<SockaddrIn6 as Ret>::take(&mut inp).unwrap(), six);
        assert!(<bool as Ret>::take(&mut inp).unwrap());
        assert_eq!(
            <Duration as Ret>::take(&mut inp).unwrap(),
            Duration::from_millis(300)
        );
        assert!(inp.u64().is_err(), "nothing is left over");
    }

    /// Values and a descriptor survive the trip, and the descriptor names
    /// the same socket (same inode) on the other side.
    #[test]
    fn values_and_descriptors_cross() {
        let (a, b) = line();
        let (x, _y) = line();
        let inode = nix::sys::stat::fstat(&x).expect("fstat").st_ino;
        let mut out = Out::new();
        let addr: SockaddrIn = "127.0.0.1:4321".parse::<SocketAddrV4>().unwrap().into();
        let value: nix::Result<(OwnedFd, SockaddrIn)> = Ok((x, addr));
        value.put(&mut out);
        Err::<u64, Errno>(Errno::ECONNREFUSED).put(&mut out);
        Some(vec![7u8; 3 << 20]).put(&mut out);
        // Bigger than a socket buffer: someone must be reading while it goes.
        let sender = std::thread::spawn(move || {
            send(&a, REPLY, out).expect("send");
            a
        });
        let (kind, mut inp) = recv(&b).expect("recv").expect("a frame");
        let a = sender.join().expect("the sender finishes");
        assert_eq!(kind, REPLY);
        let (fd, got) = <nix::Result<(OwnedFd, SockaddrIn)>>::take(&mut inp)
            .unwrap()
            .unwrap();
        assert_eq!(got, addr);
        assert_eq!(nix::sys::stat::fstat(&fd).unwrap().st_ino, inode);
        assert_eq!(
            <nix::Result<u64>>::take(&mut inp).unwrap(),
            Err(Errno::ECONNREFUSED)
        );
        assert_eq!(
            <Option<Vec<u8>> as Ret>::take(&mut inp)
                .unwrap()
                .unwrap()
                .len(),
            3 << 20
        );
        assert!(inp.u64().is_err(), "nothing is left over");
        drop(a);
        assert!(recv(&b).expect("recv").is_none(), "a closed line is None");
    }
}
