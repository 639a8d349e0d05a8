/*
 * glou.h: the Glou C SDK (libglou). Generated from crates/glou-ffi by cbindgen; do not
 * edit. Guide and reference: docs/sdk/c.md. Licence: MIT OR Apache-2.0.
 *
 * Threading: every function may be called from any thread. The library runs one I/O
 * thread per client and never calls back into the game: results are events that
 * glou_poll() hands out, on the thread that polls, when the game asks.
 */

#ifndef GLOU_H
#define GLOU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Success.
#define GLOU_OK 0

// A required pointer argument was NULL.
#define GLOU_ERR_NULL -1

// A string argument was not valid UTF-8.
#define GLOU_ERR_UTF8 -2

// The client handle is unknown or already freed.
#define GLOU_ERR_HANDLE -3

// An argument was refused (a bad URL, filter, field name or value).
#define GLOU_ERR_ARGUMENT -4

// The call needs something done first (a login, `glou_announce_start`, a room).
#define GLOU_ERR_STATE -5

// No Glou server could be reached, or it went away mid-call.
#define GLOU_ERR_NETWORK -6

// The Glou server refused; the event's `error` holds its code.
#define GLOU_ERR_SERVER -7

// The Glou server answered with something this library does not understand.
#define GLOU_ERR_PROTOCOL -8

// A bug in the library (a caught panic); the client may still be used.
#define GLOU_ERR_INTERNAL -9

// What an event is about.
typedef enum glou_event_kind {
  // No event (`glou_poll` returned 0).
  GLOU_EVENT_NONE = 0,
  // A request finished: `request`, `code` (`GLOU_OK` or an error), `error` (the
  // server's error code), `message`. A login's reply has the session's `name`, and
  // `detail` its player type; a match report's has the match in `json`.
  GLOU_EVENT_REPLY = 1,
  // One server of a `glou_query` reply (`request`, `server`); the `GLOU_EVENT_REPLY`
  // of the request follows the last one.
  GLOU_EVENT_SERVER = 2,
  // A server appeared for subscription `sub` (`server`).
  GLOU_EVENT_SERVER_ADDED = 3,
  // A server of subscription `sub` changed (`server`: all of it, as it is now).
  GLOU_EVENT_SERVER_UPDATED = 4,
  // A server left subscription `sub` (`server`: as it was last).
  GLOU_EVENT_SERVER_REMOVED = 5,
  // Subscription `sub` is in step with the server: after its first list, and after
  // catching up on a reconnect.
  GLOU_EVENT_SYNCED = 6,
  // The live connection is up, to `url`.
  GLOU_EVENT_CONNECTED = 7,
  // The live connection is lost (`message`); it reconnects by itself.
  GLOU_EVENT_DISCONNECTED = 8,
  // The game server is listed on `url` as entry `text`.
  GLOU_EVENT_ANNOUNCED = 9,
  // Listing on `url` failed (`code`, `error`, `message`); it is retried.
  GLOU_EVENT_ANNOUNCE_FAILED = 10,
  // The game server was withdrawn from `url`.
  GLOU_EVENT_WITHDRAWN = 11,
  // A friend, in reply to `glou_friends` (`request`): `name`, `detail` the status
  // (`offline`, `online`, `playing`), `room`, and the game server they play on
  // (`game`, `text` its name, `address`).
  GLOU_EVENT_FRIEND = 12,
  // A friend's presence changed (same fields as `GLOU_EVENT_FRIEND`).
  GLOU_EVENT_PRESENCE = 13,
  // A chat message: `name` the sender, `text`, `detail` its kind (`normal`,
  // `private`, `announce`, `beep`, `table`).
  GLOU_EVENT_CHAT = 14,
  // Any other lobby message: `detail` its type, `json` the message
  // (docs/protocol/native.md).
  GLOU_EVENT_LOBBY = 15,
  // One row of `glou_rankings` (`request`, `name`, `stats`).
  GLOU_EVENT_RANKING = 16,
  // One game's statistics of `glou_player_stats` (`request`, `name`, `stats`).
  GLOU_EVENT_STATS = 17,
  // The server refused subscription `sub` (`error`, `message`); it is dropped.
  GLOU_EVENT_REFUSED = 18,
} glou_event_kind;

// A client: one or more Glou servers, the game's session, its live connection and its
// announcement. Opaque.
typedef struct glou_client glou_client;

// A rule of a listed server.
typedef struct glou_rule {
  const char *key;
  const char *value;
} glou_rule;

// A player on a game server: in listings, and given to `glou_announce_set_player_list`.
typedef struct glou_player {
  const char *name;
  int64_t score;
  uint32_t ping;
} glou_player;

