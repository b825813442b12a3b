//! The call-sequence figures, drawn once and highlighted per chapter.
//!
//! Every figure in the book (`book/src/images/sequence.svg` for the
//! introduction, `sequence-NN.svg` for chapter NN) comes out of [`svg`], so
//! the pictures can't drift apart: the book's test regenerates them and fails
//! if a committed file differs, and `cargo xtask figures` redraws them
//! ([`book`] says which files the book should have).
//!
//! There are two sequences. The stream call ([`STEPS`]: socket, bind, listen,
//! accept on one side, socket, connect on the other, then talk and hang up)
//! is Parts I and II. The datagram exchange ([`DATAGRAM_STEPS`]: socket and
//! bind, then sendto and recvfrom, no listen and no accept: postcards, not a
//! call) is for the chapters on other kinds of phone. Which step a chapter highlights is not written here
//! but read from the chapter's `syscalls` in course.toml, the one source of
//! truth: the box of the first call the chapter lists that no earlier chapter
//! lit, or, for a chapter that names the whole accept–talk–hang-up cycle, the
//! server's loop.
//!
//! The figures are shown through `<img>`, so they can't see the page's theme.
//! They stay readable on light and dark themes alike by never putting text
//! straight on the (transparent) background: every word sits on its own
//! light card, and lines use a mid grey that shows on white and on navy.

use std::fmt::Write as _;

/// Which side of the call a step belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    Server,
    Client,
}

/// One box in the figure: a system call and its telephone words.
pub struct Step {
    /// A short id, used in the SVG and in test messages.
    pub id: &'static str,
    /// Which system calls this box stands for (matched against course.toml).
    pub syscalls: &'static [&'static str],
    /// The call as printed in the box.
    pub call: &'static str,
    /// The telephone words under it.
    pub words: &'static str,
    pub side: Side,
    /// Which row (top to bottom) the box sits in.
    pub row: usize,
}

/// The call, in the order the introduction tells it. Both sides install a
/// phone, talk and hang up; only the server binds, listens and accepts, and
/// only the client dials.
pub const STEPS: &[Step] = &[
    Step {
        id: "server-socket",
        syscalls: &["socket"],
        call: "socket()",
        words: "install a phone",
        side: Side::Server,
        row: 0,
    },
    Step {
        id: "client-socket",
        syscalls: &["socket"],
        call: "socket()",
        words: "install a phone",
        side: Side::Client,
        row: 0,
    },
    Step {
        id: "server-bind",
        syscalls: &["bind"],
        call: "bind()",
        words: "get a well-known number",
        side: Side::Server,
        row: 1,
    },
    Step {
        id: "server-listen",
        syscalls: &["listen"],
        call: "listen()",
        words: "switch it on so it can ring",
        side: Side::Server,
        row: 2,
    },
    Step {
        id: "server-accept",
        syscalls: &["accept"],
        call: "accept()",
        words: "pick up (waits by the phone)",
        side: Side::Server,
        row: 3,
    },
    Step {
        id: "client-connect",
        syscalls: &["connect"],
        call: "connect()",
        words: "dial the number",
        side: Side::Client,
        row: 3,
    },
    Step {
        id: "server-talk",
        syscalls: &["read", "write", "send", "recv"],
        call: "read() / write()",
        words: "talk and listen",
        side: Side::Server,
        row: 4,
    },
    Step {
        id: "client-talk",
        syscalls: &["read", "write", "send", "recv"],
        call: "write() / read()",
        words: "talk and listen",
        side: Side::Client,
        row: 4,
    },
    Step {
        id: "server-close",
        syscalls: &["close", "shutdown"],
        call: "close()",
        words: "hang up (shutdown(): \u{201c}bye\u{201d})",
        side: Side::Server,
        row: 5,
    },
    Step {
        id: "client-close",
        syscalls: &["close", "shutdown"],
        call: "close()",
        words: "hang up (shutdown(): \u{201c}bye\u{201d})",
        side: Side::Client,
        row: 5,
    },
];

