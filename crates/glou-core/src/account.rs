//! The rules of accounts: player names (GGZ-compatible, with confusable names folded
//! to one key), GGZ's permission bits and the player types derived from them,
//! password hashing (argon2id) and session tokens. Storing them is `glou-store`'s job.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use unicode_normalization::UnicodeNormalization;
use unicode_security::confusable_detection::skeleton;

/// Longest player name, in characters (GGZ's limit).
pub const MAX_NAME_CHARS: usize = 16;
/// Longest password, in bytes: hashing cost must not grow with hostile input.
pub const MAX_PASSWORD_BYTES: usize = 256;
/// Longest e-mail address, in bytes.
pub const MAX_EMAIL_BYTES: usize = 254;
/// Longest real name, in characters.
pub const MAX_REAL_NAME_CHARS: usize = 64;
/// Longest profile text, in characters.
pub const MAX_BIO_CHARS: usize = 500;

/// Names nobody may register or use as a guest (compared by [`name_key`]).
const RESERVED: &[&str] = &[
    "admin",
    "administrator",
    "anonymous",
    "ggz",
    "glou",
    "moderator",
    "nobody",
    "root",
    "server",
    "system",
];

/// Why a player name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    #[error("the name is over {MAX_NAME_CHARS} characters")]
    TooLong,
    #[error("the name has control, invisible or surrounding space characters")]
    BadCharacters,
    #[error("the name is reserved")]
    Reserved,
}

impl NameError {
    /// The stable API error code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Empty | Self::BadCharacters => "bad_name",
            Self::TooLong => "name_too_long",
            Self::Reserved => "reserved_name",
        }
    }
}

/// Checks a name a player wants to register or to use as a guest.
pub fn check_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(NameError::TooLong);
    }
    if name.chars().any(invisible) || name.trim() != name {
        return Err(NameError::BadCharacters);
    }
    // `<none>`, `<open>`… name empty seats in GGZ, and `N|AI` names bots.
    if name.starts_with('<') || name.contains('|') {
        return Err(NameError::Reserved);
    }
    let key = name_key(name);
    if RESERVED.iter().any(|r| name_key(r) == key) {
        return Err(NameError::Reserved);
    }
    Ok(())
}

/// Control characters, and format characters that render as nothing (zero-width
/// spaces and joiners, bidi overrides, the BOM).
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}' | '\u{feff}')
}

/// The key names are unique under: compatibility-normalised, lower-cased, folded to
/// Unicode's confusable skeleton (so `a1ice` and `alice`, Cyrillic `а` and Latin `a`,
/// collide), and with `i` and `l` taken as one letter, as `I`, `l` and `1` look alike.
pub fn name_key(name: &str) -> String {
    let lower: String = name.nfkc().collect::<String>().to_lowercase();
    skeleton(&lower)
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'i' { 'l' } else { c })
        .collect()
}

/// The key of a name as a game server reports it: Quake colour codes (`^1`) removed.
pub fn player_key(reported: &str) -> String {
    let mut plain = String::with_capacity(reported.len());
    let mut chars = reported.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '^' && chars.peek().is_some_and(char::is_ascii_alphanumeric) {
            chars.next();
        } else {
            plain.push(c);
        }
    }
    name_key(plain.trim())
}

/// One GGZ permission; the discriminant is its bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Perm {
    JoinTable = 0,
    LaunchTable = 1,
    RoomsLogin = 2,
    RoomsAdmin = 3,
    ChatAnnounce = 4,
    ChatBot = 5,
    NoStats = 6,
    EditTables = 7,
    EditPrivmsg = 8,
    /// Glou's own: may report match results through the native API.
    ReportResults = 16,
}

