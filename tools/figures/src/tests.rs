//! The figure generator's own tests: the datagram sequence is drawn and lit
//! as the stream one is, without the calls a datagram never makes.

use super::*;

fn calls(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The ids of the boxes drawn lit in `svg`.
fn lit_ids(svg: &str) -> Vec<&str> {
    svg.match_indices(r#"<g class="step lit" id=""#)
        .map(|(i, m)| {
            let rest = &svg[i + m.len()..];
            &rest[..rest.find('"').expect("the id is quoted")]
        })
        .collect()
}

/// Every box's call, as drawn.
fn drawn_calls(svg: &str) -> Vec<&str> {
    svg.match_indices(r##"font-size="17" font-weight="bold" fill="#1f2933">"##)
        .map(|(i, m)| {
            let rest = &svg[i + m.len()..];
            &rest[..rest.find('<').expect("the text ends")]
        })
        .collect()
}

#[test]
fn the_datagram_sequence_has_no_listen_or_accept() {
    let svg = chapter_in(Sequence::Datagram, 9, &Highlight::Nothing);
    let drawn = drawn_calls(&svg);
    for call in ["socket()", "bind()", "sendto()", "recvfrom()", "close()"] {
        assert!(drawn.contains(&call), "{call} missing from {drawn:?}");
    }
    for call in ["listen()", "accept()", "connect()"] {
        assert!(!drawn.contains(&call), "a datagram figure draws {call}");
    }
    assert!(
        svg.contains("a postcard") && !svg.contains("ring!"),
        "{svg}"
    );
    assert!(
        !svg.contains(r#"class="loop""#),
        "no one is picked up: no loop"
    );
    // Only the receiver binds: the sender's box is numbered by the kernel.
    let binds: Vec<&Step> = DATAGRAM_STEPS
        .iter()
        .filter(|s| s.call == "bind()")
        .collect();
    assert_eq!(binds.len(), 1);
    assert_eq!(binds[0].side, Side::Server);
}

#[test]
fn sendto_lights_the_postcard_on_both_sides() {
    let lit = highlight_in(Sequence::Datagram, &calls(&["sendto", "recvfrom"]), &[]);
    assert_eq!(
        lit,
        Highlight::Steps(vec!["dgram-server-recvfrom", "dgram-client-sendto"])
    );
    let svg = chapter_in(Sequence::Datagram, 9, &lit);
    assert_eq!(
        lit_ids(&svg),
        ["dgram-server-recvfrom", "dgram-client-sendto"],
        "exactly the lit boxes are drawn lit"
    );
    assert!(
        svg.contains("recvfrom(), sendto(), is highlighted"),
        "{svg}"
    );
}

#[test]
fn a_datagram_chapter_lights_its_first_new_step() {
    let course = [
        calls(&["socket", "bind", "sendto", "recvfrom"]),
        calls(&["socket", "bind", "sendto", "recvfrom"]),
        calls(&["socket", "sendto", "recvfrom", "close"]),
    ];
    let listed: Vec<(Sequence, &[String])> = course
        .iter()
        .map(|c| (Sequence::Datagram, &c[..]))
        .collect();
    assert_eq!(
        highlights(&listed),
        [
            Highlight::Steps(vec!["dgram-server-socket", "dgram-client-socket"]),
            Highlight::Steps(vec!["dgram-server-bind"]),
            Highlight::Steps(vec!["dgram-server-recvfrom", "dgram-client-sendto"]),
        ]
    );
}

#[test]
fn a_datagram_socket_is_new_after_a_stream_socket() {
    let socket = calls(&["socket"]);
    let lit = highlights(&[(Sequence::Stream, &socket), (Sequence::Datagram, &socket)]);
    assert_eq!(
        lit[0],
        Highlight::Steps(vec!["server-socket", "client-socket"])
    );
    assert_eq!(
        lit[1],
        Highlight::Steps(vec!["dgram-server-socket", "dgram-client-socket"])
    );
    // A stream figure lights nothing for a datagram highlight, and back.
    assert!(lit_ids(&chapter_in(Sequence::Stream, 1, &lit[1])).is_empty());
    assert!(lit_ids(&chapter_in(Sequence::Datagram, 1, &lit[0])).is_empty());
}

#[test]
fn the_stream_loop_is_lit_only_in_the_stream_sequence() {
    let service = calls(&["accept", "read", "write", "close", "recvfrom", "sendto"]);
    assert!(matches!(
        highlight_in(Sequence::Stream, &service, &[]),
        Highlight::ServerLoop(_)
    ));
    assert!(matches!(
        highlight_in(Sequence::Datagram, &service, &[]),
        Highlight::Steps(_)
    ));
    let svg = chapter_in(Sequence::Stream, 8, &highlight_for(&service, &[]));
    assert!(svg.contains(r#"<path class="loop""#) && svg.contains("arrow-lit"));
}

#[test]
fn every_figure_is_a_whole_svg_with_its_words_escaped() {
    for sequence in [Sequence::Stream, Sequence::Datagram] {
        let svg = svg_of(sequence, &Highlight::Nothing, "a <b> & \"c\"", "d");
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("a &lt;b&gt; &amp; &quot;c&quot;"), "{svg}");
        assert_eq!(
            svg.matches("<g class=\"step").count(),
            sequence.steps().len()
        );
    }
}

/// The book's figures follow course.toml: the overviews (nothing lit, the
/// stream call's first: the introduction's), then one per chapter, each
/// chapter's lit.
#[test]
fn the_book_has_a_figure_per_chapter() {
    let course = dialtone_kit::course::course();
    let figures = book(course);
    let overviews = overviews();
    assert_eq!(figures.len(), course.chapters.len() + overviews.len());
    assert_eq!(figures[0].0, "sequence.svg");
    for (name, svg) in &figures[..overviews.len()] {
        assert!(
            lit_ids(svg).is_empty(),
            "{name}: an overview lights nothing"
        );
    }
    assert!(
        figures[1].1.contains("dgram-server-recvfrom"),
        "the second overview is the postcards'"
    );
    for (ch, (name, svg)) in course.chapters.iter().zip(&figures[overviews.len()..]) {
        assert_eq!(*name, format!("sequence-{:02}.svg", ch.number));
        assert!(
            !lit_ids(svg).is_empty() || svg.contains("arrow-lit"),
            "{name}"
        );
    }
}

/// A chapter that posts cards and never listens gets the postcard figure,
/// lit where its first postcard goes; a chapter with calls keeps the
/// stream one.
#[test]
fn postcard_chapters_get_the_postcard_figure() {
    let postcards = calls(&["recvfrom", "sendto", "connect", "socket", "bind"]);
    assert_eq!(sequence_of(&postcards), Sequence::Datagram);
    assert_eq!(
        sequence_of(&calls(&["accept", "recvfrom", "sendto"])),
        Sequence::Stream
    );
    assert_eq!(sequence_of(&calls(&["socket", "bind"])), Sequence::Stream);
    let course = dialtone_kit::course::course();
    let figures = book(course);
    for ch in &course.chapters {
        let name = format!("sequence-{:02}.svg", ch.number);
        let (_, svg) = figures
            .iter()
            .find(|(n, _)| *n == name)
            .expect("every chapter has its figure");
        if sequence_of(&ch.syscalls) == Sequence::Datagram {
            let lit = lit_ids(svg);
            assert!(
                !lit.is_empty() && lit.iter().all(|id| id.starts_with("dgram-")),
                "{name}: {lit:?}"
            );
        }
    }
}
