//! A tiny static file server for the built book, on 127.0.0.1 and a port
//! the kernel picks.
//!
//! The browser reads the book over HTTP rather than `file://` because that
//! is how readers get it from `mdbook serve` or a web host, and because
//! Chromium treats every `file://` page as its own origin (the search index
//! and the theme's saved choice behave differently there). Only GET is
//! served, nothing outside the book's folder is reachable, and every answer
//! closes its connection: the browser test needs nothing more.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::thread;
use std::time::Duration;

/// A running server; it lives as long as the process (its thread is
/// detached and only ever accepts loopback connections).
pub struct Server {
    pub addr: SocketAddr,
}

impl Server {
    /// Serves `root` on 127.0.0.1 with a kernel-chosen port.
    pub fn start(root: PathBuf) -> std::io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                thread::spawn(move || {
                    // A browser that gives up on a request is not our problem.
                    let _ = answer(stream, &root);
                });
            }
        });
        Ok(Server { addr })
    }

    /// The URL of `page` (relative to the book's root) on this server.
    pub fn url(&self, page: &str) -> String {
        format!("http://{}/{}", self.addr, page)
    }
}

fn answer(mut stream: TcpStream, root: &Path) -> std::io::Result<()> {
    // A request that never finishes must not hold a thread forever.
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Drain the headers; nothing in them changes the answer.
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut words = request_line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or("/"));
    if method != "GET" {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n",
        );
    }
    match resolve(root, target) {
        Some(path) => match fs::read(&path) {
            Ok(body) => respond(&mut stream, "200 OK", content_type(&path), &body),
            Err(_) => not_found(&mut stream),
        },
        None => not_found(&mut stream),
    }
}

fn not_found(stream: &mut TcpStream) -> std::io::Result<()> {
    respond(stream, "404 Not Found", "text/plain", b"not found\n")
}

fn respond(stream: &mut TcpStream, status: &str, kind: &str, body: &[u8]) -> std::io::Result<()> {
    // no-store: every page load fetches every file, so the page weight the
    // test measures is what a first-time reader downloads.
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

/// The file a request path names inside `root`, or None if it would step
/// outside it. `/` and folders mean their `index.html`.
pub fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let decoded = percent_decode(path)?;
    let mut out = root.to_path_buf();
    for part in Path::new(decoded.trim_start_matches('/')).components() {
        match part {
            Component::Normal(name) => out.push(name),
            Component::CurDir => {}
            // `..`, a root or a prefix would leave the book's folder.
            _ => return None,
        }
    }
    if out.is_dir() {
        out.push("index.html");
    }
    out.is_file().then_some(out)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn fixture(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("book-browser-{name}-{}", std::process::id()));
        fs::create_dir_all(dir.join("images")).expect("temp dir is writable");
        fs::write(dir.join("index.html"), "<p>home</p>").expect("temp dir is writable");
        fs::write(dir.join("images/a b.svg"), "<svg/>").expect("temp dir is writable");
        dir
    }

    /// A request can't climb out of the book's folder, and folders and
    /// escaped names resolve to the files a browser expects.
    #[test]
    fn resolve_stays_inside_the_book() {
        let root = fixture("resolve");
        assert_eq!(resolve(&root, "/"), Some(root.join("index.html")));
        assert_eq!(
            resolve(&root, "/images/a%20b.svg?x=1"),
            Some(root.join("images/a b.svg"))
        );
        assert_eq!(resolve(&root, "/../etc/passwd"), None);
        assert_eq!(resolve(&root, "/images/%2e%2e/%2e%2e/x"), None);
        assert_eq!(resolve(&root, "/missing.html"), None);
        fs::remove_dir_all(root).expect("fixture cleans up");
    }

    /// A real request over loopback gets the file, its type, and a 404 for
    /// what isn't there.
    #[test]
    fn serves_files_and_404s() {
        let root = fixture("serve");
        let server = Server::start(root.clone()).expect("loopback port 0 is free");
        let get = |path: &str| {
            let mut s = TcpStream::connect(server.addr).expect("the server is listening");
            s.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("a timeout can be set");
            write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").expect("loopback write");
            let mut reply = String::new();
            s.read_to_string(&mut reply)
                .expect("the server answers and closes");
            reply
        };
        let home = get("/");
        assert!(home.starts_with("HTTP/1.1 200 OK"), "{home}");
        assert!(
            home.contains("text/html") && home.ends_with("<p>home</p>"),
            "{home}"
        );
        assert!(get("/images/a%20b.svg").contains("image/svg+xml"));
        assert!(get("/nope.html").starts_with("HTTP/1.1 404"));
        fs::remove_dir_all(root).expect("fixture cleans up");
    }
}