/// The datagram exchange: postcards, not a call. Both sides install a
/// postcard box; only the receiver takes a well-known address (the sender's
/// box gets one from the kernel at its first `sendto()`). There is nothing to
/// switch on or pick up: each `sendto()` is one postcard, each `recvfrom()`
/// takes exactly one and says who sent it. The ids start with `dgram-`, so a
/// highlight in this sequence never equals one in the stream sequence.
pub const DATAGRAM_STEPS: &[Step] = &[
    Step {
        id: "dgram-server-socket",
        syscalls: &["socket"],
        call: "socket()",
        words: "install a postcard box",
        side: Side::Server,
        row: 0,
    },
    Step {
        id: "dgram-client-socket",
        syscalls: &["socket"],
        call: "socket()",
        words: "install a postcard box",
        side: Side::Client,
        row: 0,
    },
    Step {
        id: "dgram-server-bind",
        syscalls: &["bind"],
        call: "bind()",
        words: "get a well-known address",
        side: Side::Server,
        row: 1,
    },
    Step {
        id: "dgram-server-recvfrom",
        syscalls: &["sendto", "recvfrom", "send", "recv"],
        call: "recvfrom()",
        words: "take one postcard, see who sent it",
        side: Side::Server,
        row: 2,
    },
    Step {
        id: "dgram-client-sendto",
        syscalls: &["sendto", "recvfrom", "send", "recv"],
        call: "sendto()",
        words: "post a card to the address",
        side: Side::Client,
        row: 2,
    },
    Step {
        id: "dgram-server-sendto",
        syscalls: &["sendto"],
        call: "sendto()",
        words: "post the reply to the sender",
        side: Side::Server,
        row: 3,
    },
    Step {
        id: "dgram-client-recvfrom",
        syscalls: &["recvfrom"],
        call: "recvfrom()",
        words: "take the reply",
        side: Side::Client,
        row: 3,
    },
    Step {
        id: "dgram-server-close",
        syscalls: &["close"],
        call: "close()",
        words: "take the box off the wall",
        side: Side::Server,
        row: 4,
    },
    Step {
        id: "dgram-client-close",
        syscalls: &["close"],
        call: "close()",
        words: "take the box off the wall",
        side: Side::Client,
        row: 4,
    },
];

/// Which picture a figure draws: the stream call or the datagram exchange.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Sequence {
    /// socket, bind, listen, accept / socket, connect; talk; hang up.
    #[default]
    Stream,
    /// socket, bind / socket; sendto, recvfrom; close.
    Datagram,
}

/// An arrow between the two sides: a ring, bytes, a postcard.
struct Exchange {
    row: usize,
    /// Who sends; `None` for a conversation that flows both ways.
    from: Option<Side>,
    label: &'static str,
}

