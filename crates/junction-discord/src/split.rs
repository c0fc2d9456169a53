//! Splitting an answer into Discord messages.
//!
//! Discord refuses a message longer than [`DISCORD_LIMIT`] characters, and a model's answer is
//! often longer. [`split_message`] cuts it into pieces that each fit, at the places a reader
//! would choose:
//!
//! - Length is counted in characters (Unicode scalar values), as Discord counts it; a cut
//!   never falls inside a character.
//! - A piece ends at the best boundary in the room it has: a blank line, else a line break,
//!   else the end of a sentence (`.`, `!` or `?` then whitespace), else a space; the latest
//!   one of that kind. A boundary that would leave the piece under a third of the limit is
//!   passed over for the next kind, so pieces stay large. A word is cut in its middle only
//!   when there is nothing else.
//! - A fenced code block (from a line starting with ```` ``` ```` to the next such line, or
//!   to the end of the text while an answer is still streaming) is kept whole: the piece ends
//!   before it rather than inside it. Only a block longer than a whole message is cut, between
//!   its lines, each part closed with ```` ``` ```` and the next reopened with the block's own
//!   fence line (say ```` ```rust ````), so every message renders as code on its own. Those
//!   fence lines count toward the limit; indentation inside code is kept exactly.
//! - Nothing is lost or reordered: a cut drops only whitespace, and only those fence lines are
//!   added. A piece never ends with whitespace or starts with a blank line, nor, outside code,
//!   with spaces. Text of nothing but whitespace gives no piece at all.

/// Discord's limit on a message's content, in characters (Unicode scalar values, as Discord counts them).
pub const DISCORD_LIMIT: usize = 2000;

/// The line that closes a code block cut at the end of a piece.
const CLOSING_FENCE: &str = "```";

/// Splits `text` into pieces of at most `limit` characters each, cut at paragraph, line,
/// sentence or word boundaries, and inside a code block only when the block could not fit in a
/// message of its own (then each part is fenced again). The rules are in the module docs.
/// Whitespace-only text gives no pieces; a `limit` of 0 is taken as 1.
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    split_into_pieces(text, limit)
        .into_iter()
        .map(Piece::render)
        .collect()
}

/// One message: its share of the input, and the fence lines that make a cut code block render.
struct Piece<'a> {
    /// The fence line of a code block cut at the end of the previous piece, repeated to reopen it.
    reopen: Option<&'a str>,
    /// The input from one cut to the next, trimmed.
    body: String,
    /// A code block is cut at the end of this piece and needs closing.
    close: bool,
}

impl Piece<'_> {
    fn render(self) -> String {
        let mut text = String::new();
        if let Some(fence) = self.reopen {
            text.push_str(fence);
            text.push('\n');
        }
        text.push_str(&self.body);
        if self.close {
            text.push('\n');
            text.push_str(CLOSING_FENCE);
        }
        text
    }
}

fn split_into_pieces(text: &str, limit: usize) -> Vec<Piece<'_>> {
    let mut splitter = Splitter::new(limit.max(1));
    for block in blocks(text) {
        match block {
            Block::Prose(prose) => splitter.push_prose(prose),
            Block::Code { fence, text } => splitter.push_code(fence, text),
        }
    }
    splitter.finish_piece(false);
    splitter.done
}

/// A stretch of the input: prose, or a fenced code block from its opening fence line through
/// its closing one (or to the end of the text when it is never closed).
enum Block<'a> {
    Prose(&'a str),
    Code { fence: &'a str, text: &'a str },
}

fn blocks(text: &str) -> Vec<Block<'_>> {
    let slice = |start: usize, end: usize| text.get(start..end).unwrap_or_default();
    let mut blocks = Vec::new();
    let mut prose_start = 0;
    // Where the open code block starts, and its fence line.
    let mut open: Option<(usize, &str)> = None;
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        if is_fence(line) {
            match open.take() {
                None => {
                    blocks.push(Block::Prose(slice(prose_start, line_start)));
                    open = Some((line_start, line.trim()));
                }
                Some((start, fence)) => {
                    // The line break after the closing fence goes with the prose that follows:
                    // it separates the two should they share a piece.
                    let end = line_start + line.trim_end().len();
                    blocks.push(Block::Code {
                        fence,
                        text: slice(start, end),
                    });
                    prose_start = end;
                }
            }
        }
        line_start += line.len();
    }
    blocks.push(match open {
        Some((start, fence)) => Block::Code {
            fence,
            text: slice(start, text.len()),
        },
        None => Block::Prose(slice(prose_start, text.len())),
    });
    blocks
}