// A listed game server (docs/protocol/native.md, "The server entry").
typedef struct glou_server_info {
  const char *id;
  const char *game;
  const char *kind;
  // Where players connect: `IP:port`.
  const char *address;
  const char *name;
  const char *map;
  const char *version;
  const char *protocol;
  // How it was announced: `native`, `q3`, `tw07`, `freeciv`, `wz`, `ggzmeta`, `peer`…
  const char *source;
  uint32_t players;
  uint32_t max_players;
  uint32_t bots;
  bool password;
  size_t rule_count;
  const struct glou_rule *rules;
  size_t player_count;
  const struct glou_player *player_list;
} glou_server_info;

// A player's record in one game.
typedef struct glou_stats {
  const char *game;
  // 1-based; 0 when unranked.
  int64_t rank;
  int64_t wins;
  int64_t losses;
  int64_t ties;
  int64_t forfeits;
  double rating;
  int64_t highscore;
  int64_t matches;
} glou_stats;

// An event. Every string is UTF-8, never NULL (`""` when it does not apply); `server`
// is NULL unless the kind carries a server. Everything it points to stays valid until
// the next `glou_poll` on the same client (or `glou_client_free`): copy what you keep.
typedef struct glou_event {
  enum glou_event_kind kind;
  // The request this answers (as returned by the call that made it), or 0.
  uint64_t request;
  // `GLOU_OK`, or a `GLOU_ERR_…` code.
  int32_t code;
  // The server's error code (`bad_credentials`, `name_taken`…), or a word for
  // the kind of failure (`network`, `protocol`).
  const char *error;
  // A readable description of what happened.
  const char *message;
  // The subscription's tag.
  const char *sub;
  // The Glou server concerned (a base URL).
  const char *url;
  const char *name;
  const char *text;
  const char *detail;
  const char *room;
  const char *game;
  const char *address;
  const struct glou_server_info *server;
  struct glou_stats stats;
  // The message as the server sent it, when there is one; else `""`.
  const char *json;
} glou_event;

// One player of a match report.
typedef struct glou_match_player {
  const char *name;
  // `win`, `loss`, `tie`, `forfeit` or `none`.
  const char *result;
  // Players sharing a team number are a team; negative for none.
  int32_t team;
  int64_t score;
} glou_match_player;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

// The library's version, e.g. `"0.1.0"`. Static; any thread.
const char *glou_version(void);

// What the last failed call on this thread said went wrong (`""` if nothing failed
// yet). Valid until the next failing call on the same thread.
const char *glou_last_error(void);

// The name of a result code (`"GLOU_ERR_NETWORK"`), or `"unknown"`. Static.
const char *glou_result_name(int code);

// A client of the Glou servers at `urls`: base URLs (`"http://127.0.0.1:5680"`)
// separated by spaces or commas. Player-side calls use the first that answers (and
// fail over to the next); an announcement goes to every one. Starts the client's I/O
// thread; nothing travels until a call asks for it. NULL on failure
// (`glou_last_error` says why). Any thread.
//
// # Safety
// `urls` is NULL or a NUL-terminated string.
struct glou_client *glou_client_new(const char *urls);

// Frees a client: withdraws its announcement (waiting at most about 2 s), closes its
// connections, ends its I/O thread. The handle, and every event it gave out, are
// invalid afterwards; a second free is refused (`GLOU_ERR_HANDLE`). NULL is a no-op
// returning `GLOU_OK`. Any thread, but not while another thread still uses an event
// of this client.
int glou_client_free(struct glou_client *c);

// A file descriptor that is readable exactly while events wait, for games that sleep
// in `select`/`poll`/`epoll`. Do not read it or close it. Any thread.
int glou_client_fd(const struct glou_client *c);

// Takes the next event into `*event`: returns 1 if there was one, 0 if none waits (the
// common case, a few tens of nanoseconds: call it every frame), or an error code.
// What the event points to stays valid until the next `glou_poll` on this client.
// Poll a client from one thread at a time (a concurrent poll gets `GLOU_ERR_STATE`).
//
// # Safety
// `event` is NULL or points to a writable `glou_event`.
int glou_poll(struct glou_client *c, struct glou_event *event);

// Starts keeping this game server listed on every URL of the client: `game` (1–32 of
// `a-z 0-9 . _ -`) on `port` at the address the Glou server sees the game server come
// from. Set the other fields before or after; each change reaches the servers within a
// second (only what changed travels), heartbeats are sent by the library. Events:
// `GLOU_EVENT_ANNOUNCED` per server, `GLOU_EVENT_ANNOUNCE_FAILED` (retried). Any thread.
//
// # Safety
// `game` is NULL or a NUL-terminated string.
int glou_announce_start(struct glou_client *c, const char *game, uint16_t port);

// Sets a text field of the listing (before or after `glou_announce_start`): `"name"`, `"map"`, `"version"`, `"protocol"` or
// `"kind"` (at most 128 bytes; the server refuses control characters). Any thread.
//
// # Safety
// `field` and `value` are NULL or NUL-terminated strings.
int glou_announce_set(struct glou_client *c,
                      const char *field,
                      const char *value);

