//! Chat routing: room chat (echoed to the sender), announcements to everyone,
//! private messages and beeps (not echoed), table chat. A gagged player's messages
//! reach only themselves; a flood is refused per player with a token bucket.

use super::{Action, Audience, Lobby, LobbyError, LobbyEvent, PlayerId};
use crate::account::Perm;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// GGZ's chat kinds. `Unnamed` is a kind the server did not recognise: GGZ delivers
/// it to the room like a normal message, with an empty type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChatKind {
    Normal,
    Announce,
    Beep,
    Private,
    Table,
    Unnamed,
}

impl Lobby {
    /// `CHAT`. `to` names the receiver of a private message or a beep.
    pub fn chat(
        &mut self,
        who: PlayerId,
        kind: ChatKind,
        to: Option<&str>,
        text: &str,
        now: Timestamp,
    ) {
        match self.route(who, kind, to, now) {
            Ok((audience, from)) => {
                self.reply(who, Action::Chat, Ok(()));
                let text = (kind != ChatKind::Beep).then(|| self.cut(text));
                let audience = if self.gagged(who) {
                    Audience::Player(who)
                } else {
                    audience
                };
                self.emit(audience, LobbyEvent::Chat { kind, from, text });
            }
            Err(e) => self.reply(who, Action::Chat, Err(e)),
        }
    }

    pub(super) fn cut(&self, text: &str) -> String {
        match text.char_indices().nth(self.config.chat_len) {
            Some((at, _)) => text[..at].to_owned(),
            None => text.to_owned(),
        }
    }

    fn route(
        &mut self,
        who: PlayerId,
        kind: ChatKind,
        to: Option<&str>,
        now: Timestamp,
    ) -> Result<(Audience, String), LobbyError> {
        let (burst, rate) = (self.config.chat_burst, self.config.chat_rate);
        let m = self
            .members
            .get_mut(&who)
            .ok_or(LobbyError::UnknownPlayer)?;
        let elapsed = now.since(m.chat_at).as_secs_f64();
        m.chat_tokens = (m.chat_tokens + elapsed * rate).min(burst);
        m.chat_at = now;
        if m.chat_tokens < 1.0 {
            return Err(LobbyError::Flood);
        }
        m.chat_tokens -= 1.0;
        let m = &self.members[&who];
        let from = m.name.clone();
        let audience = match kind {
            ChatKind::Normal | ChatKind::Unnamed => {
                Audience::Room(m.room.ok_or(LobbyError::NotInRoom)?)
            }
            ChatKind::Announce => {
                if !m.perms.has(Perm::ChatAnnounce) {
                    return Err(LobbyError::NoPermission);
                }
                Audience::Everyone
            }
            ChatKind::Table => {
                let (room, place) = (m.room, m.place);
                match (room, place) {
                    (Some(room), Some(place)) => Audience::Table(room, place.table),
                    _ => return Err(LobbyError::NoTable),
                }
            }
            ChatKind::Beep | ChatKind::Private => {
                let target = to
                    .and_then(|name| self.find(name))
                    .ok_or(LobbyError::UnknownPlayer)?;
                let t = &self.members[&target];
                let at_table = m.place.is_some() || t.place.is_some();
                let privileged = m.perms.has(Perm::EditPrivmsg) || t.perms.has(Perm::EditPrivmsg);
                if kind == ChatKind::Private && at_table && !privileged && target != who {
                    return Err(LobbyError::AtTable);
                }
                Audience::Player(target)
            }
        };
        Ok((audience, from))
    }
}