/// Whether `line` opens or closes a code block. A line that is a whole block by itself
/// (```` ```x``` ````) does neither: it is prose that is never cut in the middle anyway.
fn is_fence(line: &str) -> bool {
    let line = line.trim();
    line.starts_with("```") && !(line.len() > 6 && line.ends_with("```"))
}

/// Fills pieces block by block; the piece being filled is `reopen` + `body`.
struct Splitter<'a> {
    limit: usize,
    done: Vec<Piece<'a>>,
    reopen: Option<&'a str>,
    body: String,
    /// Characters in the piece being filled, a reopening fence line included.
    used: usize,
}

impl<'a> Splitter<'a> {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            done: Vec::new(),
            reopen: None,
            body: String::new(),
            used: 0,
        }
    }

    fn room(&self) -> usize {
        self.limit.saturating_sub(self.used)
    }

    fn piece_is_empty(&self) -> bool {
        self.body.is_empty() && self.reopen.is_none()
    }

    /// `text` as it would join the piece: a piece starts with neither whitespace nor a blank
    /// line, except that code continuing after a reopening fence keeps its indentation.
    fn joining<'t>(&self, text: &'t str) -> &'t str {
        if self.piece_is_empty() {
            text.trim_start()
        } else {
            text
        }
    }

    /// Whether `text` fits in the room left. Whitespace at its end does not count: it is
    /// trimmed if the piece ends there, and counted when something follows it.
    fn fits(&self, text: &str) -> bool {
        at_most(self.joining(text).trim_end(), self.room())
    }

    fn push(&mut self, text: &str) {
        let text = self.joining(text);
        self.body.push_str(text);
        self.used += text.chars().count();
    }

    fn reopen(&mut self, fence: &'a str) {
        self.reopen = Some(fence);
        self.used += fence.chars().count() + 1;
    }

    fn finish_piece(&mut self, close: bool) {
        let body = self.body.trim_end();
        if !body.is_empty() {
            self.done.push(Piece {
                reopen: self.reopen,
                body: body.to_owned(),
                close,
            });
        }
        self.body.clear();
        self.reopen = None;
        self.used = 0;
    }

    fn push_prose(&mut self, prose: &str) {
        let mut rest = prose;
        loop {
            rest = self.joining(rest);
            if self.fits(rest) {
                self.push(rest);
                return;
            }
            // A piece already holding enough (a code block) may end right here.
            let shortest = if self.piece_is_empty() {
                (self.limit / 3).max(1)
            } else {
                (self.limit / 3).saturating_sub(self.used)
            };
            let room = self.room();
            let cut = prose_cut(rest, room, shortest)
                .or_else(|| self.piece_is_empty().then(|| byte_offset(rest, room)));
            match cut {
                Some(cut) => {
                    let (head, tail) = rest.split_at(cut);
                    self.push(head);
                    self.finish_piece(false);
                    rest = tail;
                }
                // No boundary in what is left of a piece that already has something: rather
                // than cut a word, start the next piece.
                None => self.finish_piece(false),
            }
        }
    }

    fn push_code(&mut self, fence: &'a str, block: &str) {
        let block = block.trim_end();
        if self.fits(block) {
            self.push(block);
            return;
        }
        // Rather than cut a block that fits in a message of its own, end the piece before it;
        // likewise when too little is left of this piece to be worth starting a long block in.
        if !self.piece_is_empty()
            && (at_most(block.trim_start(), self.limit) || self.room() < self.limit / 3)
        {
            self.finish_piece(false);
            if self.fits(block) {
                self.push(block);
                return;
            }
        }
        // Each part of a cut block spends a reopening and a closing fence line. Should they
        // crowd out the code (tiny limit, huge fence line), the block is cut as prose instead.
        let fences = fence.chars().count() + 1 + 1 + CLOSING_FENCE.len();
        if fences * 2 > self.limit {
            self.push_prose(block);
            return;
        }
        let mut rest = block;
        let mut first_part = true;
        loop {
            if first_part {
                rest = self.joining(rest);
            } else {
                self.reopen(fence);
                rest = skip_blank_lines(rest);
            }
            if self.fits(rest) {
                self.push(rest);
                return;
            }
            // The first part holds the opening fence line, and code after it.
            let code_start = if first_part {
                rest.find('\n').map_or(rest.len(), |at| at + 1)
            } else {
                0
            };
            let budget = self.room().saturating_sub(1 + CLOSING_FENCE.len());
            match code_cut(rest, budget, code_start) {
                Some(cut) => {
                    let (head, tail) = rest.split_at(cut);
                    self.push(head);
                    self.finish_piece(true);
                    rest = tail;
                    first_part = false;
                }
                // Not even one line fits after what the piece already holds: start a new one.
                None if first_part && !self.piece_is_empty() => self.finish_piece(false),
                // Not even one character of code fits (a line indented past the limit): there
                // is no sensible code block to make, so the rest goes as prose.
                None => {
                    self.finish_piece(false);
                    self.push_prose(rest);
                    return;
                }
            }
        }
    }
}