// Sets the player counts of the listing. Any thread.
int glou_announce_set_counts(struct glou_client *c,
                             uint32_t players,
                             uint32_t max_players,
                             uint32_t bots);

// Whether joining needs a password. Any thread.
int glou_announce_set_password(struct glou_client *c, bool password);

// Sets rule `key` to `value`, or removes it when `value` is NULL. Any thread.
//
// # Safety
// `key` and `value` are NULL or NUL-terminated strings.
int glou_announce_set_rule(struct glou_client *c, const char *key, const char *value);

// Replaces the listing's player list with `count` players (NULL with 0 empties it).
// The strings are copied. Any thread.
//
// # Safety
// `players` is NULL or points to `count` `glou_player`s whose names are NULL-free,
// NUL-terminated strings.
int glou_announce_set_player_list(struct glou_client *c,
                                  const struct glou_player *players,
                                  size_t count);

// Withdraws the listing from every server, without waiting (`GLOU_EVENT_WITHDRAWN`
// follows per server). `glou_client_free` does it too, waiting. Any thread.
int glou_announce_stop(struct glou_client *c);

// Asks once for the servers `filter` matches (the query string of `GET
// /api/v1/servers`: `"game=openarena&not_empty=1"`; `""` for all; one page, at most
// `limit`, default 100). Returns the request number (> 0): a `GLOU_EVENT_SERVER` per
// server, then the `GLOU_EVENT_REPLY`. A bad filter is refused at once. Any thread.
//
// # Safety
// `filter` is NULL or a NUL-terminated string.
int64_t glou_query(struct glou_client *c, const char *filter);

// Follows the servers `filter` matches, live, as subscription `tag` (a new `tag`
// replaces nothing; the same `tag` replaces its filter): `GLOU_EVENT_SERVER_ADDED` for
// each at first, then `_ADDED`, `_UPDATED`, `_REMOVED` as they happen, and
// `GLOU_EVENT_SYNCED` when the list is complete. Survives reconnects by itself. Any
// thread.
//
// # Safety
// `tag` and `filter` are NULL or NUL-terminated strings.
int glou_subscribe(struct glou_client *c, const char *tag, const char *filter);

// Stops subscription `tag`. Any thread.
//
// # Safety
// `tag` is NULL or a NUL-terminated string.
int glou_unsubscribe(struct glou_client *c, const char *tag);

// Logs in to an account. Returns the request number; its `GLOU_EVENT_REPLY` has the
// account's `name` (wrong credentials: `GLOU_ERR_SERVER`, `error`
// `"bad_credentials"`). Later calls carry the session; friends' presence follows on the
// live connection. Any thread.
//
// # Safety
// `name` and `password` are NULL or NUL-terminated strings.
int64_t glou_login(struct glou_client *c, const char *name, const char *password);

// A guest session under `name` (not a registered name). As `glou_login`. Any thread.
//
// # Safety
// `name` is NULL or a NUL-terminated string.
int64_t glou_login_guest(struct glou_client *c, const char *name);

// Ends the session. Returns the request number. Any thread.
int64_t glou_logout(struct glou_client *c);

// The player's friends and where they are: a `GLOU_EVENT_FRIEND` each, then the reply.
// Needs a login. Any thread.
int64_t glou_friends(struct glou_client *c);

// Enters lobby room `room` (0 is the entry room), logging into the lobby first. Needs
// a login (account or guest) that has been answered. Returns the request number; chat
// and other lobby events of the room follow. Any thread.
int64_t glou_lobby_enter(struct glou_client *c, uint32_t room);

// Says `text` to the room, or privately to player `to` (NULL: the room). Returns the
// request number; the reply says whether the lobby took it. Any thread.
//
// # Safety
// `to` and `text` are NULL or NUL-terminated strings.
int64_t glou_chat(struct glou_client *c, const char *to, const char *text_);

// A page of `game`'s rankings: a `GLOU_EVENT_RANKING` per row, then the reply. Any
// thread.
//
// # Safety
// `game` is NULL or a NUL-terminated string.
int64_t glou_rankings(struct glou_client *c, const char *game, uint32_t offset, uint32_t limit);

// Player `name`'s statistics: a `GLOU_EVENT_STATS` per game, then the reply. Any
// thread.
//
// # Safety
// `name` is NULL or a NUL-terminated string.
int64_t glou_player_stats(struct glou_client *c, const char *name);

// Reports a finished match of `game` (the session needs `report_results`, given to
// trusted game servers' accounts). The reply's `json` is the recorded match, with
// ratings. The strings are copied. Any thread.
//
// # Safety
// `game` is NULL or a NUL-terminated string; `players` is NULL or points to `count`
// `glou_match_player`s whose strings are NUL-terminated.
int64_t glou_report_match(struct glou_client *c,
                          const char *game,
                          const struct glou_match_player *players,
                          size_t count);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* GLOU_H */
