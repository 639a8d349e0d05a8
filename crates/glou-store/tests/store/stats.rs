//! Match reports: records, GGZ ratings and highscores in one transaction; rankings by
//! each statistics model; the match history.

use glou_core::Timestamp;
use glou_core::account::{Perm, Perms};
use glou_core::rating::Outcome;
use glou_store::{
    MatchPlayer, MatchReport, PlayerKind, RankModel, Refusal, StatsModel, Store, StoreError,
};

use crate::accounts::register;
use crate::each_backend;

const ALL: StatsModel = StatsModel {
    records: true,
    ratings: true,
    highscores: false,
};

fn seat(name: &str, outcome: Outcome, score: i64) -> MatchPlayer {
    MatchPlayer {
        name: name.into(),
        kind: PlayerKind::Registered,
        team: None,
        outcome,
        score,
    }
}

fn report(players: Vec<MatchPlayer>) -> MatchReport {
    MatchReport {
        game: "tictactoe".into(),
        players,
    }
}

async fn play(store: &Store, model: StatsModel, players: Vec<MatchPlayer>, at: u64) {
    store
        .report_match(&report(players), model, Timestamp::from_millis(at))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_report_updates_records_ratings_and_history() {
    each_backend(|store| async move {
        register(&store, "alice").await;
        register(&store, "bob").await;
        let m = store
            .report_match(
                &report(vec![
                    seat("alice", Outcome::Win, 3),
                    seat("bob", Outcome::Loss, 1),
                ]),
                ALL,
                Timestamp::from_millis(10),
            )
            .await
            .unwrap();
        assert_eq!(m.winner, "alice");
        // GGZ's vector: 1500 vs 1500, p0 wins -> 1515 / 1485.
        let after: Vec<_> = m.players.iter().map(|p| p.rating_after).collect();
        assert_eq!(after, [Some(1515.0), Some(1485.0)]);
        let alice = store.player_stats("Alice").await.unwrap();
        assert_eq!(alice.len(), 1);
        let a = &alice[0];
        assert_eq!(
            (
                a.game.as_str(),
                a.wins,
                a.losses,
                a.ties,
                a.matches,
                a.rating
            ),
            ("tictactoe", 1, 0, 0, 1, 1515.0)
        );
        assert_eq!(a.highscore, 0, "the game keeps no highscores");
        let bob = &store.player_stats("bob").await.unwrap()[0];
        assert_eq!((bob.losses, bob.rating), (1, 1485.0));

        play(
            &store,
            ALL,
            vec![seat("bob", Outcome::Tie, 0), seat("alice", Outcome::Tie, 0)],
            20,
        )
        .await;
        let history = store.matches_of("alice", None, 10).await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].winner, "", "a tie has no winner");
        assert_eq!(history[0].players[0].player.name, "bob");
        assert_eq!(history[1].id, m.id);
        assert_eq!(history[1], m, "the history holds what the report returned");
        let older = store
            .matches_of("alice", Some(history[0].id), 10)
            .await
            .unwrap();
        assert_eq!(older, [m]);
    })
    .await;
}

