//! GGZ's rating rule: the multi-player, team-capable Elo variant of ggzd (`elo.c`, and the
//! rating part of `stats.c`), reproduced bit for bit. Records, highscores and rankings are
//! kept elsewhere; this file only turns old ratings and outcomes into new ratings.
//!
//! # The rule
//!
//! 1. **Teams.** Players with the same [`Rated::team`] form a team; a player without one is
//!    a team of its own. A team's rating is the mean of its members' ratings.
//! 2. **Scores.** [`Outcome::Win`] counts 1, [`Outcome::Tie`] and [`Outcome::None`] ½,
//!    [`Outcome::Loss`] and [`Outcome::Forfeit`] 0. The team scores are normalised to sum
//!    to 1; when they sum to 0 (everybody lost) every team gets ½ first, which makes the
//!    match a tie.
//! 3. **Expected shares.** With ratings scaled by σ = 200, team *i* expects a share
//!    proportional to Σₓ [Φ(x + 0.01) − Φ(x)] · Πⱼ≠ᵢ Φ(x + rᵢ − rⱼ), x running from −3 by
//!    0.01 while below 3. The shares are normalised to sum to 1.
//! 4. **Update.** Each player moves by K · (team score − team share), where K = 30 below
//!    2000, 10 above 2400 and 130 − rating/20 in between (the chess schedule).
//!
//! # Matching ggzd to the bit
//!
//! The reference vectors (`elo_vectors.txt`, printed from the compiled `elo.c`) are exact
//! `f32` results, so the arithmetic must be ggzd's, not just its formulas. The seven
//! vectors alone do not pin every detail down; these are ggzd's choices:
//!
//! - Φ is a lookup table, not a function: `NORMAL_CDF` holds Φ(−3.00) … Φ(0.00) in steps
//!   of 0.01. For z ≥ 0, Φ(z) = 1 − table[300 − ⌊100z + ½⌋] (round to the nearest entry);
//!   Φ(z) = 1 above 3; for z < 0, Φ(z) = 1 − Φ(−z), so negative arguments round by
//!   magnitude and the table entry passes through two subtractions from 1.
//! - The table holds the CDF at full `f64` precision; ours is correctly rounded (computed
//!   with 50-digit arithmetic). Tables rounded to 4 to 7 decimal places also reproduce the
//!   seven published vectors, which are too coarse to tell them apart, so we checked
//!   against ggzd's `elo.c` compiled with `gcc -O2` on x86-64: on 70,000 random matches of
//!   2–6 players rated 800–2800 a 4-place table disagreed in a third of the matches, a
//!   7-place table in 1 in 670, and this one in none. ggzd's own table carries errors of
//!   up to 1e-9, which we do not copy; they showed as a 1-ulp difference in 1 of 20,000
//!   matches of up to 12 players rated −500–4500.
//! - The integration point is a `f64` that starts at −3 and has 0.01 added each step. The
//!   accumulated rounding leaves the 601st point just below 3, so it is included.
//! - Scaled ratings are `f64` (`rating as f64 / 200`), differences are taken after
//!   scaling, and sums and products of Φ are `f64`. Each team's raw share is stored as
//!   `f32`, the sum of those is `f64`, and each normalised share is stored as `f32` again.
//! - Team ratings, scores, K and the update are `f32` arithmetic (K's in-between formula
//!   is evaluated in `f64` and then stored as `f32`), with no fused multiply-add.
//! - Teams are numbered as in ggzd: teams in increasing order of [`Rated::team`], then the
//!   players without a team in order. The order only matters for the last bit of the sum
//!   of shares.
//!
//! # Where Glou differs, on inputs ggzd mishandles
//!
//! - Team numbers need not be consecutive (ggzd assumed they were and divided by zero for
//!   a missing team).
//! - A rating that is NaN or infinite counts as [`INITIAL_RATING`], and so does the
//!   returned rating. A team mean that overflows `f32` is recomputed in `f64`. If every
//!   raw share comes out 0 (only possible with hundreds of thousands of teams), the teams
//!   expect equal shares. So every returned rating is finite.
//! - As in ggzd, a team whose members report different outcomes is scored by the outcome
//!   of its last member.
//!
//! The work is proportional to 601 × teams², so callers bound the number of seats.

