//! GGZ ratings: the reference vectors printed by ggzd's compiled `elo.c`
//! (`reference/ggz/elo_vectors.txt`), compared as the `%f` text C printed and as exact
//! `f32` values, plus outcome names and the inputs ggzd never saw.

use glou_core::rating::{INITIAL_RATING, Outcome, Rated, rate};

/// A player without a team.
fn solo(rating: f32, outcome: Outcome) -> Rated {
    Rated {
        rating,
        team: None,
        outcome,
    }
}

/// A player of team `team`.
fn teamed(rating: f32, team: u32, outcome: Outcome) -> Rated {
    Rated {
        rating,
        team: Some(team),
        outcome,
    }
}

/// Rates `players` and checks each new rating against C's `%f` rendering of it, as text
/// and as the exact `f32` that text denotes.
#[track_caller]
fn check(players: &[Rated], expect: &[&str]) {
    let got = rate(players);
    let shown: Vec<String> = got.iter().map(|r| format!("{r:.6}")).collect();
    assert_eq!(shown, expect);
    let exact: Vec<f32> = expect.iter().map(|e| e.parse().unwrap()).collect();
    assert_eq!(got, exact);
}

// One test per line of elo_vectors.txt.

#[test]
fn vector_equal_pair_first_wins() {
    use Outcome::{Loss, Win};
    check(
        &[solo(1500.0, Win), solo(1500.0, Loss)],
        &["1515.000000", "1485.000000"],
    );
}

#[test]
fn vector_equal_pair_tie() {
    use Outcome::Tie;
    check(
        &[solo(1500.0, Tie), solo(1500.0, Tie)],
        &["1500.000000", "1500.000000"],
    );
}

#[test]
fn vector_1500_beats_1700() {
    use Outcome::{Loss, Win};
    check(
        &[solo(1500.0, Win), solo(1700.0, Loss)],
        &["1522.825195", "1677.174805"],
    );
}

#[test]
fn vector_2300_beats_2100_with_k_25_and_15() {
    use Outcome::{Loss, Win};
    check(
        &[solo(2100.0, Loss), solo(2300.0, Win)],
        &["2094.020996", "2303.587402"],
    );
}

#[test]
fn vector_1900_beats_2500_with_k_10_and_30() {
    use Outcome::{Loss, Win};
    check(
        &[solo(2500.0, Loss), solo(1900.0, Win)],
        &["2490.165283", "1929.504150"],
    );
}

#[test]
fn vector_three_equal_first_wins() {
    use Outcome::{Loss, Win};
    check(
        &[solo(1500.0, Win), solo(1500.0, Loss), solo(1500.0, Loss)],
        &["1520.000000", "1490.000000", "1490.000000"],
    );
}

#[test]
fn vector_two_teams_averaging_1500_team0_wins() {
    use Outcome::{Loss, Win};
    check(
        &[
            teamed(1600.0, 0, Win),
            teamed(1400.0, 0, Win),
            teamed(1500.0, 1, Loss),
            teamed(1500.0, 1, Loss),
        ],
        &["1615.000000", "1415.000000", "1485.000000", "1485.000000"],
    );
}

// Beyond the vectors.

#[test]
fn outcome_names_round_trip() {
    let all = [
        Outcome::Win,
        Outcome::Loss,
        Outcome::Tie,
        Outcome::Forfeit,
        Outcome::None,
    ];
    let names: Vec<&str> = all.iter().map(|o| o.as_str()).collect();
    assert_eq!(names, ["win", "loss", "tie", "forfeit", "none"]);
    for outcome in all {
        assert_eq!(outcome.as_str().parse::<Outcome>(), Ok(outcome));
    }
    for bad in ["", "Win", "WIN", "draw", " win", "win "] {
        assert_eq!(bad.parse::<Outcome>(), Err(()), "{bad:?}");
    }
}