/// The kinds of place to cut prose at, best first.
#[derive(Clone, Copy)]
enum Boundary {
    Paragraph,
    Line,
    Sentence,
    Word,
}

/// Where to cut `prose` so that what comes before holds at most `room` characters: at the
/// whitespace of the best kind of boundary there, the latest of that kind, with at least
/// `shortest` characters before it. `None` when there is no boundary at all.
fn prose_cut(prose: &str, room: usize, shortest: usize) -> Option<usize> {
    let mut latest: [Option<usize>; 4] = [None; 4];
    let mut previous = None;
    // The whitespace right after the room still counts: what is before it fits.
    for (count, (at, c)) in prose
        .char_indices()
        .enumerate()
        .take(room.saturating_add(1))
    {
        if count >= shortest && c.is_whitespace() {
            let boundary = if c == '\n' {
                let after = prose.get(at + 1..).unwrap_or_default();
                let next_line = after.split('\n').next().unwrap_or_default();
                if next_line.trim().is_empty() {
                    Boundary::Paragraph
                } else {
                    Boundary::Line
                }
            } else if matches!(previous, Some('.' | '!' | '?')) {
                Boundary::Sentence
            } else {
                Boundary::Word
            };
            latest[boundary as usize] = Some(at);
        }
        previous = Some(c);
    }
    latest.into_iter().flatten().next()
}

/// Where to end a part of a code block too long for one message: at the last line break
/// within `budget` characters, or after exactly `budget` characters when no line break is
/// there (a line longer than a message). The part must hold some code past `code_start`
/// (past its opening fence line); `None` when it cannot.
fn code_cut(code: &str, budget: usize, code_start: usize) -> Option<usize> {
    let after_start = code.get(code_start..)?;
    let (offset, first) = after_start
        .char_indices()
        .find(|(_, c)| !c.is_whitespace())?;
    let shortest = code_start + offset + first.len_utf8();
    let mut cut = None;
    for (count, (at, c)) in code
        .char_indices()
        .enumerate()
        .take(budget.saturating_add(1))
    {
        if at >= shortest && (c == '\n' || (count == budget && cut.is_none())) {
            cut = Some(at);
        }
    }
    cut
}

/// `code` from its first line that is not blank, indentation intact.
fn skip_blank_lines(code: &str) -> &str {
    let mut rest = code;
    while let Some((line, after)) = rest.split_once('\n') {
        if !line.trim().is_empty() {
            break;
        }
        rest = after;
    }
    rest
}

/// Whether `text` has at most `n` characters, without counting past them.
fn at_most(text: &str, n: usize) -> bool {
    text.chars().nth(n).is_none()
}

