//! The TicTacToe board and its rules: who owns which cell, whether a move is legal,
//! who won, and the bots' move choice. No protocol and no seats here.

/// One of the two players. Seat 0 plays `X` and moves first; seat 1 plays `O`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Player {
    X,
    O,
}

/// How a finished game ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Win(Player),
    Tie,
}

/// Why a cell cannot be played (the rule checks that need no game state).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum MoveError {
    #[error("cell {0} is outside 0..=8")]
    OutOfBounds(i32),
    #[error("cell {0} is already taken")]
    Occupied(usize),
}

/// How well a bot plays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Difficulty {
    /// Wins when it can, blocks an immediate loss, otherwise takes the centre or the
    /// first free cell: beatable, like the original's "easy" class.
    Easy,
    /// Perfect play (full game-tree search): never loses.
    #[default]
    Hard,
}

/// The nine cells, row by row: cell = 3 * row + col.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Board {
    cells: [Option<Player>; 9],
}

/// The eight lines that win.
pub const LINES: [[usize; 3]; 8] = [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7, 8],
    [0, 3, 6],
    [1, 4, 7],
    [2, 5, 8],
    [0, 4, 8],
    [2, 4, 6],
];

/// The order in which equally good cells are preferred: centre, corners, edges.
const PREFERENCE: [usize; 9] = [4, 0, 2, 6, 8, 1, 3, 5, 7];

impl Player {
    /// The seat number (0 for `X`, 1 for `O`).
    pub fn index(self) -> usize {
        match self {
            Player::X => 0,
            Player::O => 1,
        }
    }

    /// The player sitting at `seat`, if the seat is 0 or 1.
    pub fn from_index(seat: usize) -> Option<Player> {
        match seat {
            0 => Some(Player::X),
            1 => Some(Player::O),
            _ => None,
        }
    }

    pub fn other(self) -> Player {
        match self {
            Player::X => Player::O,
            Player::O => Player::X,
        }
    }

    pub fn symbol(self) -> char {
        match self {
            Player::X => 'X',
            Player::O => 'O',
        }
    }
}

impl Board {
    pub fn new() -> Board {
        Board::default()
    }

    /// A board from its cells, row by row.
    pub fn from_cells(cells: [Option<Player>; 9]) -> Board {
        Board { cells }
    }

    pub fn cells(&self) -> &[Option<Player>; 9] {
        &self.cells
    }

    /// Who owns `cell` (`None` when it is free or out of range).
    pub fn get(&self, cell: usize) -> Option<Player> {
        self.cells.get(cell).copied().flatten()
    }

    pub fn move_count(&self) -> usize {
        self.cells.iter().filter(|c| c.is_some()).count()
    }