#[test]
fn everyone_losing_is_a_tie() {
    use Outcome::{Forfeit, Loss, Tie};
    let equal = [
        solo(1500.0, Loss),
        solo(1500.0, Forfeit),
        solo(1500.0, Loss),
    ];
    assert_eq!(rate(&equal), [1500.0, 1500.0, 1500.0]);

    let lost = rate(&[solo(1400.0, Loss), solo(1600.0, Loss)]);
    let tied = rate(&[solo(1400.0, Tie), solo(1600.0, Tie)]);
    assert_eq!(lost, tied);
    // The weaker player gains what the stronger one loses.
    assert!(lost[0] > 1400.0 && lost[1] < 1600.0);
    assert!(
        ((lost[0] - 1400.0) - (1600.0 - lost[1])).abs() < 1e-3,
        "{lost:?}"
    );
}

#[test]
fn a_lone_player_or_team_keeps_its_rating() {
    assert!(rate(&[]).is_empty());
    for outcome in [
        Outcome::Win,
        Outcome::Loss,
        Outcome::Tie,
        Outcome::Forfeit,
        Outcome::None,
    ] {
        assert_eq!(rate(&[solo(1834.5, outcome)]), [1834.5]);
        let team = [teamed(2100.0, 3, outcome), teamed(1300.25, 3, outcome)];
        assert_eq!(rate(&team), [2100.0, 1300.25]);
    }
}

#[test]
fn team_numbers_need_not_be_consecutive() {
    use Outcome::{Loss, Win};
    let dense = rate(&[
        teamed(1600.0, 0, Win),
        teamed(1400.0, 0, Win),
        solo(1500.0, Loss),
    ]);
    let sparse = rate(&[
        teamed(1600.0, 9, Win),
        teamed(1400.0, 9, Win),
        solo(1500.0, Loss),
    ]);
    assert_eq!(dense, sparse);
    assert_eq!(dense, [1615.0, 1415.0, 1485.0]);
}

#[test]
fn seat_order_does_not_matter() {
    use Outcome::{Loss, Tie, Win};
    let a = rate(&[solo(1712.5, Win), solo(2230.0, Tie), solo(1399.0, Loss)]);
    let b = rate(&[solo(1399.0, Loss), solo(1712.5, Win), solo(2230.0, Tie)]);
    assert_eq!(a, [b[1], b[2], b[0]]);
    // Someone gained, someone lost, and the tie against weaker players cost the favourite.
    assert!(a[0] > 1712.5 && a[1] < 2230.0 && a[2] < 1399.0);
}

#[test]
fn non_finite_ratings_count_as_initial() {
    use Outcome::{Loss, Win};
    for odd in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        assert_eq!(
            rate(&[solo(odd, Win), solo(1500.0, Loss)]),
            [1515.0, 1485.0]
        );
        assert_eq!(rate(&[solo(odd, Loss)]), [INITIAL_RATING]);
    }
}

#[test]
fn extreme_ratings_give_finite_results() {
    use Outcome::{Forfeit, Loss, None, Tie, Win};
    let odd = [
        f32::NAN,
        f32::MAX,
        f32::MIN,
        f32::MIN_POSITIVE,
        -0.0,
        f32::INFINITY,
        1e30,
        -1e30,
    ];
    let outcomes = [Win, Loss, Tie, Forfeit, None];
    let players: Vec<Rated> = odd
        .iter()
        .enumerate()
        .map(|(i, &r)| Rated {
            rating: r,
            team: (i % 3 == 0).then_some(1),
            outcome: outcomes[i % 5],
        })
        .collect();
    let rated = rate(&players);
    assert_eq!(rated.len(), players.len());
    assert!(rated.iter().all(|r| r.is_finite()), "{rated:?}");

    // A team of the two largest ratings overflows an f32 sum but not its mean.
    let rated = rate(&[
        teamed(f32::MAX, 0, Win),
        teamed(f32::MAX, 0, Win),
        solo(0.0, Loss),
    ]);
    assert_eq!(rated, [f32::MAX, f32::MAX, 0.0]);
}
