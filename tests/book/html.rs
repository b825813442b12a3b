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

/// Every resource the HTML and CSS under `root` would fetch from another
/// host: scripts, stylesheets, fonts, images, frames. Plain `<a>` links to
/// other sites are fine (the reader chooses to follow them).
pub fn external_resources(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for page in files(root, "html") {
        let text = fs::read_to_string(&page).unwrap_or_default();
        let shown = page
            .strip_prefix(root)
            .unwrap_or(&page)
            .display()
            .to_string();
        for tag in tags(&text) {
            if tag.name == "a" || tag.name == "area" {
                continue;
            }
            if let Some(url) = reference(&tag).filter(|u| is_external(u)) {
                problems.push(format!("{shown}: <{} {url:?}>", tag.name));
            }
        }
    }
    for sheet in files(root, "css") {
        let text = fs::read_to_string(&sheet).unwrap_or_default();
        let shown = sheet
            .strip_prefix(root)
            .unwrap_or(&sheet)
            .display()
            .to_string();
        for (at, _) in text
            .match_indices("url(")
            .chain(text.match_indices("@import"))
        {
            let rest = text[at..]
                .trim_start_matches("url(")
                .trim_start_matches("@import");
            let url = rest
                .trim_start()
                .trim_start_matches(['"', '\''])
                .split(['"', '\'', ')', ';', ' '])
                .next()
                .unwrap_or_default();
            if is_external(url) {
                problems.push(format!("{shown}: {url}"));
            }
        }
    }
    problems
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