    /// The free cells, in increasing order.
    pub fn free_cells(&self) -> impl Iterator<Item = usize> + '_ {
        (0..9).filter(|&i| self.cells[i].is_none())
    }

    /// Checks a wire cell number: in range and free. Returns it as an index.
    pub fn check(&self, cell: i32) -> Result<usize, MoveError> {
        let index = usize::try_from(cell)
            .ok()
            .filter(|&i| i < 9)
            .ok_or(MoveError::OutOfBounds(cell))?;
        match self.cells[index] {
            Some(_) => Err(MoveError::Occupied(index)),
            None => Ok(index),
        }
    }

    /// Puts `player` on `cell` after checking it.
    pub fn play(&mut self, cell: i32, player: Player) -> Result<usize, MoveError> {
        let index = self.check(cell)?;
        self.cells[index] = Some(player);
        Ok(index)
    }

    /// The outcome, once there is a line of three or the board is full.
    pub fn outcome(&self) -> Option<Outcome> {
        for line in LINES {
            if let Some(p) = self.cells[line[0]]
                && self.cells[line[1]] == Some(p)
                && self.cells[line[2]] == Some(p)
            {
                return Some(Outcome::Win(p));
            }
        }
        if self.move_count() == 9 {
            Some(Outcome::Tie)
        } else {
            None
        }
    }

    /// The cell a bot playing `me` picks, or `None` when the board is full or decided.
    pub fn bot_move(&self, me: Player, difficulty: Difficulty) -> Option<usize> {
        if self.outcome().is_some() {
            return None;
        }
        match difficulty {
            Difficulty::Easy => self.easy_move(me),
            Difficulty::Hard => self.best_move(me),
        }
    }

    fn easy_move(&self, me: Player) -> Option<usize> {
        self.completing_cell(me)
            .or_else(|| self.completing_cell(me.other()))
            .or_else(|| self.cells[4].is_none().then_some(4))
            .or_else(|| self.free_cells().next())
    }

    /// A free cell that would give `who` three in a line.
    fn completing_cell(&self, who: Player) -> Option<usize> {
        PREFERENCE.into_iter().find(|&cell| {
            self.cells[cell].is_none()
                && LINES.iter().any(|line| {
                    line.contains(&cell)
                        && line
                            .iter()
                            .filter(|&&c| c != cell)
                            .all(|&c| self.cells[c] == Some(who))
                })
        })
    }

    fn best_move(&self, me: Player) -> Option<usize> {
        let mut best: Option<(i32, usize)> = None;
        for cell in PREFERENCE {
            if self.cells[cell].is_some() {
                continue;
            }
            let mut next = *self;
            next.cells[cell] = Some(me);
            let score = -next.negamax(me.other());
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, cell));
            }
        }
        best.map(|(_, cell)| cell)
    }

    /// The value of this position for `to_move`: positive wins (sooner is higher),
    /// negative losses, 0 a tie.
    fn negamax(&self, to_move: Player) -> i32 {
        match self.outcome() {
            // The previous move decided the game, so `to_move` has lost (or tied).
            Some(Outcome::Win(p)) => {
                let remaining = 9 - self.move_count() as i32;
                let value = 1 + remaining;
                if p == to_move { value } else { -value }
            }
            Some(Outcome::Tie) => 0,
            None => {
                let mut best = i32::MIN;
                for cell in self.free_cells() {
                    let mut next = *self;
                    next.cells[cell] = Some(to_move);
                    best = best.max(-next.negamax(to_move.other()));
                }
                best
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(s: &str) -> Board {
        let mut cells = [None; 9];
        for (i, c) in s.chars().filter(|c| !c.is_whitespace()).enumerate() {
            cells[i] = match c {
                'X' => Some(Player::X),
                'O' => Some(Player::O),
                _ => None,
            };
        }
        Board::from_cells(cells)
    }

    #[test]
    fn outcome_lines_and_tie() {
        assert_eq!(
            board("XXX OO. ...").outcome(),
            Some(Outcome::Win(Player::X))
        );
        assert_eq!(
            board("X.O X.O ..O").outcome(),
            Some(Outcome::Win(Player::O))
        );
        assert_eq!(
            board("O.X .OX X.O").outcome(),
            Some(Outcome::Win(Player::O))
        );
        assert_eq!(
            board("..X .X. X..").outcome(),
            Some(Outcome::Win(Player::X))
        );
        assert_eq!(board("XOX XOO OXX").outcome(), Some(Outcome::Tie));
        assert_eq!(board("XO. ... ...").outcome(), None);
        for line in LINES {
            let mut b = Board::new();
            for c in line {
                b.play(c as i32, Player::O).unwrap();
            }
            assert_eq!(b.outcome(), Some(Outcome::Win(Player::O)), "{line:?}");
        }
    }

    #[test]
    fn check_rejects_out_of_bounds_and_occupied() {
        let mut b = Board::new();
        assert_eq!(b.check(-1), Err(MoveError::OutOfBounds(-1)));
        assert_eq!(b.check(9), Err(MoveError::OutOfBounds(9)));
        assert_eq!(b.check(i32::MIN), Err(MoveError::OutOfBounds(i32::MIN)));
        assert_eq!(b.play(4, Player::X), Ok(4));
        assert_eq!(b.play(4, Player::O), Err(MoveError::Occupied(4)));
        assert_eq!(b.get(4), Some(Player::X));
        assert_eq!(b.get(100), None);
        assert_eq!(b.move_count(), 1);
    }

    #[test]
    fn bots_win_and_block() {
        for d in [Difficulty::Easy, Difficulty::Hard] {
            assert_eq!(
                board("XX. OO. X..").bot_move(Player::O, d),
                Some(5),
                "{d:?} wins"
            );
            assert_eq!(
                board("XX. .O. ...").bot_move(Player::O, d),
                Some(2),
                "{d:?} blocks"
            );
            assert_eq!(board("XOX XOO OXX").bot_move(Player::O, d), None);
        }
    }

    #[test]
    fn hard_bot_takes_the_fork_defence() {
        // X in opposite corners, O in the centre: O must play an edge, not a corner.
        let cell = board("X.. .O. ..X")
            .bot_move(Player::O, Difficulty::Hard)
            .unwrap();
        assert!([1, 3, 5, 7].contains(&cell), "played {cell}");
    }

    /// Every line of play by the opponent against the hard bot: the bot never loses.
    fn never_loses(b: Board, bot: Player, to_move: Player) {
        if let Some(outcome) = b.outcome() {
            assert_ne!(outcome, Outcome::Win(bot.other()), "{b:?}");
            return;
        }
        if to_move == bot {
            let cell = b.bot_move(bot, Difficulty::Hard).unwrap();
            let mut next = b;
            next.play(cell as i32, bot).unwrap();
            never_loses(next, bot, bot.other());
        } else {
            for cell in b.free_cells() {
                let mut next = b;
                next.play(cell as i32, to_move).unwrap();
                never_loses(next, bot, bot);
            }
        }
    }

    #[test]
    fn hard_bot_never_loses() {
        never_loses(Board::new(), Player::X, Player::X);
        never_loses(Board::new(), Player::O, Player::X);
    }

    #[test]
    fn easy_bot_falls_for_a_fork() {
        // X centre; easy O takes 0 then 1; X 2 forks (2-4-6 and 2-5-8).
        let mut b = Board::new();
        for x in [4, 8, 2, 5] {
            b.play(x, Player::X).unwrap();
            if b.outcome().is_some() {
                break;
            }
            let o = b.bot_move(Player::O, Difficulty::Easy).unwrap();
            b.play(o as i32, Player::O).unwrap();
        }
        assert_eq!(b.outcome(), Some(Outcome::Win(Player::X)), "{b:?}");
    }
}
