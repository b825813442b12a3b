//! Just enough HTML reading to check a rendered book: tags and their
//! attributes, element ids, links and the resources a page loads.
//!
//! mdBook's output is regular, machine-written HTML, so a small scanner is
//! enough and keeps the check free of extra dependencies. Script and style
//! bodies are skipped (a link inside a JavaScript string is not a link), and
//! so are comments.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// One start tag: its lower-case name and its attributes, values unescaped.
pub struct Tag {
    pub name: String,
    pub attrs: Vec<(String, String)>,
}

impl Tag {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Every start tag in `html`, in document order.
pub fn tags(html: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt + 1..];
        if let Some(comment) = rest.strip_prefix("!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '-')
            .unwrap_or(rest.len());
        if name_len == 0 || !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let name = rest[..name_len].to_ascii_lowercase();
        let (attrs, after) = attributes(&rest[name_len..]);
        rest = after;
        if name == "script" || name == "style" {
            // Raw text: nothing inside is markup.
            let close = format!("</{name}");
            rest = rest.find(&close).map_or("", |end| &rest[end..]);
        }
        out.push(Tag { name, attrs });
    }
    out
}

/// Parses attributes up to the tag's `>`; returns them and the text after it.
fn attributes(mut s: &str) -> (Vec<(String, String)>, &str) {
    let mut attrs = Vec::new();
    loop {
        s = s.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if s.is_empty() {
            return (attrs, s);
        }
        if let Some(after) = s.strip_prefix('>') {
            return (attrs, after);
        }
        let end = s
            .find(|c: char| c.is_whitespace() || c == '=' || c == '>' || c == '/')
            .unwrap_or(s.len());
        let name = s[..end].to_ascii_lowercase();
        s = s[end..].trim_start();
        let mut value = String::new();
        if let Some(after) = s.strip_prefix('=') {
            let after = after.trim_start();
            let (v, rest) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let body = &after[1..];
                    let close = body.find(q).unwrap_or(body.len());
                    (&body[..close], body.get(close + 1..).unwrap_or(""))
                }
                _ => {
                    let close = after
                        .find(|c: char| c.is_whitespace() || c == '>')
                        .unwrap_or(after.len());
                    (&after[..close], &after[close..])
                }
            };
            value = unescape(v);
            s = rest;
        }
        if name.is_empty() {
            // A stray character; skip it rather than loop forever.
            s = s.get(1..).unwrap_or("");
            continue;
        }
        attrs.push((name, value));
    }
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// HTML-escapes text the way mdBook does in headings.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Decodes `%XX` escapes in a URL path or fragment.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every file under `root` whose name ends with `ext`, sorted.
fn files(root: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The attribute that names what a tag links to or loads, if it has one.
fn reference(tag: &Tag) -> Option<&str> {
    match tag.name.as_str() {
        "a" | "link" | "area" => tag.attr("href"),
        "img" | "script" | "iframe" | "source" | "audio" | "video" | "embed" | "track" => {
            tag.attr("src")
        }
        "object" => tag.attr("data"),
        _ => None,
    }
}

fn is_external(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("//") || lower.contains("://") || lower.starts_with("mailto:")
}

/// Every internal link in the HTML under `root` that points at a missing
/// file, or at a `#fragment` that is no id on its page.
pub fn link_problems(root: &Path) -> Vec<String> {
    let mut ids: HashMap<PathBuf, Vec<String>> = HashMap::new();
    let mut problems = Vec::new();
    for page in files(root, "html") {
        let text = fs::read_to_string(&page).unwrap_or_default();
        let tags = tags(&text);
        let shown = page
            .strip_prefix(root)
            .unwrap_or(&page)
            .display()
            .to_string();
        // mdBook's 404 page sets <base href="/">: its links start at the book's root.
        let base = match tags
            .iter()
            .find(|t| t.name == "base")
            .and_then(|t| t.attr("href"))
        {
            Some("/") => root.to_path_buf(),
            _ => page.parent().unwrap_or(root).to_path_buf(),
        };
        for tag in &tags {
            let Some(url) = reference(tag) else { continue };
            if url.is_empty()
                || is_external(url)
                || url.starts_with("data:")
                || url.starts_with("javascript:")
            {
                continue;
            }
            let (path, fragment) = url.split_once('#').unwrap_or((url, ""));
            let path = path.split('?').next().unwrap_or_default();
            let mut target = if path.is_empty() {
                page.clone()
            } else if let Some(abs) = path.strip_prefix('/') {
                root.join(percent_decode(abs))
            } else {
                base.join(percent_decode(path))
            };
            if target.is_dir() {
                target = target.join("index.html");
            }
            if !target.is_file() {
                problems.push(format!("{shown}: <{} {url:?}>: no such file", tag.name));
                continue;
            }
            if fragment.is_empty() || target.extension().is_none_or(|e| e != "html") {
                continue;
            }
            let known = ids.entry(target.clone()).or_insert_with(|| {
                let text = fs::read_to_string(&target).unwrap_or_default();
                tags_ids(&text)
            });
            let fragment = percent_decode(fragment);
            if !known.contains(&fragment) {
                problems.push(format!(
                    "{shown}: <{} {url:?}>: no id \"#{fragment}\" there",
                    tag.name
                ));
            }
        }
    }
    // mdBook draws each image twice (the page and its zoomed copy): report once.
    problems.dedup();
    problems
}

fn tags_ids(html: &str) -> Vec<String> {
    tags(html)
        .iter()
        .filter_map(|t| {
            t.attr("id")
                .or_else(|| (t.name == "a").then(|| t.attr("name")).flatten())
        })
        .map(str::to_string)
        .collect()
}

/// Scripts that fetch from another host only when a page holds a certain
/// element: (the URL's start, the class that sets it off). mdBook's book.js
/// asks the Rust playground for its crate list as soon as a page has a
/// `.playground` block (a runnable ```rust block), and runs code there.
const GUARDED_FETCHES: &[(&str, &str)] = &[("https://play.rust-lang.org", "playground")];

/// Every resource the HTML, CSS and JavaScript under `root` would fetch from
/// another host: scripts, stylesheets, fonts, images, frames, link preloads,
/// and the targets of `fetch`, `XMLHttpRequest`, `WebSocket`, `EventSource`
/// and `sendBeacon` calls in scripts. Plain `<a>` links to other sites are
/// fine (the reader chooses to follow them). A script's fetch that only a
/// certain element sets off (see [`GUARDED_FETCHES`]) is reported on every
/// page that has such an element and loads that script.
pub fn external_resources(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let shown = |path: &Path| {
        path.strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    // Script file (relative to root) -> (class, URL) it fetches when a page has that class.
    let mut guarded: HashMap<PathBuf, Vec<(&str, String)>> = HashMap::new();
    for script in files(root, "js") {
        let text = fs::read_to_string(&script).unwrap_or_default();
        for url in script_fetches(&text) {
            match GUARDED_FETCHES
                .iter()
                .find(|(start, _)| url.starts_with(start))
            {
                Some((_, class)) => guarded
                    .entry(script.clone())
                    .or_default()
                    .push((class, url)),
                None => problems.push(format!("{}: a script fetches {url}", shown(&script))),
            }
        }
    }
    for page in files(root, "html") {
        let text = fs::read_to_string(&page).unwrap_or_default();
        let page_name = shown(&page);
        let tags = tags(&text);
        for tag in &tags {
            if tag.name == "a" || tag.name == "area" {
                continue;
            }
            if let Some(url) = reference(tag).filter(|u| is_external(u)) {
                problems.push(format!("{page_name}: <{} {url:?}>", tag.name));
            }
            for url in tag.attr("srcset").into_iter().flat_map(srcset_urls) {
                problems.push(format!("{page_name}: <{} srcset {url:?}>", tag.name));
            }
            for url in tag.attr("style").into_iter().flat_map(css_urls) {
                problems.push(format!("{page_name}: <{} style {url:?}>", tag.name));
            }
        }
        for body in raw_bodies(&text, "script") {
            for url in script_fetches(body) {
                problems.push(format!("{page_name}: an inline script fetches {url}"));
            }
        }
        for body in raw_bodies(&text, "style") {
            for url in css_urls(body) {
                problems.push(format!("{page_name}: an inline style loads {url}"));
            }
        }
        let base = page.parent().unwrap_or(root);
        for tag in tags.iter().filter(|t| t.name == "script") {
            let Some(src) = tag.attr("src").filter(|s| !is_external(s)) else {
                continue;
            };
            let file = base.join(percent_decode(src.split('?').next().unwrap_or_default()));
            for (class, url) in guarded.get(&file).into_iter().flatten() {
                if tags.iter().any(|t| has_class(t, class)) {
                    problems.push(format!(
                        "{page_name}: a `{class}` block makes {src} fetch {url}"
                    ));
                }
            }
        }
    }
    for sheet in files(root, "css") {
        let text = fs::read_to_string(&sheet).unwrap_or_default();
        for url in css_urls(&text) {
            problems.push(format!("{}: {url}", shown(&sheet)));
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

fn has_class(tag: &Tag, class: &str) -> bool {
    tag.attr("class")
        .is_some_and(|c| c.split_whitespace().any(|c| c == class))
}

/// The bodies of every `<name>...</name>` element (raw text: scripts, styles).
fn raw_bodies<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let lower = html.to_ascii_lowercase();
    let (open, close) = (format!("<{name}"), format!("</{name}"));
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = lower[at..].find(&open).map(|i| i + at) {
        let Some(body) = lower[start..].find('>').map(|i| start + i + 1) else {
            break;
        };
        let end = lower[body..].find(&close).map_or(html.len(), |i| body + i);
        out.push(&html[body..end]);
        at = end;
    }
    out
}

/// The external URLs in a `srcset` list ("a.png 1x, https://x/b.png 2x").
fn srcset_urls(srcset: &str) -> Vec<String> {
    srcset
        .split(',')
        .filter_map(|c| c.split_whitespace().next())
        .filter(|u| is_external(u))
        .map(str::to_string)
        .collect()
}

/// The external URLs a stylesheet loads (`url(...)` and `@import`).
fn css_urls(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in text
        .match_indices("url(")
        .chain(text.match_indices("@import"))
    {
        let rest = text[at..]
            .trim_start_matches("url(")
            .trim_start_matches("@import");
        let url = rest
            .trim_start()
            .trim_start_matches("url(")
            .trim_start_matches(['"', '\''])
            .split(['"', '\'', ')', ';', ' '])
            .next()
            .unwrap_or_default();
        if is_external(url) {
            out.push(url.to_string());
        }
    }
    out
}

/// The external URLs a script would request: string literals handed to a
/// call whose name says it fetches (`fetch`, `fetch_with_timeout`,
/// `sendBeacon`, `importScripts`, `import`), to `new WebSocket` or `new
/// EventSource`, as the URL of an `XMLHttpRequest`'s `open(method, url)`, or
/// assigned to a `src` or `href` (a script or stylesheet made on the fly).
/// A URL in a comment or in text a script shows is not a request.
pub fn script_fetches(js: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, quote) in js
        .char_indices()
        .filter(|(_, c)| matches!(c, '"' | '\'' | '`'))
    {
        let body = &js[at + 1..];
        let Some(end) = body.find(quote) else {
            continue;
        };
        let url = &body[..end];
        if !(url.starts_with("http://")
            || url.starts_with("https://")
            || url.starts_with("ws://")
            || url.starts_with("wss://")
            || url.starts_with("//"))
            || url.contains(char::is_whitespace)
        {
            continue;
        }
        if requests(&js[..at]) {
            out.push(url.to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Whether the code right before a string literal hands it to a request.
fn requests(before: &str) -> bool {
    let before = before.trim_end();
    let callee = |text: &str| -> String {
        let text = text.trim_end();
        let start = text
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .map_or(0, |i| i + 1);
        text[start..].to_ascii_lowercase()
    };
    if let Some(call) = before.strip_suffix('(') {
        let name = callee(call);
        let last = name.rsplit('.').next().unwrap_or_default();
        return last.contains("fetch")
            || matches!(
                last,
                "sendbeacon" | "importscripts" | "import" | "websocket" | "eventsource"
            );
    }
    if let Some(assign) = before.strip_suffix('=') {
        let name = callee(assign);
        return name.ends_with("src") || name.ends_with("href");
    }
    if let Some(first_arg) = before.strip_suffix(',') {
        // xhr.open("GET", "https://...")
        let first_arg = first_arg.trim_end();
        if let Some(q) = first_arg.chars().last().filter(|c| matches!(c, '"' | '\'')) {
            let inner = &first_arg[..first_arg.len() - 1];
            if let Some(open) = inner.rfind(q) {
                let call = inner[..open].trim_end();
                if let Some(call) = call.strip_suffix('(') {
                    return callee(call).ends_with(".open");
                }
            }
        }
    }
    false
}

/// Where a rendered page's "next chapter" arrow leads, if it has one.
pub fn next_link(html: &str) -> Option<String> {
    tags(html)
        .into_iter()
        .find(|t| {
            t.name == "a"
                && t.attr("rel")
                    .is_some_and(|r| r.split(' ').any(|w| w == "next"))
        })
        .and_then(|t| t.attr("href").map(str::to_string))
}

/// The alt text of the Markdown image `![alt](image)` in `text`, if shown.
pub fn markdown_image_alt(text: &str, image: &str) -> Option<String> {
    let end = text.find(&format!("]({image})"))?;
    let start = text[..end].rfind("![")?;
    Some(text[start + 2..end].trim().to_string())
}
