//! What a reader would notice, checked in a real browser.
//!
//! Each check returns the book's problems as lines ("sidebar: ...",
//! "console: ...", "figure: ...", "next: ...", "search: ...", "theme: ...",
//! "load: ...", "network: ...");
//! an `Err` means the browser itself misbehaved (a WebDriver error or a
//! timeout), which is reported apart from what is wrong with the book.

use crate::driver::BrowserLog;
use fantoccini::{Client, Locator};
use serde_json::Value;
use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

/// What the course says the book must contain.
pub struct Expect {
    /// Every page and its sidebar label, in the course's reading order: each
    /// chapter ("9. Postcards"), and each part's opening page before the
    /// part's chapters.
    pub chapters: Vec<(String, String)>,
    /// Each part's sidebar heading (`Part III: Other kinds of phone`) and
    /// the first page under it, in course order.
    pub parts: Vec<(String, String)>,
    /// A word to search for, and the page it must find.
    pub search: (String, String),
}

/// The outcome for one book.
#[derive(Default)]
pub struct Report {
    pub problems: Vec<String>,
    pub pages: Vec<String>,
    /// How many requests the pages made, and how many went elsewhere
    /// than the book's own server.
    pub requests: usize,
    pub foreign: usize,
    pub weight: Option<Weight>,
}

/// What one chapter page costs a first-time reader, in bytes by kind.
#[derive(Debug, Default)]
pub struct Weight {
    pub page: String,
    pub html: u64,
    pub css: u64,
    pub js: u64,
    pub fonts: u64,
    pub images: u64,
    pub other: u64,
}

impl Weight {
    pub fn total(&self) -> u64 {
        self.html + self.css + self.js + self.fonts + self.images + self.other
    }
}

/// Every browser round trip is bounded: a wedged page fails in seconds.
async fn bounded<T, E: std::fmt::Display>(
    what: &str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(Duration::from_secs(30), fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: no answer within 30 s")),
    }
}

async fn js(client: &Client, what: &str, script: &str) -> Result<Value, String> {
    bounded(what, client.execute(script, vec![])).await
}