impl Perm {
    /// Every permission, in bit order.
    pub const ALL: [Perm; 10] = [
        Perm::JoinTable,
        Perm::LaunchTable,
        Perm::RoomsLogin,
        Perm::RoomsAdmin,
        Perm::ChatAnnounce,
        Perm::ChatBot,
        Perm::NoStats,
        Perm::EditTables,
        Perm::EditPrivmsg,
        Perm::ReportResults,
    ];

    /// The name GGZ's `ADMINPERM` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JoinTable => "join_table",
            Self::LaunchTable => "launch_table",
            Self::RoomsLogin => "rooms_login",
            Self::RoomsAdmin => "rooms_admin",
            Self::ChatAnnounce => "chat_announce",
            Self::ChatBot => "chat_bot",
            Self::NoStats => "no_stats",
            Self::EditTables => "edit_tables",
            Self::EditPrivmsg => "edit_privmsg",
            Self::ReportResults => "report_results",
        }
    }

    fn bit(self) -> u32 {
        1 << self as u32
    }
}

impl FromStr for Perm {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|p| p.as_str() == s).ok_or(())
    }
}

/// A set of permissions, as GGZ keeps it: one bit per [`Perm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Perms(pub u32);

impl Perms {
    /// A guest's: join and launch tables, no statistics (GGZ's 0x43).
    pub const GUEST: Perms = Perms(0x43);
    /// A newly registered player's: join and launch tables, enter login-only rooms (0x07).
    pub const REGISTERED: Perms = Perms(0x07);
    /// What makes a player an admin.
    pub const ADMIN: Perms = Perms(0x07 | 1 << 3 | 1 << 4 | 1 << 7 | 1 << 8);

    pub fn has(self, perm: Perm) -> bool {
        self.0 & perm.bit() != 0
    }

    #[must_use]
    pub fn with(self, perm: Perm, on: bool) -> Perms {
        if on {
            Perms(self.0 | perm.bit())
        } else {
            Perms(self.0 & !perm.bit())
        }
    }

    /// The names of the permissions set, in bit order.
    pub fn names(self) -> Vec<&'static str> {
        Perm::ALL
            .into_iter()
            .filter(|p| self.has(*p))
            .map(Perm::as_str)
            .collect()
    }
}

/// What kind of player someone is, derived as GGZ does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlayerType {
    Normal,
    Guest,
    Admin,
    Host,
    Bot,
}

impl PlayerType {
    /// A guest login makes a guest; then `chat_bot` a bot; all four of rooms_admin,
    /// chat_announce, edit_tables and edit_privmsg an admin; either edit bit a host.
    pub fn of(perms: Perms, guest: bool) -> PlayerType {
        if guest {
            PlayerType::Guest
        } else if perms.has(Perm::ChatBot) {
            PlayerType::Bot
        } else if [
            Perm::RoomsAdmin,
            Perm::ChatAnnounce,
            Perm::EditTables,
            Perm::EditPrivmsg,
        ]
        .into_iter()
        .all(|p| perms.has(p))
        {
            PlayerType::Admin
        } else if perms.has(Perm::EditTables) || perms.has(Perm::EditPrivmsg) {
            PlayerType::Host
        } else {
            PlayerType::Normal
        }
    }

    /// The word GGZ sends in a player's TYPE.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Guest => "guest",
            Self::Admin => "admin",
            Self::Host => "host",
            Self::Bot => "bot",
        }
    }
}

/// Why a password, e-mail address or profile field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("the password is empty")]
    EmptyPassword,
    #[error("the password is over {MAX_PASSWORD_BYTES} bytes")]
    LongPassword,
    #[error(
        "the e-mail address is not of the form name@domain, or is over {MAX_EMAIL_BYTES} bytes"
    )]
    BadEmail,
    #[error("the real name is over {MAX_REAL_NAME_CHARS} characters or has control characters")]
    BadRealName,
    #[error("the bio is over {MAX_BIO_CHARS} characters or has control characters")]
    BadBio,
}

