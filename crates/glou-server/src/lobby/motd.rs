//! The message of the day: a template whose `%` codes (GGZ's, from its MOTD system) are
//! replaced when it is sent.

use std::time::Duration;

use glou_core::Timestamp;

/// What the `%` codes stand for.
pub struct Facts<'a> {
    pub admin_name: &'a str,
    pub admin_email: &'a str,
    pub port: u16,
    pub now: Timestamp,
    pub uptime: Duration,
    pub players: usize,
    pub tables: usize,
    pub open_tables: usize,
}

/// Replaces `%a` admin name, `%e` admin e-mail, `%h` host name, `%p` port, `%d` date,
/// `%t` time (UTC), `%u` uptime, `%U` players online, `%g` tables, `%G` tables with a
/// free seat, `%o` operating system, `%C` processor, `%v` Glou's version and `%%`.
/// Other codes are left as written.
pub fn render(template: &str, f: &Facts<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(code) = chars.next() else {
            out.push('%');
            break;
        };
        let secs = f.now.as_millis() / 1000;
        match code {
            'a' => out.push_str(f.admin_name),
            'e' => out.push_str(f.admin_email),
            'h' => out.push_str(&hostname()),
            'p' => out.push_str(&f.port.to_string()),
            'd' => out.push_str(&date(secs / 86_400)),
            't' => out.push_str(&format!(
                "{:02}:{:02} UTC",
                secs % 86_400 / 3600,
                secs % 3600 / 60
            )),
            'u' => out.push_str(&uptime(f.uptime)),
            'U' => out.push_str(&f.players.to_string()),
            'g' => out.push_str(&f.tables.to_string()),
            'G' => out.push_str(&f.open_tables.to_string()),
            'o' => out.push_str(std::env::consts::OS),
            'C' => out.push_str(std::env::consts::ARCH),
            'v' => out.push_str(env!("CARGO_PKG_VERSION")),
            '%' => out.push('%'),
            other => {
                out.push('%');
                out.push(other);
            }
        }
    }
    out
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

fn uptime(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 86_400, s % 86_400 / 3600, s % 3600 / 60) {
        (0, 0, m) => format!("{m} minutes"),
        (0, h, m) => format!("{h} hours {m} minutes"),
        (days, h, _) => format!("{days} days {h} hours"),
    }
}

/// "November 21, 2026" for a day count since 1970-01-01 (proleptic Gregorian).
fn date(days: u64) -> String {
    // Howard Hinnant's civil-from-days algorithm.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    format!("{} {day}, {year}", MONTHS[(month - 1) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_replaced() {
        let f = Facts {
            admin_name: "Ann",
            admin_email: "ann@example.org",
            port: 5688,
            // 2026-11-21 10:33 UTC
            now: Timestamp::from_millis(1_795_257_180_000),
            uptime: Duration::from_secs(3 * 3600 + 120),
            players: 7,
            tables: 3,
            open_tables: 1,
        };
        let text = render("%a <%e> %p %d %t up %u; %U/%g/%G %o %C %v 100%% %x", &f);
        assert_eq!(
            text,
            format!(
                "Ann <ann@example.org> 5688 November 21, 2026 10:33 UTC up 3 hours 2 minutes; \
                 7/3/1 {} {} {} 100% %x",
                std::env::consts::OS,
                std::env::consts::ARCH,
                env!("CARGO_PKG_VERSION")
            )
        );
        assert!(!render("%h", &f).is_empty());
        assert_eq!(date(0), "January 1, 1970");
        assert_eq!(date(11_016), "February 29, 2000");
    }
}