/// Polls `script` until it returns true, for at most `within`.
async fn wait_until(
    client: &Client,
    what: &str,
    script: &str,
    within: Duration,
) -> Result<bool, String> {
    let deadline = Instant::now() + within;
    loop {
        if js(client, what, script).await? == Value::Bool(true) {
            return Ok(true);
        }
        if Instant::now() > deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The browser console's errors since the last call.
async fn console_errors(client: &Client) -> Result<Vec<String>, String> {
    let log = bounded(
        "reading the browser console",
        client.issue_cmd(BrowserLog("browser")),
    )
    .await?;
    Ok(log
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or("?").to_string())
        .collect())
}

/// Every URL the browser requested since the last call, from the DevTools
/// network events (a request that fails, or that no host answers, is there
/// too, unlike in the page's own resource timing).
async fn requests(client: &Client) -> Result<Vec<String>, String> {
    let log = bounded(
        "reading the network log",
        client.issue_cmd(BrowserLog("performance")),
    )
    .await?;
    let mut urls = Vec::new();
    for entry in log.as_array().into_iter().flatten() {
        // Each entry's message is a JSON text of its own.
        let Ok(event) = serde_json::from_str::<Value>(entry["message"].as_str().unwrap_or(""))
        else {
            continue;
        };
        let event = &event["message"];
        if event["method"] == "Network.requestWillBeSent" {
            if let Some(url) = event["params"]["request"]["url"].as_str() {
                urls.push(url.to_string());
            }
        }
    }
    Ok(urls)
}

/// The requests in `urls` that would go over a network to anywhere but the
/// book's server at `origin`. The browser's own pages and resources
/// (`chrome://`, `data:`, `about:`, `blob:`) never leave it.
pub fn foreign(urls: &[String], origin: &str) -> Vec<String> {
    urls.iter()
        .filter(|u| over_network(u))
        .filter(|u| !(u.starts_with(origin) && u[origin.len()..].starts_with('/')))
        .cloned()
        .collect()
}

/// Whether the browser would open a connection for `url`.
pub fn over_network(url: &str) -> bool {
    let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
    matches!(scheme.as_str(), "http" | "https" | "ws" | "wss" | "ftp")
}

async fn open(client: &Client, url: &str) -> Result<(), String> {
    bounded(&format!("opening {url}"), client.goto(url)).await?;
    // mdBook fills the sidebar from toc.js once the page has loaded.
    wait_until(
        client,
        "waiting for the page",
        "return document.readyState === 'complete'",
        Duration::from_secs(10),
    )
    .await?;
    Ok(())
}

/// The sidebar's links and part headings, in order, as (text, href); a
/// part heading has no href (an empty one here).
const SIDEBAR: &str = "return [...document.querySelectorAll('#mdbook-sidebar a[href], #mdbook-sidebar li.part-title')].map(e => [e.textContent.trim(), e.getAttribute('href') || '']);";

/// Every figure in the page's content: images (without mdBook's hidden
/// zoomed copy) and inline SVGs (without the toolbar's icons).
const FIGURES: &str = r#"
const out = [];
for (const img of document.querySelectorAll('main img')) {
  if (img.closest('.img-wrapper')) continue;
  const r = img.getBoundingClientRect();
  out.push([img.getAttribute('src') || '?', img.getAttribute('alt') || '', img.naturalWidth, r.width, r.height]);
}
for (const svg of document.querySelectorAll('main svg')) {
  if (svg.closest('.fa-svg, button, .buttons')) continue;
  const r = svg.getBoundingClientRect();
  const title = svg.querySelector('title');
  out.push(['inline svg', svg.getAttribute('aria-label') || (title ? title.textContent : ''), r.width, r.width, r.height]);
}
return out;
"#;

/// Checks the book served at `base` against `expect`; saves screenshots in
/// `shots` when given.
pub async fn check_book(
    client: &Client,
    base: &dyn Fn(&str) -> String,
    expect: &Expect,
    shots: Option<&Path>,
) -> Result<Report, String> {
    let mut report = Report::default();
    open(client, &base("index.html")).await?;
    let sidebar = sidebar(client).await?;
    check_sidebar(&sidebar, expect, &mut report.problems);
    check_parts(&sidebar, expect, &mut report.problems);

    // Every page: the chapters the course expects, whatever else the sidebar
    // lists, and the print view.
    let mut pages = vec!["index.html".to_string()];
    for page in expect
        .chapters
        .iter()
        .map(|(p, _)| p)
        .chain(sidebar.iter().map(|(_, h)| h))
    {
        let page = page.split('#').next().unwrap_or_default().to_string();
        if !page.is_empty() && !pages.contains(&page) {
            pages.push(page);
        }
    }
    pages.push("print.html".into());
    console_errors(client).await?;
    let origin = base("").trim_end_matches('/').to_string();
    let net = |what: &str, urls: Vec<String>, report: &mut Report| {
        report.requests += urls.iter().filter(|u| over_network(u)).count();
        for url in foreign(&urls, &origin) {
            report.foreign += 1;
            report.problems.push(format!(
                "network: {what} requested {url}, which is not the book's server"
            ));
        }
    };
    // What the first page, the sidebar's load, requested counts too.
    net("index.html", requests(client).await?, &mut report);
    let mut next = Vec::new();
    for page in &pages {
        next.push(check_page(client, &base(page), page, shots, &mut report.problems).await?);
        net(page, requests(client).await?, &mut report);
    }
    // Reading on with the "next" arrow walks the introduction, then every
    // chapter in course order.
    let mut walk = vec!["index.html".to_string()];
    walk.extend(expect.chapters.iter().map(|(p, _)| p.clone()));
    for pair in walk.windows(2) {
        let Some(i) = pages.iter().position(|p| *p == pair[0]) else {
            continue;
        };
        if next[i].as_deref() != Some(pair[1].as_str()) {
            report.problems.push(format!(
                "next: {}'s next arrow leads to {}, not {}",
                pair[0],
                next[i].as_deref().unwrap_or("nowhere"),
                pair[1]
            ));
        }
    }
    report.pages = pages;

    check_search(client, base, expect, &mut report.problems).await?;
    net("searching", requests(client).await?, &mut report);
    if let Some((first, _)) = expect.chapters.first() {
        check_themes(client, &base(first), first, shots, &mut report.problems).await?;
        report.weight = Some(weigh(client, &base(first), first).await?);
        net("switching themes", requests(client).await?, &mut report);
    }
    Ok(report)
}

async fn sidebar(client: &Client) -> Result<Vec<(String, String)>, String> {
    wait_until(
        client,
        "waiting for the sidebar",
        "return document.querySelectorAll('#mdbook-sidebar a[href]').length > 0",
        Duration::from_secs(10),
    )
    .await?;
    let links = js(client, "reading the sidebar", SIDEBAR).await?;
    Ok(links
        .as_array()
        .into_iter()
        .flatten()
        .map(|pair| {
            (
                pair[0].as_str().unwrap_or("").to_string(),
                pair[1].as_str().unwrap_or("").to_string(),
            )
        })
        .collect())
}

/// Each part's heading is in the sidebar, in course order, with the part's
/// first page the next page under it.
pub fn check_parts(sidebar: &[(String, String)], expect: &Expect, problems: &mut Vec<String>) {
    let mut at = 0;
    for (heading, first) in &expect.parts {
        let Some(h) = sidebar[at..]
            .iter()
            .position(|(text, href)| href.is_empty() && text == heading)
            .map(|i| i + at)
        else {
            problems.push(format!(
                "sidebar: the part heading {heading:?} is missing or out of order"
            ));
            continue;
        };
        let next_page = sidebar[h + 1..].iter().find(|(_, href)| !href.is_empty());
        if next_page.map(|(_, href)| href.as_str()) != Some(first.as_str()) {
            problems.push(format!(
                "sidebar: under {heading:?} the first page is {}, not {first}",
                next_page.map_or("nothing", |(_, href)| href.as_str())
            ));
        }
        at = h + 1;
    }
}

/// The sidebar lists every chapter, in course order.
pub fn check_sidebar(sidebar: &[(String, String)], expect: &Expect, problems: &mut Vec<String>) {
    let mut at = 0;
    for (page, title) in &expect.chapters {
        match sidebar.iter().position(|(_, href)| href == page) {
            None => problems.push(format!(
                "sidebar: {page} ({title}) is missing from the sidebar"
            )),
            Some(i) if i < at => problems.push(format!(
                "sidebar: {page} ({title}) comes before an earlier chapter"
            )),
            Some(i) => {
                if !sidebar[i].0.contains(title.as_str()) {
                    problems.push(format!(
                        "sidebar: {page} is labelled {:?}, course.toml calls it {title:?}",
                        sidebar[i].0
                    ));
                }
                at = i;
            }
        }
    }
}

async fn check_page(
    client: &Client,
    url: &str,
    page: &str,
    shots: Option<&Path>,
    problems: &mut Vec<String>,
) -> Result<Option<String>, String> {
    open(client, url).await?;
    let next = js(
        client,
        "reading the next arrow",
        "const a = document.querySelector('a[rel~=next]'); return a ? a.getAttribute('href') : null;",
    )
    .await?;
    if js(
        client,
        "looking for the content",
        "return !!document.querySelector('main')",
    )
    .await?
        != Value::Bool(true)
    {
        problems.push(format!("load: {page} shows no book page"));
    }
    for message in console_errors(client).await? {
        problems.push(format!("console: {page}: {message}"));
    }
    let figures = js(client, "measuring figures", FIGURES).await?;
    for figure in figures.as_array().into_iter().flatten() {
        let src = figure[0].as_str().unwrap_or("?");
        let alt = figure[1].as_str().unwrap_or("").trim();
        let (natural, w, h) = (
            figure[2].as_f64().unwrap_or(0.0),
            figure[3].as_f64().unwrap_or(0.0),
            figure[4].as_f64().unwrap_or(0.0),
        );
        if natural <= 0.0 || w <= 0.0 || h <= 0.0 {
            problems.push(format!("figure: {page}: {src} has no size ({w}x{h}, natural width {natural}): it didn't load"));
        }
        if alt.is_empty() {
            problems.push(format!("figure: {page}: {src} has no alt text"));
        }
    }
    if let Some(dir) = shots {
        save_shot(client, dir, page, "").await?;
        // The figure itself, for a close look at the drawing.
        if let Ok(img) = client.find(Locator::Css("main img")).await {
            let _ = js(client, "scrolling to the figure", "document.querySelector('main img').scrollIntoView({block: 'center'}); return true;").await?;
            if let Ok(png) = bounded("a figure screenshot", img.screenshot()).await {
                let _ = std::fs::write(dir.join(shot_name(page, "-figure")), png);
            }
        }
    }
    Ok(next.as_str().map(str::to_string))
}

fn shot_name(page: &str, suffix: &str) -> String {
    format!("{}{suffix}.png", page.trim_end_matches(".html"))
}

async fn save_shot(client: &Client, dir: &Path, page: &str, suffix: &str) -> Result<(), String> {
    let png = bounded("a screenshot", client.screenshot()).await?;
    std::fs::write(dir.join(shot_name(page, suffix)), png)
        .map_err(|e| format!("saving a screenshot in {}: {e}", dir.display()))
}

/// Searching for the word finds the page that teaches it.
async fn check_search(
    client: &Client,
    base: &dyn Fn(&str) -> String,
    expect: &Expect,
    problems: &mut Vec<String>,
) -> Result<(), String> {
    let (word, target) = &expect.search;
    open(client, &base("index.html")).await?;
    let toggle = bounded(
        "finding the search button",
        client.find(Locator::Id("mdbook-search-toggle")),
    )
    .await?;
    bounded("opening search", toggle.click()).await?;
    let bar = bounded(
        "finding the search box",
        client.find(Locator::Id("mdbook-searchbar")),
    )
    .await?;
    bounded("typing in the search box", bar.send_keys(word)).await?;
    let found = wait_until(
        client,
        "waiting for search results",
        "return document.querySelectorAll('#mdbook-searchresults a').length > 0",
        Duration::from_secs(10),
    )
    .await?;
    let hrefs = js(client, "reading search results", "return [...document.querySelectorAll('#mdbook-searchresults a')].map(a => a.getAttribute('href'));").await?;
    let hrefs: Vec<&str> = hrefs
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if !found {
        problems.push(format!("search: searching for {word:?} found nothing"));
    } else if !hrefs.iter().any(|h| h.starts_with(target.as_str())) {
        problems.push(format!(
            "search: searching for {word:?} doesn't find {target} (it found {})",
            hrefs.join(", ")
        ));
    }
    Ok(())
}

/// The page's class, its background (mdBook paints it on <html>) and its
/// text colour.
const LOOK: &str = "return [document.documentElement.className, getComputedStyle(document.documentElement).backgroundColor, getComputedStyle(document.querySelector('main') || document.body).color];";

/// Picking a dark theme changes the page's class and its colours; picking
/// light changes them back.
async fn check_themes(
    client: &Client,
    url: &str,
    page: &str,
    shots: Option<&Path>,
    problems: &mut Vec<String>,
) -> Result<(), String> {
    open(client, url).await?;
    let light = js(client, "reading the colours", LOOK).await?;
    for theme in ["navy", "coal", "light"] {
        let shown = "return getComputedStyle(document.getElementById('mdbook-theme-list')).display !== 'none';";
        // The menu stays open after a choice, as it does for a reader.
        if js(client, "looking at the theme menu", shown).await? != Value::Bool(true) {
            let toggle = bounded(
                "finding the theme button",
                client.find(Locator::Id("mdbook-theme-toggle")),
            )
            .await?;
            bounded("opening the theme menu", toggle.click()).await?;
        }
        if !wait_until(
            client,
            "waiting for the theme menu",
            shown,
            Duration::from_secs(5),
        )
        .await?
        {
            problems.push(format!(
                "theme: the theme button didn't open the menu (to pick {theme})"
            ));
            continue;
        }
        let id = format!("mdbook-theme-{theme}");
        let choice = bounded("finding a theme", client.find(Locator::Id(&id))).await?;
        bounded(&format!("picking the {theme} theme"), choice.click()).await?;
        let now = js(client, "reading the colours", LOOK).await?;
        let class = now[0].as_str().unwrap_or("");
        if !class.split(' ').any(|c| c == theme) {
            problems.push(format!(
                "theme: picking {theme} left the page's class {class:?}"
            ));
        }
        let changed = now[1] != light[1] && now[2] != light[2];
        if theme != "light" && !changed {
            problems.push(format!(
                "theme: {theme} didn't change the colours (background {}, text {})",
                now[1], now[2]
            ));
        }
        if theme == "light" && (now[1] != light[1] || now[2] != light[2]) {
            problems.push(format!(
                "theme: back to light, the page looks different: {now} vs {light}"
            ));
        }
        if let Some(dir) = shots.filter(|_| theme != "light") {
            let _ = js(client, "scrolling to the figure", "const f = document.querySelector('main img'); if (f) f.scrollIntoView({block: 'center'}); return true;").await?;
            save_shot(client, dir, page, &format!("-{theme}")).await?;
        }
    }
    Ok(())
}

/// What a first visit to `page` downloads, from the browser's own resource
/// timing (the server sends no-store, so nothing comes from a cache).
async fn weigh(client: &Client, url: &str, page: &str) -> Result<Weight, String> {
    // A fresh navigation, so the resource list is this page's alone.
    open(client, "about:blank").await?;
    open(client, url).await?;
    let entries = js(client, "reading resource timing", "const n = performance.getEntriesByType('navigation')[0]; return [[n.name, n.encodedBodySize]].concat(performance.getEntriesByType('resource').map(r => [r.name, r.encodedBodySize]));").await?;
    let mut weight = Weight {
        page: page.to_string(),
        ..Weight::default()
    };
    for (i, entry) in entries.as_array().into_iter().flatten().enumerate() {
        let name = entry[0].as_str().unwrap_or("");
        let bytes = entry[1].as_u64().unwrap_or(0);
        let path = name.split(['?', '#']).next().unwrap_or("");
        let slot = match path.rsplit('.').next().unwrap_or("") {
            _ if i == 0 => &mut weight.html,
            "css" => &mut weight.css,
            "js" => &mut weight.js,
            "woff2" | "woff" | "ttf" => &mut weight.fonts,
            "svg" | "png" | "jpg" | "ico" => &mut weight.images,
            _ => &mut weight.other,
        };
        *slot += bytes;
    }
    Ok(weight)
}