/// Everything that differs between the two pictures.
struct Layout {
    steps: &'static [Step],
    lanes: [&'static str; 2],
    exchanges: &'static [Exchange],
    /// The server's way back for the next caller: from the row of its last
    /// step to the row it loops back to, and the words on it.
    back: Option<(usize, usize, &'static str)>,
    rows: usize,
}

impl Sequence {
    /// The boxes of this sequence, in the order the figure draws them.
    pub fn steps(self) -> &'static [Step] {
        self.layout().steps
    }

    fn layout(self) -> Layout {
        match self {
            Sequence::Stream => Layout {
                steps: STEPS,
                lanes: [
                    "the server: waits to be called",
                    "the client: makes the call",
                ],
                exchanges: &[
                    Exchange {
                        row: 3,
                        from: Some(Side::Client),
                        label: "ring!",
                    },
                    Exchange {
                        row: 4,
                        from: None,
                        label: "bytes",
                    },
                ],
                back: Some((3, 5, "next caller")),
                rows: 6,
            },
            Sequence::Datagram => Layout {
                steps: DATAGRAM_STEPS,
                lanes: ["the receiver: waits for post", "the sender: posts a card"],
                exchanges: &[
                    Exchange {
                        row: 2,
                        from: Some(Side::Client),
                        label: "a postcard",
                    },
                    Exchange {
                        row: 3,
                        from: Some(Side::Server),
                        label: "the reply",
                    },
                ],
                back: None,
                rows: 5,
            },
        }
    }
}

/// What a figure highlights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Highlight {
    /// The introduction: nothing stands out.
    Nothing,
    /// These steps (both sides of one step of the call).
    Steps(Vec<&'static str>),
    /// The server's loop (accept, talk, hang up) and the way back to accept().
    ServerLoop(Vec<&'static str>),
}

impl Highlight {
    fn lit(&self, id: &str) -> bool {
        match self {
            Highlight::Nothing => false,
            Highlight::Steps(ids) | Highlight::ServerLoop(ids) => ids.contains(&id),
        }
    }
    fn lit_loop(&self) -> bool {
        matches!(self, Highlight::ServerLoop(_))
    }
}

/// Each chapter's highlight, in course order, from each chapter's
/// course.toml `syscalls` (see [`highlight_for`]), all in the stream call.
pub fn course_highlights(chapters: &[&[String]]) -> Vec<Highlight> {
    let listed: Vec<(Sequence, &[String])> =
        chapters.iter().map(|c| (Sequence::Stream, *c)).collect();
    highlights(&listed)
}

/// Each chapter's highlight, in course order, each in its own sequence. A
/// highlight remembers only step ids, and the two sequences' ids differ, so
/// a datagram chapter's socket() is new even after a stream chapter's.
pub fn highlights(chapters: &[(Sequence, &[String])]) -> Vec<Highlight> {
    let mut out = Vec::new();
    for (sequence, syscalls) in chapters {
        let lit = highlight_in(*sequence, syscalls, &out);
        out.push(lit);
    }
    out
}

/// The highlight in the stream call for a chapter whose course.toml
/// `syscalls` are `syscalls`, after the chapters that lit `earlier`.
///
/// A chapter lights the new step it teaches: the box of the first call it
/// lists that no earlier chapter lit. Chapter 4 lists `socket` before
/// `connect` (a caller installs a phone too), but chapter 1 already lit
/// `socket`, so chapter 4 lights `connect`; chapter 1 lists `close` only to
/// clean up, after `socket`. A chapter that names the loop's every step
/// (accept, a conversation call, a hang-up call) is about the server as a
/// whole, and lights the server's loop instead.
pub fn highlight_for(syscalls: &[String], earlier: &[Highlight]) -> Highlight {
    highlight_in(Sequence::Stream, syscalls, earlier)
}

/// [`highlight_for`] in either sequence. The datagram exchange has no loop
/// to light: a chapter lights the first box its calls name that no earlier
/// chapter lit (for `sendto`, the postcard's two ends: sendto and recvfrom).
pub fn highlight_in(sequence: Sequence, syscalls: &[String], earlier: &[Highlight]) -> Highlight {
    let steps = sequence.steps();
    let names = |step: &Step| {
        step.syscalls
            .iter()
            .any(|s| syscalls.iter().any(|c| c == s))
    };
    let named: Vec<&Step> = steps.iter().filter(|s| names(s)).collect();
    let has = |id: &str| named.iter().any(|s| s.id == id);
    let looped = ["server-accept", "server-talk", "server-close"];
    if sequence == Sequence::Stream && looped.iter().all(|id| has(id)) {
        // The loop is the same whatever else the chapter lists (installing,
        // numbering, options): those happen once, before the loop.
        return Highlight::ServerLoop(looped.to_vec());
    }
    // Each listed call's box, with its twin on the other side when both
    // sides make that call (same calls, same row).
    let boxes: Vec<Highlight> = syscalls
        .iter()
        .filter_map(|call| steps.iter().find(|s| s.syscalls.contains(&call.as_str())))
        .map(|first| {
            let twins = steps
                .iter()
                .filter(|s| s.row == first.row && s.syscalls == first.syscalls)
                .map(|s| s.id);
            Highlight::Steps(twins.collect())
        })
        .collect();
    // The first box no earlier chapter lit; if all were, the first box.
    let pick = boxes.iter().position(|b| !earlier.contains(b)).unwrap_or(0);
    boxes.into_iter().nth(pick).unwrap_or(Highlight::Nothing)
}

// The geometry, in SVG user units (the figure scales with the page).
const WIDTH: u32 = 760;
const BOX_W: u32 = 270;
const BOX_H: u32 = 54;
const SERVER_X: u32 = 80;
const CLIENT_X: u32 = 450;
const TOP: u32 = 74;
const ROW_GAP: u32 = 84;

// Colours chosen to read on white (light, rust) and on near-black (coal,
// navy, ayu): text only ever sits on a card of its own.
const LINE: &str = "#8a94a6";
const CARD: &str = "#eef2f7";
const CARD_EDGE: &str = "#7b8794";
const INK: &str = "#1f2933";
const LIT: &str = "#ffc857";
const LIT_EDGE: &str = "#b7791f";

fn box_x(side: Side) -> u32 {
    match side {
        Side::Server => SERVER_X,
        Side::Client => CLIENT_X,
    }
}

fn row_y(row: usize) -> u32 {
    TOP + ROW_GAP * row as u32
}

/// The stream call's SVG text for `highlight`, with `title` and `desc` for
/// screen readers that open the file itself.
pub fn svg(highlight: &Highlight, title: &str, desc: &str) -> String {
    svg_of(Sequence::Stream, highlight, title, desc)
}

/// The SVG text of `sequence`'s figure with `highlight` lit.
pub fn svg_of(sequence: Sequence, highlight: &Highlight, title: &str, desc: &str) -> String {
    let layout = sequence.layout();
    let height = row_y(layout.rows) + 46;
    let mut s = String::new();
    // `write!` to a String cannot fail; the results are ignored for brevity.
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-labelledby="title desc" font-family="'DejaVu Sans', 'Open Sans', Arial, sans-serif">"#
    );
    let _ = writeln!(s, "  <title id=\"title\">{}</title>", escape(title));
    let _ = writeln!(s, "  <desc id=\"desc\">{}</desc>", escape(desc));
    let _ = writeln!(
        s,
        r#"  <defs>
    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{LINE}"/></marker>
    <marker id="arrow-lit" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="4" markerHeight="4" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{LIT_EDGE}"/></marker>
  </defs>"#
    );
    lane_heading(&mut s, SERVER_X, layout.lanes[0]);
    lane_heading(&mut s, CLIENT_X, layout.lanes[1]);
    lifelines(&mut s, layout.steps);
    for exchange in layout.exchanges {
        connection(&mut s, exchange);
    }
    if let Some(back) = layout.back {
        server_loop(&mut s, back, highlight.lit_loop());
    }
    for step in layout.steps {
        step_box(&mut s, step, highlight.lit(step.id));
    }
    legend(&mut s, highlight, height);
    s.push_str("</svg>\n");
    s
}

fn lane_heading(s: &mut String, x: u32, text: &str) {
    let _ = writeln!(
        s,
        r#"  <g class="lane"><rect x="{x}" y="16" width="{BOX_W}" height="30" rx="15" fill="{INK}" stroke="{CARD_EDGE}"/><text x="{}" y="36" text-anchor="middle" font-size="15" font-weight="bold" fill="{CARD}">{}</text></g>"#,
        x + BOX_W / 2,
        escape(text)
    );
}

/// The vertical lines that carry each side from one step to the next.
fn lifelines(s: &mut String, steps: &[Step]) {
    for side in [Side::Server, Side::Client] {
        let rows: Vec<usize> = steps
            .iter()
            .filter(|st| st.side == side)
            .map(|st| st.row)
            .collect();
        let x = box_x(side) + BOX_W / 2;
        for pair in rows.windows(2).filter(|p| p[0] != p[1]) {
            let (from, to) = (row_y(pair[0]) + BOX_H, row_y(pair[1]));
            let _ = writeln!(
                s,
                r#"  <line x1="{x}" y1="{from}" x2="{x}" y2="{}" stroke="{LINE}" stroke-width="2" marker-end="url(#arrow)"/>"#,
                to - 2
            );
        }
    }
}

/// One horizontal exchange between the sides (the client's dial ringing the
/// server, the conversation flowing both ways, a postcard), with its word.
fn connection(s: &mut String, exchange: &Exchange) {
    let (left, right) = (SERVER_X + BOX_W + 4, CLIENT_X - 4);
    let y = row_y(exchange.row) + BOX_H / 2;
    let (x1, x2, start) = match exchange.from {
        Some(Side::Client) => (right, left, ""),
        Some(Side::Server) => (left, right, ""),
        None => (left, right, r#" marker-start="url(#arrow)""#),
    };
    let _ = writeln!(
        s,
        r#"  <line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{LINE}" stroke-width="2.5"{start} marker-end="url(#arrow)"/>"#
    );
    pill(s, (left + right) / 2, y - 14, exchange.label);
}

/// The dashed path from the server's last step back to an earlier one: the
/// next caller.
fn server_loop(s: &mut String, (to, from, words): (usize, usize, &str), lit: bool) {
    let (top, bottom) = (row_y(to) + BOX_H / 2, row_y(from) + BOX_H / 2);
    let (stroke, marker, width) = if lit {
        (LIT_EDGE, "arrow-lit", 3.5)
    } else {
        (LINE, "arrow", 2.0)
    };
    let _ = writeln!(
        s,
        r#"  <path class="loop" d="M{SERVER_X},{bottom} H40 V{top} H{}" fill="none" stroke="{stroke}" stroke-width="{width}" stroke-dasharray="7 5" marker-end="url(#{marker})"/>"#,
        SERVER_X - 2
    );
    let mid = (top + bottom) / 2;
    let _ = writeln!(
        s,
        r#"  <g transform="rotate(-90 40 {mid})">{}</g>"#,
        pill_text(40, mid - 2, words, lit)
    );
}

fn step_box(s: &mut String, step: &Step, lit: bool) {
    let (x, y) = (box_x(step.side), row_y(step.row));
    let (fill, edge, width) = if lit {
        (LIT, LIT_EDGE, 3.5)
    } else {
        (CARD, CARD_EDGE, 1.5)
    };
    let class = if lit { "step lit" } else { "step" };
    let cx = x + BOX_W / 2;
    let _ = writeln!(
        s,
        r#"  <g class="{class}" id="{}"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="9" fill="{fill}" stroke="{edge}" stroke-width="{width}"/><text x="{cx}" y="{}" text-anchor="middle" font-family="'DejaVu Sans Mono', monospace" font-size="17" font-weight="bold" fill="{INK}">{}</text><text x="{cx}" y="{}" text-anchor="middle" font-size="13.5" fill="{INK}">{}</text></g>"#,
        step.id,
        y + 23,
        escape(step.call),
        y + 43,
        escape(step.words)
    );
}

fn pill(s: &mut String, cx: u32, cy: u32, text: &str) {
    let _ = writeln!(s, "  {}", pill_text(cx, cy, text, false));
}

/// A word on its own card, so it reads on any theme's background.
fn pill_text(cx: u32, cy: u32, text: &str, lit: bool) -> String {
    // About 7.5 units per character at 13px, plus padding. Signed, because a
    // pill drawn before a rotation may start left of the origin.
    let (cx, cy) = (i64::from(cx), i64::from(cy));
    let w = text.chars().count() as i64 * 15 / 2 + 16;
    let fill = if lit { LIT } else { CARD };
    format!(
        r#"<rect x="{}" y="{}" width="{w}" height="22" rx="11" fill="{fill}" stroke="{CARD_EDGE}"/><text x="{cx}" y="{}" text-anchor="middle" font-size="13" fill="{INK}">{}</text>"#,
        cx - w / 2,
        cy - 11,
        cy + 4,
        escape(text)
    )
}

fn legend(s: &mut String, highlight: &Highlight, height: u32) {
    let text = match highlight {
        Highlight::Nothing => {
            "time runs downwards; each box: the system call, then the telephone words"
        }
        Highlight::Steps(_) => "highlighted: this chapter's step of the call",
        Highlight::ServerLoop(_) => {
            "highlighted: the server's whole loop, one caller after another"
        }
    };
    let _ = writeln!(
        s,
        "  {}",
        pill_text(
            WIDTH / 2,
            height - 18,
            text,
            !matches!(highlight, Highlight::Nothing)
        )
    );
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The introduction's figure: the whole call, nothing highlighted.
pub fn intro() -> String {
    svg(
        &Highlight::Nothing,
        "The call sequence",
        "The server installs a phone with socket(), gets a well-known number with bind(), switches it on with listen() and picks up with accept(). The client installs a phone with socket() and dials with connect(). Then both talk with read() and write() and hang up with close(); the server loops back to accept() for the next caller.",
    )
}

/// The postcards' overview, nothing highlighted: Part III's opening page
/// shows it beside the stream call's ([`intro`]), so the two sequences are
/// seen side by side, drawn by the same code.
pub fn datagram_intro() -> String {
    svg_of(
        Sequence::Datagram,
        &Highlight::Nothing,
        "The postcard sequence",
        DATAGRAM_DESC,
    )
}

/// Each sequence's overview figure, nothing highlighted, by file name under
/// `book/src/images/`: the stream call (the introduction's) and the
/// postcards. A part's opening page shows them all.
pub fn overviews() -> Vec<(String, String)> {
    vec![
        ("sequence.svg".to_string(), intro()),
        ("sequence-datagram.svg".to_string(), datagram_intro()),
    ]
}

/// What the stream figure shows, for its description.
const STREAM_DESC: &str = "The server installs a phone with socket(), gets a number with bind(), switches it on with listen() and picks up with accept(); the client installs a phone with socket() and dials with connect(); then both talk with read() and write() and hang up with close().";

/// What the datagram figure shows, for its description.
const DATAGRAM_DESC: &str = "The receiver installs a postcard box with socket() and gets a well-known address with bind(); the sender installs one with socket() and needs no bind(). The sender posts one postcard with sendto(); the receiver takes exactly one with recvfrom(), which also says who sent it, and posts the reply back with sendto(); the sender takes it with recvfrom(). Both close() their boxes. There is no listen() and no accept(): nobody picks up.";

/// Chapter `number`'s figure with `highlight` (from [`course_highlights`]).
pub fn chapter(number: u32, highlight: &Highlight) -> String {
    chapter_in(Sequence::Stream, number, highlight)
}

/// Chapter `number`'s figure of `sequence` with `highlight` (from
/// [`highlights`]).
pub fn chapter_in(sequence: Sequence, number: u32, highlight: &Highlight) -> String {
    let lit: Vec<&str> = match highlight {
        Highlight::Nothing => Vec::new(),
        Highlight::Steps(ids) | Highlight::ServerLoop(ids) => ids
            .iter()
            .filter_map(|id| sequence.steps().iter().find(|s| s.id == *id))
            .map(|s| s.call)
            .collect(),
    };
    let mut unique = lit.clone();
    unique.dedup();
    let what = match highlight {
        Highlight::ServerLoop(_) => format!(
            "This chapter's part, the server's whole loop ({}), then back to accept() for the next caller, is highlighted.",
            unique.join(", ")
        ),
        _ => format!("This chapter's step, {}, is highlighted.", unique.join(", ")),
    };
    let (name, shows) = match sequence {
        Sequence::Stream => ("The call sequence", STREAM_DESC),
        Sequence::Datagram => ("The postcard sequence", DATAGRAM_DESC),
    };
    svg_of(
        sequence,
        highlight,
        &format!("{name}, chapter {number}"),
        &format!("{shows} {what}"),
    )
}

/// Every figure the book should have, by file name under
/// `book/src/images/`: the [`overviews`] and one per chapter of `course`,
/// each lit as [`course_highlights`] says.
pub fn book(course: &dialtone_kit::course::Course) -> Vec<(String, String)> {
    let mut out = overviews();
    let listed: Vec<(Sequence, &[String])> = course
        .chapters
        .iter()
        .map(|c| (sequence_of(&c.syscalls), &c.syscalls[..]))
        .collect();
    let lit = highlights(&listed);
    for ((ch, (sequence, _)), highlight) in course.chapters.iter().zip(&listed).zip(&lit) {
        out.push((
            format!("sequence-{:02}.svg", ch.number),
            chapter_in(*sequence, ch.number, highlight),
        ));
    }
    out
}

/// Which picture a chapter's figure draws, from its course.toml `syscalls`:
/// postcards (`sendto` or `recvfrom`, with no `listen` or `accept`) are the
/// datagram exchange; everything else is the stream call.
pub fn sequence_of(syscalls: &[String]) -> Sequence {
    let lists = |call: &str| syscalls.iter().any(|c| c == call);
    let posts = lists("sendto") || lists("recvfrom");
    let calls = lists("listen") || lists("accept");
    if posts && !calls {
        Sequence::Datagram
    } else {
        Sequence::Stream
    }
}

#[cfg(test)]
mod tests;