use std::str::FromStr;

/// How a player finished a match, as games report it (GGZ's `GGZGameResult`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The player (or its team) won; it scores 1.
    Win,
    /// The player lost; it scores 0.
    Loss,
    /// The match was drawn; it scores ½.
    Tie,
    /// The player gave up or abandoned the match; it scores 0 like a loss.
    Forfeit,
    /// The game reported no result for the player; it scores ½ like a tie.
    None,
}

/// The rating every player starts at.
pub const INITIAL_RATING: f32 = 1500.0;

/// One player of a rated match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rated {
    /// The rating before the match. NaN or infinite counts as [`INITIAL_RATING`].
    pub rating: f32,
    /// The player's team; players with the same number are one team. `None`: a team of
    /// its own.
    pub team: Option<u32>,
    /// How the player finished.
    pub outcome: Outcome,
}

/// New ratings, in the order of `players`. Empty in, empty out; a single player (or a
/// single team) keeps its rating. Never panics, and every rating returned is finite.
///
/// ```
/// use glou_core::rating::{rate, Outcome, Rated};
///
/// let winner = Rated { rating: 1500.0, team: None, outcome: Outcome::Win };
/// let loser = Rated { rating: 1500.0, team: None, outcome: Outcome::Loss };
/// assert_eq!(rate(&[winner, loser]), [1515.0, 1485.0]);
/// ```
pub fn rate(players: &[Rated]) -> Vec<f32> {
    let ratings: Vec<f32> = players.iter().map(|p| sanitize(p.rating)).collect();
    let (team_of, team_count) = number_teams(players);

    // Team ratings and scores, accumulated in player order as ggzd did.
    let mut sums = vec![0.0_f32; team_count];
    let mut wide_sums = vec![0.0_f64; team_count];
    let mut sizes = vec![0_usize; team_count];
    let mut scores = vec![0.0_f32; team_count];
    for ((player, &rating), &team) in players.iter().zip(&ratings).zip(&team_of) {
        sums[team] += rating;
        wide_sums[team] += f64::from(rating);
        sizes[team] += 1;
        scores[team] = player.outcome.score();
    }
    let team_ratings: Vec<f32> = (0..team_count)
        .map(|t| {
            let mean = sums[t] / sizes[t] as f32;
            if mean.is_finite() {
                mean
            } else {
                (wide_sums[t] / sizes[t] as f64) as f32
            }
        })
        .collect();

    let mut total = scores.iter().fold(0.0_f32, |sum, &s| sum + s);
    if f64::from(total) < 0.01 {
        scores.fill(0.5);
        total = scores.iter().fold(0.0_f32, |sum, &s| sum + s);
    }
    for score in &mut scores {
        *score /= total;
    }

    let shares = expected_shares(&team_ratings);
    ratings
        .iter()
        .zip(&team_of)
        .map(|(&old, &team)| old + k_factor(old) * (scores[team] - shares[team]))
        .collect()
}

impl Outcome {
    /// The outcome's name: `"win"`, `"loss"`, `"tie"`, `"forfeit"` or `"none"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Win => "win",
            Outcome::Loss => "loss",
            Outcome::Tie => "tie",
            Outcome::Forfeit => "forfeit",
            Outcome::None => "none",
        }
    }

    /// What the outcome is worth before normalisation.
    fn score(self) -> f32 {
        match self {
            Outcome::Win => 1.0,
            Outcome::Tie | Outcome::None => 0.5,
            Outcome::Loss | Outcome::Forfeit => 0.0,
        }
    }
}

impl FromStr for Outcome {
    type Err = ();

    /// Parses the names [`Outcome::as_str`] gives, exactly (lowercase).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "win" => Ok(Outcome::Win),
            "loss" => Ok(Outcome::Loss),
            "tie" => Ok(Outcome::Tie),
            "forfeit" => Ok(Outcome::Forfeit),
            "none" => Ok(Outcome::None),
            _ => Err(()),
        }
    }
}

/// Ratings are scaled by this standard deviation before Φ is applied.
const STD_DEV: f64 = 200.0;

/// The integration step, which is also the table's step.
const STEP: f64 = 0.01;

/// A non-finite rating counts as the initial one.
fn sanitize(rating: f32) -> f32 {
    if rating.is_finite() {
        rating
    } else {
        INITIAL_RATING
    }
}