#[tokio::test]
async fn teams_bots_guests_and_no_stats() {
    each_backend(|store| async move {
        for n in ["p0", "p1", "nostat"] {
            register(&store, n).await;
        }
        let ns = store.account("nostat").await.unwrap().unwrap();
        store
            .set_perms(ns.id, Perms::REGISTERED.with(Perm::NoStats, true))
            .await
            .unwrap();
        let m = store
            .report_match(
                &report(vec![
                    MatchPlayer {
                        team: Some(0),
                        ..seat("p0", Outcome::Win, 0)
                    },
                    MatchPlayer {
                        team: Some(0),
                        kind: PlayerKind::Bot,
                        ..seat("AI", Outcome::Win, 0)
                    },
                    MatchPlayer {
                        team: Some(1),
                        kind: PlayerKind::Guest,
                        ..seat("visitor", Outcome::Loss, 0)
                    },
                    MatchPlayer {
                        team: Some(1),
                        ..seat("nostat", Outcome::Loss, 0)
                    },
                ]),
                ALL,
                Timestamp::from_millis(5),
            )
            .await
            .unwrap();
        assert_eq!(m.winner, "", "two winners");
        let kept: Vec<bool> = m.players.iter().map(|p| p.rating_after.is_some()).collect();
        assert_eq!(kept, [true, true, false, false]);
        assert_eq!(m.players[0].rating_after, Some(1515.0));
        // The anonymous bot is kept as GGZ did: "SEAT|AI".
        let ranks = store
            .rankings("tictactoe", RankModel::Rating, 0, 10)
            .await
            .unwrap();
        let names: Vec<_> = ranks.iter().map(|r| r.stats.player.as_str()).collect();
        assert_eq!(names, ["AI", "p0"], "ties broken by key: '1|ai' < 'p0'");
        assert!(store.player_stats("nostat").await.unwrap().is_empty());
        assert!(store.player_stats("p1").await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn bad_reports_write_nothing() {
    each_backend(|store| async move {
        register(&store, "alice").await;
        let refused = |r: Result<_, StoreError>| match r {
            Err(StoreError::Refused(r)) => r,
            other => panic!("expected a refusal, got {other:?}"),
        };
        let t = Timestamp::from_millis(1);
        let unknown = store
            .report_match(
                &report(vec![
                    seat("alice", Outcome::Win, 0),
                    seat("ghost", Outcome::Loss, 0),
                ]),
                ALL,
                t,
            )
            .await;
        assert_eq!(refused(unknown), Refusal::UnknownPlayer("ghost".into()));
        let twice = store
            .report_match(
                &report(vec![
                    seat("alice", Outcome::Win, 0),
                    seat("ALICE", Outcome::Loss, 0),
                ]),
                ALL,
                t,
            )
            .await;
        assert_eq!(refused(twice), Refusal::DuplicatePlayer("ALICE".into()));
        let empty = store.report_match(&report(vec![]), ALL, t).await;
        assert_eq!(refused(empty), Refusal::EmptyReport);
        assert!(
            store.player_stats("alice").await.unwrap().is_empty(),
            "no half-written stats"
        );
        assert!(
            store
                .matches_of("alice", None, 10)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn rankings_follow_the_game_model() {
    each_backend(|store| async move {
        for n in ["ann", "ben", "cat"] {
            register(&store, n).await;
        }
        let scores = StatsModel {
            records: true,
            ratings: true,
            highscores: true,
        };
        // ann: 2 wins, score 10; ben: 1 win 1 loss, score 50; cat: 2 losses, score 20.
        play(
            &store,
            scores,
            vec![
                seat("ann", Outcome::Win, 10),
                seat("cat", Outcome::Loss, 20),
            ],
            1,
        )
        .await;
        play(
            &store,
            scores,
            vec![seat("ann", Outcome::Win, 5), seat("ben", Outcome::Loss, 50)],
            2,
        )
        .await;
        play(
            &store,
            scores,
            vec![seat("ben", Outcome::Win, 1), seat("cat", Outcome::Loss, 0)],
            3,
        )
        .await;
        let order = |model| {
            let store = store.clone();
            async move {
                store
                    .rankings("tictactoe", model, 0, 10)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|r| (r.rank, r.stats.player))
                    .collect::<Vec<_>>()
            }
        };
        let s = |v: &[(i64, &str)]| {
            v.iter()
                .map(|(r, n)| (*r, n.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            order(RankModel::Highscore).await,
            s(&[(1, "ben"), (2, "cat"), (3, "ann")])
        );
        assert_eq!(
            order(RankModel::WinsLosses).await,
            s(&[(1, "ann"), (2, "ben"), (3, "cat")])
        );
        let by_rating = order(RankModel::Rating).await;
        assert_eq!(by_rating[0].1, "ann");
        assert_eq!(by_rating[2].1, "cat");
        assert_eq!(
            store
                .rank("cat", "tictactoe", RankModel::Highscore)
                .await
                .unwrap(),
            Some(2)
        );
        assert_eq!(
            store
                .rank("ann", "tictactoe", RankModel::WinsLosses)
                .await
                .unwrap(),
            Some(1)
        );
        assert_eq!(
            store.rank("ann", "chess", RankModel::Rating).await.unwrap(),
            None
        );
        // Paging.
        let page = store
            .rankings("tictactoe", RankModel::Highscore, 1, 1)
            .await
            .unwrap();
        assert_eq!((page[0].rank, page[0].stats.player.as_str()), (2, "cat"));
        // Reset one player's statistics in a game; the history stays.
        assert_eq!(
            store.reset_stats("ben", Some("tictactoe")).await.unwrap(),
            1
        );
        assert_eq!(
            order(RankModel::Highscore).await,
            s(&[(1, "cat"), (2, "ann")])
        );
        assert_eq!(store.matches_of("ben", None, 10).await.unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn savegames_are_kept_newest_first_per_game() {
    each_backend(|store| async move {
        let save = |path: &str, at: u64| glou_store::Savegame {
            game: "chess".into(),
            room: 2,
            table: 7,
            owner: "alice".into(),
            path: path.into(),
            saved_at: glou_core::Timestamp::from_millis(at),
        };
        store.add_savegame(&save("/saves/1", 1_000)).await.unwrap();
        store.add_savegame(&save("/saves/2", 2_000)).await.unwrap();
        let mut other = save("/saves/x", 3_000);
        other.game = "go".into();
        store.add_savegame(&other).await.unwrap();
        let got = store.savegames("chess", 10).await.unwrap();
        assert_eq!(got, [save("/saves/2", 2_000), save("/saves/1", 1_000)]);
        assert_eq!(store.savegames("chess", 1).await.unwrap().len(), 1);
        assert!(store.savegames("checkers", 10).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn clearing_a_game_keeps_other_games_and_the_history() {
    each_backend(|store| async move {
        register(&store, "ann").await;
        register(&store, "ben").await;
        let pair = || vec![seat("ann", Outcome::Win, 5), seat("ben", Outcome::Loss, 2)];
        play(&store, ALL, pair(), 1).await;
        play(&store, ALL, pair(), 2).await;
        let chess = MatchReport {
            game: "chess".into(),
            players: pair(),
        };
        let at = Timestamp::from_millis(3);
        store.report_match(&chess, ALL, at).await.unwrap();

        assert_eq!(store.clear_game_stats("tictactoe").await.unwrap(), 2);
        let ranked = |game: &'static str| {
            let store = store.clone();
            async move {
                let rows = store.rankings(game, RankModel::Rating, 0, 10).await;
                let rows = rows.unwrap();
                rows.into_iter().map(|r| r.stats).collect::<Vec<_>>()
            }
        };
        assert!(ranked("tictactoe").await.is_empty());
        let chess = ranked("chess").await;
        let kept: Vec<_> = chess.iter().map(|s| (s.player.as_str(), s.wins)).collect();
        assert_eq!(kept, [("ann", 1), ("ben", 0)]);
        let games: Vec<_> = store.player_stats("ann").await.unwrap();
        let games: Vec<_> = games.iter().map(|s| s.game.as_str()).collect();
        assert_eq!(games, ["chess"]);
        assert_eq!(
            store.matches_of("ann", None, 10).await.unwrap().len(),
            3,
            "the history stays"
        );
        assert_eq!(store.clear_game_stats("tictactoe").await.unwrap(), 0);
        assert_eq!(store.clear_game_stats("go").await.unwrap(), 0);
    })
    .await;
}
