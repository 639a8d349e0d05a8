//! Checks for the Warzone 2100 lobby codec: any bytes, split into any pieces, decode to the
//! same commands as when fed whole, never make the decoder hold more than
//! `MAX_COMMAND_LEN` bytes, and never panic; every decoded GAMESTRUCT, status and list
//! re-encodes to bytes that decode to a stable value.

use glou_proto::wzlobby::{
    Command, DecodeError, Decoder, GAMESTRUCT_LEN, GameStruct, ListReply, MAX_COMMAND_LEN, Status,
    decode_game_id, decode_probe_reply,
};

/// Panics if `data` breaks a property above.
pub fn run(data: &[u8]) {
    let Some((&seed, input)) = data.split_first() else {
        return;
    };
    let whole = read(input, &mut |left| left);
    let mut state = u32::from(seed) | 0x100;
    let chunked = read(input, &mut |left| {
        // xorshift32: pieces of 1 to 64 bytes.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state as usize % 64 + 1).min(left)
    });
    assert_eq!(whole, chunked);
    for command in &whole.0 {
        match command {
            Command::AddGame(game) | Command::Update(game) => check_game(game),
            Command::GameId | Command::KeepAlive | Command::List => {}
        }
        let mut decoder = Decoder::new();
        let bytes = command.encode();
        assert_eq!(
            decoder.decode(&bytes),
            Ok(Some((command.clone(), bytes.len())))
        );
    }

    if let Some(Ok(game)) = input.get(..GAMESTRUCT_LEN).map(GameStruct::decode) {
        check_game(&game);
    }
    if let Ok(Some((status, used))) = Status::decode(input) {
        assert!(used <= input.len());
        let bytes = status.encode();
        let (again, n) = Status::decode(&bytes).unwrap().unwrap();
        assert_eq!(n, bytes.len());
        assert_eq!(again.encode(), bytes);
    }
    for closed in [false, true] {
        if let Ok(Some((list, used))) = ListReply::decode(input, closed) {
            assert!(used <= input.len());
            let bytes = list.encode();
            let (again, n) = ListReply::decode(&bytes, true).unwrap().unwrap();
            assert_eq!(n, bytes.len());
            assert_eq!(again.encode(), bytes);
            let _ = list.games().count();
        }
    }
    let _ = decode_game_id(input);
    let _ = decode_probe_reply(input);
}

type Outcome = (Vec<Command>, Option<DecodeError>);

/// Feeds `input` in pieces of `next_len(bytes left)`, draining the decoder after each.
fn read(input: &[u8], next_len: &mut dyn FnMut(usize) -> usize) -> Outcome {
    let mut decoder = Decoder::new();
    let mut buf = Vec::new();
    let mut commands = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let (piece, tail) = rest.split_at(next_len(rest.len()).clamp(1, rest.len()));
        rest = tail;
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode(&buf) {
                Ok(Some((command, used))) => {
                    assert!(used > 0 && used <= buf.len());
                    commands.push(command);
                    buf.drain(..used);
                }
                Ok(None) => {
                    assert!(buf.len() < MAX_COMMAND_LEN, "held {} bytes", buf.len());
                    break;
                }
                Err(e) => return (commands, Some(e)),
            }
        }
    }
    (commands, None)
}

/// Our own encoding of a decoded GAMESTRUCT decodes, and is then a fixed point (it
/// differs from the input only where a string had to be cut to fit its field).
fn check_game(game: &GameStruct) {
    let bytes = game.encode();
    assert_eq!(bytes.len(), GAMESTRUCT_LEN);
    let again = GameStruct::decode(&bytes).expect("our own encoding decodes");
    assert_eq!(again.encode(), bytes);
    let fits = |s: &str, len: usize| s.len() < len;
    if fits(&game.name, 64)
        && fits(&game.desc.host, 40)
        && game.secondary_hosts.iter().all(|h| fits(h, 40))
        && fits(&game.extra, 157)
        && fits(&game.mapname, 40)
        && fits(&game.hostname, 40)
        && fits(&game.versionstring, 64)
        && fits(&game.modlist, 255)
    {
        assert_eq!(&again, game);
    }
}