impl FieldError {
    /// The stable API error code.
    pub fn code(self) -> &'static str {
        match self {
            Self::EmptyPassword | Self::LongPassword => "bad_password",
            Self::BadEmail => "bad_email",
            Self::BadRealName | Self::BadBio => "bad_profile",
        }
    }
}

pub fn check_password(password: &str) -> Result<(), FieldError> {
    if password.is_empty() {
        Err(FieldError::EmptyPassword)
    } else if password.len() > MAX_PASSWORD_BYTES {
        Err(FieldError::LongPassword)
    } else {
        Ok(())
    }
}

pub fn check_email(email: &str) -> Result<(), FieldError> {
    let ok = email.len() <= MAX_EMAIL_BYTES
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email
            .split_once('@')
            .is_some_and(|(user, domain)| !user.is_empty() && !domain.is_empty());
    ok.then_some(()).ok_or(FieldError::BadEmail)
}

pub fn check_real_name(real_name: &str) -> Result<(), FieldError> {
    let ok = real_name.chars().count() <= MAX_REAL_NAME_CHARS && !real_name.chars().any(invisible);
    ok.then_some(()).ok_or(FieldError::BadRealName)
}

pub fn check_bio(bio: &str) -> Result<(), FieldError> {
    let ok =
        bio.chars().count() <= MAX_BIO_CHARS && !bio.chars().any(|c| c != '\n' && invisible(c));
    ok.then_some(()).ok_or(FieldError::BadBio)
}

/// The hash parameters, as the benchmarks state them.
pub const HASH_PARAMS: &str = "argon2id, m = 19456 KiB, t = 2, p = 1";

