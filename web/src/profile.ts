// The profile view: the player's avatar (upload), real name and bio (editable), and
// per-game statistics with each game's rankings.

import { call, enc, type Profile, type Ranking, type Session } from './api';
import { clean, cleanLines, formatTime, h, replace } from './text';

export class ProfileView {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private avatarVersion = 0;

  constructor(
    private readonly session: () => Session | null,
    private readonly signIn: () => void,
  ) {
    this.body = h('div', { class: 'profile' });
    this.root = h('section', { class: 'view page', 'aria-labelledby': 'profile-title' },
      h('h1', { id: 'profile-title', text: 'Profile' }), this.body);
  }

  async show(): Promise<void> {
    const session = this.session();
    if (!session) {
      replace(this.body, h('p', { text: 'Sign in to see your profile, statistics and rankings.' }),
        h('button', { type: 'button', class: 'button primary', text: 'Sign in', onclick: () => this.signIn() }));
      return;
    }
    if (session.guest) {
      replace(this.body, h('p', { text: `You are playing as the guest ${clean(session.name)}. Guests have no profile: create an account to keep statistics.` }));
      return;
    }
    replace(this.body, h('p', { class: 'muted', text: 'Loading…' }));
    try {
      const profile = await call<Profile>('GET', `/api/v1/players/${enc(session.name)}`);
      this.render(profile);
    } catch (e) {
      replace(this.body, h('p', { class: 'form-error', role: 'alert', text: e instanceof Error ? e.message : 'failed' }));
    }
  }

  private render(p: Profile): void {
    const status = h('p', { class: 'form-status', role: 'status' });
    const avatar = h('img', { class: 'avatar', alt: `Avatar of ${clean(p.name)}`, width: 96, height: 96 });
    if (p.avatar) avatar.src = `/api/v1/players/${enc(p.name)}/avatar?v=${this.avatarVersion}`;
    else avatar.classList.add('none');
    const file = h('input', { id: 'avatar-file', type: 'file', accept: 'image/png,image/jpeg,image/webp,image/gif', class: 'visually-hidden' });
    file.addEventListener('change', () => void this.upload(p.name, file, status));
    const realName = h('input', { id: 'p-real', maxlength: 64, value: cleanLines(p.real_name ?? '') });
    const bio = h('textarea', { id: 'p-bio', maxlength: 500, rows: 4 });
    bio.value = cleanLines(p.bio ?? '');
    const save = async (e: Event): Promise<void> => {
      e.preventDefault();
      try {
        await call('PATCH', `/api/v1/players/${enc(p.name)}`, { real_name: realName.value, bio: bio.value });
        status.textContent = 'Saved';
      } catch (err) {
        status.textContent = err instanceof Error ? err.message : 'not saved';
      }
    };
    const rankings = h('div', { class: 'rankings' });
    replace(
      this.body,
      h('div', { class: 'profile-head' },
        avatar,
        h('div', {},
          h('h2', {}, h('bdi', { text: p.name })),
          h('p', { class: 'muted', text: `Member since ${formatTime(p.created_at)}` }),
          h('label', { for: 'avatar-file', class: 'button', text: 'Change avatar…' }), file)),
      h('form', { class: 'profile-form', onsubmit: (e: Event) => void save(e) },
        h('div', { class: 'field' }, h('label', { for: 'p-real', text: 'Real name' }), realName),
        h('div', { class: 'field' }, h('label', { for: 'p-bio', text: 'About you' }), bio),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary', text: 'Save profile' }), status)),
      h('h2', { text: 'Statistics' }),
      p.stats.length === 0
        ? h('p', { class: 'muted', text: 'No games played yet.' })
        : statsTable(p, (game) => void this.rankings(game, rankings)),
      rankings,
    );
  }

  private async upload(name: string, file: HTMLInputElement, status: HTMLElement): Promise<void> {
    const f = file.files?.[0];
    if (!f) return;
    status.textContent = 'Uploading…';
    try {
      await call('PUT', `/api/v1/players/${enc(name)}/avatar`, f);
      this.avatarVersion++;
      await this.show();
    } catch (e) {
      status.textContent = e instanceof Error ? e.message : 'upload failed';
    }
  }

  private async rankings(game: string, into: HTMLElement): Promise<void> {
    try {
      const r = await call<{ rankings: Ranking[] }>('GET', `/api/v1/games/${enc(game)}/rankings?limit=20`);
      const rows = r.rankings.map((x) => [String(x.rank), clean(x.name), `${x.wins}–${x.losses}–${x.ties}`,
        String(x.rating ?? x.highscore ?? '—')]);
      replace(into, h('h2', { text: `Rankings: ${game}` }), table(['Rank', 'Player', 'W–L–T', 'Rating'], rows));
    } catch (e) {
      replace(into, h('p', { class: 'form-error', role: 'alert', text: e instanceof Error ? e.message : 'failed' }));
    }
  }
}

function statsTable(p: Profile, rankings: (game: string) => void): HTMLElement {
  const t = table(['Game', 'W–L–T', 'Rating', 'Rank', 'Rankings'], []);
  const tbody = t.tBodies[0];
  for (const s of p.stats) {
    tbody.append(h('tr', {},
      h('td', { text: s.game }),
      h('td', { text: `${s.wins}–${s.losses}–${s.ties}` }),
      h('td', { text: String(s.rating ?? s.highscore ?? '—') }),
      h('td', { text: s.rank === null ? '—' : `#${s.rank}` }),
      h('td', {}, h('button', { type: 'button', class: 'button small', text: 'Rankings', onclick: () => rankings(s.game) }))));
  }
  return t;
}

function table(head: string[], rows: string[][]): HTMLTableElement {
  const tbody = h('tbody');
  for (const r of rows) tbody.append(h('tr', {}, ...r.map((c) => h('td', {}, h('bdi', { text: c })))));
  return h('table', { class: 'mini' },
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col', text: c })))), tbody);
}