/// Each player's team as an index into `0..count`: numbered teams first, in increasing
/// order of their number, then one team per player without a number, in player order.
fn number_teams(players: &[Rated]) -> (Vec<usize>, usize) {
    let mut numbers: Vec<u32> = players.iter().filter_map(|p| p.team).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let mut count = numbers.len();
    let team_of = players
        .iter()
        .map(|p| match p.team {
            // Always found: `numbers` holds every team number.
            Some(n) => numbers.binary_search(&n).unwrap_or_else(|i| i),
            None => {
                count += 1;
                count - 1
            }
        })
        .collect();
    (team_of, count)
}

/// The chess K-factor for a player's rating.
fn k_factor(rating: f32) -> f32 {
    if rating < 2000.0 {
        30.0
    } else if rating > 2400.0 {
        10.0
    } else {
        (130.0 - f64::from(rating) / 20.0) as f32
    }
}

/// Each team's expected share of the points, summing to 1.
fn expected_shares(team_ratings: &[f32]) -> Vec<f32> {
    let scaled: Vec<f64> = team_ratings
        .iter()
        .map(|&r| f64::from(r) / STD_DEV)
        .collect();
    let raw: Vec<f32> = (0..scaled.len())
        .map(|i| integrate(&scaled, i) as f32)
        .collect();
    let total = raw.iter().fold(0.0_f64, |sum, &r| sum + f64::from(r));
    if !(total > 0.0 && total.is_finite()) {
        return vec![1.0 / raw.len() as f32; raw.len()];
    }
    raw.iter().map(|&r| (f64::from(r) / total) as f32).collect()
}

/// The unnormalised share of team `i`: the chance that its performance, drawn on the
/// grid, beats every other team's.
fn integrate(scaled: &[f64], i: usize) -> f64 {
    let mine = scaled[i];
    grid().fold(0.0, |total, x| {
        let mut part = normal_cdf(x + STEP) - normal_cdf(x);
        for (j, &other) in scaled.iter().enumerate() {
            if j != i {
                part *= normal_cdf(x + (mine - other));
            }
        }
        total + part
    })
}

/// The integration points: ggzd's `for (p = -3; p < 3; p += 0.01)`. The rounding error
/// the additions accumulate leaves the last point just below 3, so there are 601.
fn grid() -> impl Iterator<Item = f64> {
    std::iter::successors(Some(-3.0_f64), |&x| Some(x + STEP)).take_while(|&x| x < 3.0)
}

/// Φ, the standard normal CDF, looked up in [`NORMAL_CDF`] as ggzd did.
fn normal_cdf(z: f64) -> f64 {
    if z < 0.0 {
        1.0 - upper_cdf(-z)
    } else {
        upper_cdf(z)
    }
}

/// Φ for z ≥ 0: the nearest table entry, mirrored. NaN lands on the middle entry.
fn upper_cdf(z: f64) -> f64 {
    if z > 3.0 {
        return 1.0;
    }
    // Saturating cast: at most 300 because z <= 3, and 0 for NaN.
    let steps = (z * 100.0 + 0.5) as usize;
    1.0 - NORMAL_CDF[300usize.saturating_sub(steps)]
}

