//! Whether a Discord message is meant for the bot, and what it says without the mention.
//!
//! A message is for the bot when it is a direct message, when it mentions the bot, or when
//! it replies to one of the bot's messages. Discord writes a user mention as `<@id>` (or
//! `<@!id>` when the user has a server nickname); the bot's own mentions are removed
//! wherever they are, other mentions stay, so "ask <@bot> about <@alice>" keeps Alice.

/// How a message reached the bot, as far as deciding whether to answer goes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Delivery {
    /// A direct message (no server).
    pub direct: bool,
    /// Discord lists the bot among the message's mentions.
    pub mentions_bot: bool,
    /// The message replies to a message the bot wrote.
    pub replies_to_bot: bool,
}

/// The text to answer, or `None` when the message is not for the bot (or says nothing once
/// the mention is gone).
pub fn text_for_bot(content: &str, bot_id: u64, delivery: Delivery) -> Option<String> {
    let written = mentions_in_text(content, bot_id);
    if !(delivery.direct || delivery.mentions_bot || delivery.replies_to_bot || written) {
        return None;
    }
    let text = strip_mentions(content, bot_id);
    (!text.is_empty()).then_some(text)
}

/// Removes every mention of `bot_id`, with one space after it, and trims the result.
/// Nothing else changes: indentation in a pasted code block is part of the question.
pub fn strip_mentions(content: &str, bot_id: u64) -> String {
    let mut text = content.to_owned();
    for mention in [format!("<@{bot_id}>"), format!("<@!{bot_id}>")] {
        while let Some(at) = text.find(&mention) {
            let mut end = at + mention.len();
            if text[end..].starts_with(' ') {
                end += 1;
            }
            text.replace_range(at..end, "");
        }
    }
    text.trim().to_owned()
}

/// Whether the text itself mentions the bot (a mention Discord did not list, e.g. in an
/// edited or forwarded message).
fn mentions_in_text(content: &str, bot_id: u64) -> bool {
    content.contains(&format!("<@{bot_id}>")) || content.contains(&format!("<@!{bot_id}>"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const BOT: u64 = 42;

    fn mentioned() -> Delivery {
        Delivery {
            mentions_bot: true,
            ..Delivery::default()
        }
    }

    #[test]
    fn leading_mention_is_stripped() {
        assert_eq!(
            text_for_bot("<@42> what time is it?", BOT, mentioned()).as_deref(),
            Some("what time is it?")
        );
    }

    #[test]
    fn nickname_mention_and_mention_in_the_middle() {
        assert_eq!(
            strip_mentions("hey <@!42>, list my repos", BOT),
            "hey , list my repos"
        );
        assert_eq!(
            strip_mentions("ask <@42> about <@7>", BOT),
            "ask about <@7>"
        );
    }

    #[test]
    fn other_users_and_roles_stay() {
        assert_eq!(strip_mentions("<@420> <@&42> hi", BOT), "<@420> <@&42> hi");
    }

    #[test]
    fn line_breaks_and_indentation_survive() {
        assert_eq!(
            strip_mentions("<@42> fix this:\n```\n  let x = 1;\n```", BOT),
            "fix this:\n```\n  let x = 1;\n```"
        );
    }

    #[test]
    fn not_for_the_bot_without_mention_dm_or_reply() {
        assert_eq!(
            text_for_bot("hello everyone", BOT, Delivery::default()),
            None
        );
        assert_eq!(text_for_bot("hello <@43>", BOT, Delivery::default()), None);
    }

    #[test]
    fn direct_messages_and_replies_need_no_mention() {
        let dm = Delivery {
            direct: true,
            ..Delivery::default()
        };
        assert_eq!(text_for_bot("hello", BOT, dm).as_deref(), Some("hello"));
        let reply = Delivery {
            replies_to_bot: true,
            ..Delivery::default()
        };
        assert_eq!(
            text_for_bot("and then?", BOT, reply).as_deref(),
            Some("and then?")
        );
    }

    #[test]
    fn a_mention_written_in_text_counts() {
        assert_eq!(
            text_for_bot("<@42> hi", BOT, Delivery::default()).as_deref(),
            Some("hi")
        );
    }

    #[test]
    fn a_bare_mention_says_nothing() {
        assert_eq!(text_for_bot("<@42>", BOT, mentioned()), None);
        assert_eq!(text_for_bot("  <@!42>  ", BOT, mentioned()), None);
    }
}