fn hasher() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with a salt (16 random bytes the caller draws: the core reads no
/// randomness) into a PHC string (algorithm, parameters, salt and hash), about 20 ms of
/// one core: call it off the async threads.
pub fn hash_password(password: &str, salt: [u8; 16]) -> String {
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password within MAX_PASSWORD_BYTES")
        .to_string()
}

/// Whether `password` matches a stored PHC string. A malformed stored string matches
/// nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => hasher().verify_password(password.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

/// What [`verify_nothing`] checks against: `hash_password("not a password of anyone",
/// [0; 16])`, written out so that the first check after a start costs no more than the
/// next (a test keeps it in step with [`HASH_PARAMS`]).
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$cUhoXU1WKEkQSLPdZIo7TeCw1hHGreKZP6Xj9pGrrJI";

/// Spends the time of a verification when there is no account, so that a login's
/// timing does not tell whether a name is registered.
pub fn verify_nothing(password: &str) {
    let _ = verify_password(password, DUMMY_PHC);
}

/// An opaque session token: 256 random bits (drawn by the caller), hex. Only its digest
/// is stored.
#[derive(Clone, Eq)]
pub struct Token(String);

impl Token {
    pub fn from_random(bytes: [u8; 32]) -> Token {
        Token(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Tokens compare in constant time.
impl PartialEq for Token {
    fn eq(&self, other: &Token) -> bool {
        secret_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

/// Tokens never appear in logs.
impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(…)")
    }
}

/// What the store keeps of a token: its SHA-256.
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether two secrets (tokens, passwords, digests) are equal, in a time that depends
/// on their lengths only, not on where they first differ.
pub fn secret_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(check_name("alice"), Ok(()));
        assert_eq!(check_name("Ünïcödé plåyer"), Ok(()));
        assert_eq!(check_name("sixteen chars ok"), Ok(()));
        assert_eq!(check_name("seventeen chars!!"), Err(NameError::TooLong));
        assert_eq!(check_name(""), Err(NameError::Empty));
        assert_eq!(check_name("a\u{7}b"), Err(NameError::BadCharacters));
        assert_eq!(
            check_name("zero\u{200b}width"),
            Err(NameError::BadCharacters)
        );
        assert_eq!(check_name(" alice"), Err(NameError::BadCharacters));
        assert_eq!(check_name("<none>"), Err(NameError::Reserved));
        assert_eq!(check_name("0|AI"), Err(NameError::Reserved));
        assert_eq!(check_name("ADMIN"), Err(NameError::Reserved));
        assert_eq!(check_name("Adm1n"), Err(NameError::Reserved));
    }

    #[test]
    fn confusable_names_share_a_key() {
        assert_eq!(name_key("Alice"), name_key("alice"));
        assert_eq!(name_key("al1ce"), name_key("alice"));
        // Cyrillic а (U+0430) for Latin a.
        assert_eq!(name_key("\u{430}lice"), name_key("alice"));
        // Fullwidth letters fold by compatibility normalisation.
        assert_eq!(name_key("ａｌｉｃｅ"), name_key("alice"));
        assert_ne!(name_key("alice"), name_key("alicia"));
        assert_eq!(player_key("^1Al^7ice"), name_key("alice"));
        assert_eq!(player_key("a^"), name_key("a^"));
    }

    #[test]
    fn perms_and_types() {
        assert_eq!(
            Perms::GUEST.names(),
            ["join_table", "launch_table", "no_stats"]
        );
        assert_eq!(PlayerType::of(Perms::REGISTERED, false), PlayerType::Normal);
        assert_eq!(PlayerType::of(Perms::REGISTERED, true), PlayerType::Guest);
        assert_eq!(PlayerType::of(Perms::ADMIN, false), PlayerType::Admin);
        let host = Perms::REGISTERED.with(Perm::EditTables, true);
        assert_eq!(PlayerType::of(host, false), PlayerType::Host);
        let bot = Perms::ADMIN.with(Perm::ChatBot, true);
        assert_eq!(PlayerType::of(bot, false), PlayerType::Bot);
        assert!(
            !Perms::ADMIN
                .with(Perm::RoomsAdmin, false)
                .has(Perm::RoomsAdmin)
        );
        for p in Perm::ALL {
            assert_eq!(p.as_str().parse(), Ok(p));
        }
    }

    #[test]
    fn passwords() {
        let phc = hash_password("hunter2", [1; 16]);
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("hunter2", &phc));
        assert!(!verify_password("hunter3", &phc));
        assert!(!verify_password("hunter2", "not a phc string"));
        assert_ne!(hash_password("hunter2", [2; 16]), phc, "salted");
        assert_eq!(
            hash_password("hunter2", [1; 16]),
            phc,
            "deterministic for a salt"
        );
        assert_eq!(check_password(""), Err(FieldError::EmptyPassword));
        assert_eq!(
            check_password(&"x".repeat(257)),
            Err(FieldError::LongPassword)
        );
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        assert_eq!(
            DUMMY_PHC,
            hash_password("not a password of anyone", [0; 16]),
            "regenerate DUMMY_PHC with the current parameters"
        );
        assert!(!verify_password("not a password", DUMMY_PHC));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(secret_eq(b"abc", b"abc"));
        assert!(!secret_eq(b"abc", b"abd"));
        assert!(!secret_eq(b"abc", b"abcd"));
        assert!(!secret_eq(b"", b"a"));
    }

    #[test]
    fn tokens() {
        let t = Token::from_random([0xab; 32]);
        assert_eq!(t.as_str(), "ab".repeat(32));
        assert_ne!(Token::from_random([0; 32]), t);
        assert_eq!(format!("{t:?}"), "Token(…)");
        assert_eq!(token_digest(t.as_str()), token_digest(t.as_str()));
    }

    #[test]
    fn fields() {
        assert_eq!(check_email("a@b.c"), Ok(()));
        assert_eq!(check_email("ab.c"), Err(FieldError::BadEmail));
        assert_eq!(check_email("a b@c"), Err(FieldError::BadEmail));
        assert_eq!(check_bio("two\nlines"), Ok(()));
        assert_eq!(check_real_name("a\nb"), Err(FieldError::BadRealName));
    }
}