/// Φ(k/100 − 3) for k = 0..=300, the standard normal CDF from −3.00 to 0.00, as the
/// nearest `f64`. Each row starts at the z in its comment and steps by 0.01.
#[rustfmt::skip]
const NORMAL_CDF: [f64; 301] = [
    /* -3.00 */ 0.0013498980316300946, 0.0013948872354922505, 0.0014412419173400147, 0.0014889987452374658, 0.0015381952117380587, 0.0015888696473648684, 0.0016410612341569973, 0.0016948100192772624, 0.0017501569286761, 0.001807143780806429,
    /* -2.90 */ 0.001865813300384038, 0.0019262091321878608, 0.001988375854894325, 0.002052358994939754, 0.00211820504040462, 0.002185961454913241, 0.002255676691542323, 0.0023274002067315545, 0.0024011824741892516, 0.0024770749987858614,
    /* -2.80 */ 0.002555130330427933, 0.0026354020779049527, 0.0027179449227012586, 0.002802814632765028, 0.0028900680762261465, 0.002979763235054557, 0.0030719592186504927, 0.0031667162773577947, 0.0032640958158913127, 0.0033641604066691933,
    /* -2.70 */ 0.0034669738030406686, 0.0035726009523997394, 0.003681108009174982, 0.003792562347685489, 0.003907032574852779, 0.004024588542758308, 0.004145301361036042, 0.004269243409089351, 0.0043964883481213135, 0.004527111132967323,
    /* -2.60 */ 0.00466118802371875, 0.004798796597126181, 0.004940015757770646, 0.005084925748991038, 0.0052336081635557885, 0.005386145954066688, 0.0055426234430826045, 0.005703126332950697, 0.005867741715332564, 0.00603655808041266,
    /* -2.50 */ 0.006209665325776135, 0.006387154764943177, 0.006569119135546762, 0.006755652607140651, 0.006946850788624315, 0.00714281073527142, 0.007343630955348348, 0.007549411416309207, 0.007760253550553644, 0.00797626026073373,
    /* -2.40 */ 0.00819753592459613, 0.008424186399345692, 0.008656319025516548, 0.008894042630336777, 0.00913746753057267, 0.009386705534838577, 0.009641869945358332, 0.009903075559164252, 0.010170438668719677, 0.010444077061951086,
    /* -2.30 */ 0.010724110021675805, 0.011010658324411388, 0.011303844238552792, 0.011603791521903535, 0.011910625418547064, 0.012224472655044703, 0.012545461435946568, 0.012873721438602022, 0.01320938380725628, 0.013552581146419981,
    /* -2.20 */ 0.013903447513498611, 0.014262118410668875, 0.014628730775989262, 0.015003422973732203, 0.015386334783925454, 0.01577760739109051, 0.016177383372166097, 0.016585806683605014, 0.0170030226476328, 0.017429177937657088,
    /* -2.10 */ 0.017864420562816556, 0.018308899851658962, 0.018762766434937753, 0.01922617222751729, 0.0196992704093769, 0.0201822154057044, 0.020675162866070053, 0.021178269642672266, 0.021691693767646784, 0.022215594429431475,
    /* -2.00 */ 0.02275013194817921, 0.023295467750211823, 0.02385176434150852, 0.024419185280222546, 0.024997895148220435, 0.025588059521638624, 0.026189844940452692, 0.026803418877054962, 0.027428949703836816, 0.02806660665977251,
    /* -1.90 */ 0.0287165598160018, 0.029378980040409428, 0.030054038961199788, 0.03074190892946596, 0.03144276298075271, 0.03215677479561371, 0.03288411865916389, 0.03362496941962834, 0.03437950244589, 0.0351478935840388,
    /* -1.80 */ 0.0359303191129258, 0.0367269556987263, 0.03753798034851679, 0.03836357036287123, 0.039203903287482654, 0.04005915686381709, 0.040929508978807365, 0.04181513761359495, 0.04271622079132893, 0.043632936524031905,
    /* -1.70 */ 0.04456546275854304, 0.0455139773215498, 0.046478657863720046, 0.04745968180294732, 0.048457226266722817, 0.049471468033648096, 0.05050258347410371, 0.05155074849008936, 0.05261613845425206, 0.05369892814811971,
    /* -1.60 */ 0.054799291699557995, 0.055917402519469445, 0.05705343323775423, 0.05820755563855302, 0.05937994059479303, 0.06057075800205901, 0.06178017671181189, 0.06300836446397842, 0.06425548781893584, 0.0655217120889165,
    /* -1.50 */ 0.06680720126885807, 0.06811211796672545, 0.06943662333333171, 0.07078087699168553, 0.07214503696589378, 0.07352925960964835, 0.07493369953432705, 0.0763585095367391, 0.07780384052654639, 0.07926984145339239,
    /* -1.40 */ 0.08075665923377105, 0.08226443867766894, 0.08379332241501426, 0.08534345082196698, 0.08691496194708503, 0.08850799143740204, 0.09012267246445246, 0.09175913565028082, 0.0934175089934718, 0.09509791779523905,
    /* -1.30 */ 0.09680048458561033, 0.09852532904974784, 0.10027256795444209, 0.10204231507481915, 0.1038346811213004, 0.10564977366685525, 0.10748769707458691, 0.10934855242569194, 0.1112324374478346, 0.11313944644397729,
    /* -1.20 */ 0.11506967022170826, 0.11702319602310872, 0.1190001074552007, 0.1210004844210182, 0.12302440305134338, 0.12507193563715027, 0.12714315056279826, 0.12923811224001783, 0.13135688104273072, 0.13349951324274723,
    /* -1.10 */ 0.13566606094638267, 0.1378565720320355, 0.14007109008876906, 0.14230965435593923, 0.1445722996639096, 0.14685905637589594, 0.14916995033098143, 0.1515050027883437, 0.15386423037273486, 0.1562476450212546,
    /* -1.00 */ 0.15865525393145705, 0.1610870595108309, 0.16354305932769234, 0.1660232460635296, 0.16852760746683781, 0.1710561263084818, 0.17360878033862456, 0.17618554224525793, 0.17878637961437172, 0.18141125489179724,
    /* -0.90 */ 0.1840601253467595, 0.18673294303717264, 0.18942965477671214, 0.19215020210369618, 0.19489452125180837, 0.19766254312269238, 0.20045419326044966, 0.2032693918280684, 0.20610805358581308, 0.2089700878716016,
    /* -0.80 */ 0.2118553985833967, 0.21476388416363712, 0.21769543758573312, 0.22064994634264962, 0.22362729243759943, 0.2266273523768682, 0.2296499971647906, 0.23269509230089744, 0.23576249777925115, 0.2388520680899867,
    /* -0.70 */ 0.241963652223073, 0.24509709367430946, 0.24825223045357053, 0.25142889509531013, 0.25462691467133614, 0.2578461108058647, 0.26108629969286157, 0.26434729211567753, 0.26762889346898305, 0.2709309037830057,
    /* -0.60 */ 0.2742531177500736, 0.2775953247534649, 0.28095730889856435, 0.28433884904632417, 0.28773971884902705, 0.29115968678834636, 0.29459851621569805, 0.29805596539487644, 0.3015317875469662, 0.30502573089751944,
    /* -0.50 */ 0.3085375387259869, 0.31206694941739055, 0.31561369651622256, 0.3191775087825558, 0.32275811025034773, 0.32635522028792, 0.3299685536605937, 0.3335978205954577, 0.3372427268482495, 0.3409029737723226,
    /* -0.40 */ 0.3445782583896758, 0.3482682734640176, 0.3519727075758372, 0.3556912451994533, 0.35942356678200876, 0.36316934882438096, 0.36692826396397193, 0.3706999810593465, 0.37448416527668, 0.3782804781779807,
    /* -0.30 */ 0.3820885778110474, 0.3859081188011227, 0.3897387524442028, 0.3935801268019605, 0.3974318867982395, 0.4012936743170763, 0.40516512830220414, 0.40904588485799415, 0.4129355773517854, 0.4168338365175577,
    /* -0.20 */ 0.42074029056089696, 0.42465456526520456, 0.42857628409909926, 0.4325050683249616, 0.4364405371085672, 0.4403823076297575, 0.44432999519409355, 0.44828321334543886, 0.45224157397941617, 0.4562046874576832,
    /* -0.10 */ 0.460172162722971, 0.4641436074148279, 0.4681186279860126, 0.47209682981947887, 0.47607781734589316, 0.4800611941616275, 0.48404656314716926, 0.48803352658588733, 0.492021686283098, 0.4960106436853684,
    /* 0.00 */ 0.5,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_has_601_points_ending_just_below_3() {
        let points: Vec<f64> = grid().collect();
        assert_eq!(points.len(), 601);
        assert_eq!(points[0], -3.0);
        assert!(points[600] < 3.0 && points[600] > 2.9999);
    }

    #[test]
    fn table_is_the_rising_lower_half_of_the_cdf() {
        assert!(NORMAL_CDF.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(NORMAL_CDF[300], 0.5);
        assert_eq!(NORMAL_CDF[200], 0.158_655_253_931_457_05); // Φ(−1)
        assert_eq!(normal_cdf(1.0), 1.0 - NORMAL_CDF[200]);
        assert_eq!(normal_cdf(3.5), 1.0);
        assert_eq!(normal_cdf(-3.5), 0.0);
    }
}