/// The byte offset of the character after the first `n` (the length when there are fewer).
fn byte_offset(text: &str, n: usize) -> usize {
    text.char_indices().nth(n).map_or(text.len(), |(at, _)| at)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn chars(text: &str) -> usize {
        text.chars().count()
    }

    fn assert_all_fit(pieces: &[String], limit: usize) {
        for piece in pieces {
            assert!(
                chars(piece) <= limit,
                "{} chars > {limit}: {piece:?}",
                chars(piece)
            );
        }
    }

    fn non_whitespace(text: &str) -> String {
        text.chars().filter(|c| !c.is_whitespace()).collect()
    }

    /// Sentences of a few words, without line breaks.
    fn sentences(count: usize, seed: usize) -> String {
        const WORDS: [&str; 8] = [
            "gateway", "routes", "every", "request", "to", "an", "upstream", "model",
        ];
        (0..count)
            .map(|i| {
                let n = 4 + (i + seed) % 7;
                let words: Vec<&str> = (0..n)
                    .map(|j| WORDS[(i * 3 + j + seed) % WORDS.len()])
                    .collect();
                format!("{}.", words.join(" "))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn short_text_is_one_piece_unchanged() {
        assert_eq!(
            split_message("Hello, **world**!", DISCORD_LIMIT),
            ["Hello, **world**!"]
        );
        assert_eq!(
            split_message("\n\n  Hello\n\nthere  \n\n", DISCORD_LIMIT),
            ["Hello\n\nthere"]
        );
        let exact = "x".repeat(DISCORD_LIMIT);
        assert_eq!(split_message(&exact, DISCORD_LIMIT), [exact]);
    }

    #[test]
    fn empty_or_whitespace_gives_no_pieces() {
        assert!(split_message("", DISCORD_LIMIT).is_empty());
        assert!(split_message(" \n\t\n  \r\n", DISCORD_LIMIT).is_empty());
    }

    #[test]
    fn paragraphs_split_at_paragraph_breaks() {
        let paragraphs: Vec<String> = (0..15).map(|i| sentences(6 + i % 4, i)).collect();
        let text = paragraphs.join("\n\n");
        assert!(chars(&text) > 4500, "{}", chars(&text));
        let pieces = split_message(&text, DISCORD_LIMIT);
        assert!(pieces.len() >= 3, "{}", pieces.len());
        assert_all_fit(&pieces, DISCORD_LIMIT);
        // Every piece is whole paragraphs, and all of them, in order.
        let rejoined: Vec<&str> = pieces
            .iter()
            .flat_map(|piece| piece.split("\n\n"))
            .collect();
        assert_eq!(rejoined, paragraphs);
    }

    #[test]
    fn one_long_line_splits_at_sentence_ends_then_spaces() {
        let text = sentences(80, 1);
        let pieces = split_message(&text, 300);
        assert!(pieces.len() > 1);
        assert_all_fit(&pieces, 300);
        assert!(
            pieces.iter().all(|piece| piece.ends_with('.')),
            "{pieces:?}"
        );
        assert_eq!(pieces.join(" "), text);

        let words = "lorem ipsum dolor sit amet ".repeat(200);
        let pieces = split_message(&words, DISCORD_LIMIT);
        assert_eq!(pieces.len(), 3);
        assert_all_fit(&pieces, DISCORD_LIMIT);
        for piece in &pieces {
            assert!(
                piece
                    .split(' ')
                    .all(|word| ["lorem", "ipsum", "dolor", "sit", "amet"].contains(&word))
            );
        }
        assert_eq!(pieces.join(" "), words.trim_end());
    }

    #[test]
    fn a_boundary_too_early_is_passed_over() {
        // A paragraph break 20 characters in would make a tiny piece: the latest space wins.
        let text = format!("{}\n\n{}", "a".repeat(20), "word ".repeat(100));
        let pieces = split_message(&text, 100);
        assert!(chars(&pieces[0]) > 90, "{pieces:?}");
        assert!(pieces[0].starts_with("aaaa") && pieces[0].contains("\n\nword"));
    }

    #[test]
    fn a_run_without_spaces_is_cut_at_exactly_the_limit() {
        let text = "x".repeat(4500);
        let pieces = split_message(&text, DISCORD_LIMIT);
        let lengths: Vec<usize> = pieces.iter().map(|piece| chars(piece)).collect();
        assert_eq!(lengths, [2000, 2000, 500]);
        assert_eq!(pieces.concat(), text);
    }

    #[test]
    fn multibyte_text_is_counted_in_characters() {
        let crabs = "🦀".repeat(4500);
        let pieces = split_message(&crabs, DISCORD_LIMIT);
        let lengths: Vec<usize> = pieces.iter().map(|piece| chars(piece)).collect();
        assert_eq!(lengths, [2000, 2000, 500]);
        assert_eq!(pieces.concat(), crabs);

        let text = "Überraschung! 日本語のテキスト café 👩‍👩‍👧 naïve. ".repeat(120);
        for limit in [50, 77, 300, DISCORD_LIMIT] {
            let pieces = split_message(&text, limit);
            assert_all_fit(&pieces, limit);
            assert_eq!(non_whitespace(&pieces.concat()), non_whitespace(&text));
        }
        // Counted in bytes, these pieces would be well over the limit.
        assert!(
            split_message(&text, DISCORD_LIMIT)
                .iter()
                .any(|piece| piece.len() > DISCORD_LIMIT)
        );
    }

    #[test]
    fn a_code_block_that_fits_moves_whole_to_the_next_piece() {
        let intro = sentences(38, 2);
        let code: String = (0..20)
            .map(|i| format!("    let value_{i} = compute({i});\n"))
            .collect();
        let block = format!("```rust\nfn main() {{\n{code}}}\n```");
        let text = format!("{intro}\n\n{block}\n\nThat is all.");
        assert!(chars(&intro) < DISCORD_LIMIT && chars(&intro) + chars(&block) > DISCORD_LIMIT);
        let pieces = split_message(&text, DISCORD_LIMIT);
        assert_eq!(pieces, [intro, format!("{block}\n\nThat is all.")]);
    }

    #[test]
    fn a_code_block_that_fits_joins_a_piece_with_room() {
        let text = "Here:\n\n```sh\n  echo hi\n```\nDone.";
        assert_eq!(split_message(text, DISCORD_LIMIT), [text]);
    }

    #[test]
    fn a_long_code_block_is_cut_between_lines_and_fenced_again() {
        let lines: Vec<String> = (0..220)
            .map(|i| format!("{}print('line {i:03}')", "    ".repeat(i % 3)))
            .collect();
        let text = format!("```python\n{}\n```", lines.join("\n"));
        assert!(chars(&text) > 4500);
        let pieces = split_message(&text, DISCORD_LIMIT);
        assert!(pieces.len() >= 3, "{}", pieces.len());
        assert_all_fit(&pieces, DISCORD_LIMIT);
        let mut seen = Vec::new();
        for piece in &pieces {
            assert!(
                piece.starts_with("```python\n") && piece.ends_with("\n```"),
                "{piece}"
            );
            let inner = &piece["```python\n".len()..piece.len() - "\n```".len()];
            seen.extend(inner.lines().map(str::to_owned));
        }
        // Every line, indentation included, once and in order.
        assert_eq!(seen, lines);
    }

    #[test]
    fn a_long_code_block_starts_after_text_when_there_is_room() {
        let lines: Vec<String> = (0..120).map(|i| format!("x = {i}")).collect();
        let text = format!(
            "Here is the script:\n```python\n{}\n```\nRun it.",
            lines.join("\n")
        );
        let pieces = split_message(&text, 500);
        assert_all_fit(&pieces, 500);
        assert!(pieces[0].starts_with("Here is the script:\n```python\nx = 0\n"));
        assert!(pieces[0].ends_with("\n```"));
        assert!(pieces[1].starts_with("```python\n"));
        assert!(pieces.last().unwrap().ends_with("\n```\nRun it."));
    }

    #[test]
    fn a_code_line_longer_than_a_message_is_cut_inside() {
        let text = format!("```\n{}\n```", "y".repeat(250));
        let pieces = split_message(&text, 100);
        assert_all_fit(&pieces, 100);
        for piece in &pieces {
            assert!(
                piece.starts_with("```\n") && piece.ends_with("\n```"),
                "{piece}"
            );
        }
        let ys: usize = pieces.iter().map(|piece| piece.matches('y').count()).sum();
        assert_eq!(ys, 250);
    }

    #[test]
    fn an_unclosed_fence_runs_to_the_end() {
        // Short: kept as it is, still open.
        let text = "Working on it:\n```js\nconst a = 1;";
        assert_eq!(split_message(text, DISCORD_LIMIT), [text]);

        // Long: every part but the last is closed, every part after the first reopened.
        let lines: Vec<String> = (0..400).map(|i| format!("const value{i} = {i};")).collect();
        let text = format!("Working on it:\n```js\n{}", lines.join("\n"));
        let pieces = split_message(&text, DISCORD_LIMIT);
        assert!(pieces.len() >= 4, "{}", pieces.len());
        assert_all_fit(&pieces, DISCORD_LIMIT);
        assert!(pieces[0].starts_with("Working on it:\n```js\n"));
        let (last, others) = pieces.split_last().unwrap();
        assert!(others.iter().all(|piece| piece.ends_with("\n```")));
        assert!(pieces[1..].iter().all(|piece| piece.starts_with("```js\n")));
        assert!(last.ends_with(lines.last().unwrap()));
    }

    #[test]
    fn a_one_line_block_is_not_a_fence() {
        let text = format!("```inline```\n{}", "word ".repeat(50));
        let pieces = split_message(&text, 60);
        assert_all_fit(&pieces, 60);
        assert!(
            pieces.iter().all(|piece| !piece.contains("\n```")),
            "{pieces:?}"
        );
    }

    #[test]
    fn tiny_limits_still_fit_and_end() {
        let text = "Intro text here.\n\n```python\ndef f():\n    return 1\n```\n\n🦀🦀 end";
        for limit in 0..20 {
            let pieces = split_message(text, limit);
            assert_all_fit(&pieces, limit.max(1));
            assert!(pieces.iter().all(|piece| !piece.trim().is_empty()));
            assert_eq!(non_whitespace(&pieces.concat()), non_whitespace(text));
        }
    }

    /// Xorshift64: deterministic inputs without a crate.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    fn generated(rng: &mut Rng) -> String {
        const WORDS: [&str; 12] = [
            "the",
            "gateway",
            "é",
            "naïve",
            "日本語",
            "🦀",
            "a",
            "tool.",
            "done!",
            "why?",
            "x=1;",
            "👩‍👩‍👧",
        ];
        const FENCES: [&str; 4] = ["```", "```python", "```rust", "```sh"];
        let mut text = String::new();
        for _ in 0..rng.below(600) {
            match rng.below(20) {
                0..=9 => text.push_str(WORDS[rng.below(WORDS.len())]),
                10..=12 => text.push(' '),
                13 => text.push('\n'),
                14 => text.push_str("\n\n"),
                15 => text.push_str("\n    "),
                16 => {
                    text.push('\n');
                    text.push_str(FENCES[rng.below(FENCES.len())]);
                    text.push('\n');
                }
                17 => text.push_str(&"z".repeat(rng.below(400))),
                18 => text.push_str(" \t \r\n"),
                _ => text.push_str(". "),
            }
        }
        text
    }

    #[test]
    fn generated_inputs_fit_and_keep_their_content() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..1500 {
            let text = generated(&mut rng);
            let limit = 20 + rng.below(281);
            let pieces = split_into_pieces(&text, limit);
            let mut bodies = String::new();
            for piece in pieces {
                bodies.push_str(&piece.body);
                let rendered = piece.render();
                assert!(
                    chars(&rendered) <= limit,
                    "case {case}, limit {limit}: {rendered:?}"
                );
                assert!(!rendered.trim().is_empty(), "case {case}: empty piece");
            }
            // The added fence lines aside, the input's content is all there, in order.
            assert_eq!(
                non_whitespace(&bodies),
                non_whitespace(&text),
                "case {case}, limit {limit}"
            );
        }
    }
}
