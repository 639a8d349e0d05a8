// The details of one server in a side panel (full screen on phones): what it runs,
// its players and rules, where it came from, its address with a copy button, and a
// launch link when the game defines one. Kept up to date while open.

import type { Game, Server } from './api';
import { favourites, history, serverKey } from './storage';
import { clean, formatTime, h, replace } from './text';

const UNSAFE_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:']);

/** The link that starts the game on this server, or null. */
function launchUrl(s: Server, game: Game | undefined): string | null {
  let url: string;
  if (s.address.startsWith('ggz://')) url = s.address;
  else if (game?.connect_url) {
    const { host, port } = splitAddress(s.address);
    url = game.connect_url
      .replaceAll('{addr}', s.address)
      .replaceAll('{host}', host)
      .replaceAll('{port}', port);
  } else return null;
  try {
    const parsed = new URL(url);
    return UNSAFE_SCHEMES.has(parsed.protocol.toLowerCase()) ? null : parsed.href;
  } catch {
    return null;
  }
}

function splitAddress(addr: string): { host: string; port: string } {
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(addr);
  return m ? { host: m[1], port: m[2] } : { host: addr, port: '' };
}

export class Details {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly title: HTMLHeadingElement;
  private server: Server | null = null;
  private returnFocus: HTMLElement | null = null;

  constructor(
    private readonly games: () => Map<string, Game>,
    private readonly gameName: (game: string) => string,
    private readonly onFavourite: () => void,
  ) {
    this.title = h('h2', { id: 'details-title', tabindex: -1 });
    const close = h('button', { type: 'button', class: 'icon close', 'aria-label': 'Close details', text: '✕', onclick: () => this.close() });
    this.body = h('div', { class: 'details-body' });
    this.root = h(
      'aside',
      { id: 'details', class: 'details', 'aria-labelledby': 'details-title', hidden: true },
      h('header', { class: 'details-head' }, this.title, close),
      this.body,
    );
    this.root.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.close();
    });
  }

  /** Shows the open server again (its favourite state changed). */
  redraw(): void {
    if (this.server && !this.root.hidden) this.show(this.server);
  }

  open(s: Server, from: HTMLElement | null): void {
    this.returnFocus = from;
    if (!s.offline) history.add(s);
    this.show(s);
    this.root.hidden = false;
    document.body.classList.add('details-open');
    this.title.focus();
  }

  /** Shows the latest state of the open server (or that it went offline). */
  update(servers: Map<string, Server>): void {
    if (!this.server || this.root.hidden) return;
    const now = servers.get(this.server.id);
    if (now === this.server) return;
    this.show(now ?? { ...this.server, offline: true });
  }

  close(): void {
    if (this.root.hidden) return;
    this.root.hidden = true;
    document.body.classList.remove('details-open');
    this.server = null;
    this.returnFocus?.focus();
  }

  private show(s: Server): void {
    this.server = s;
    this.title.replaceChildren(h('bdi', { text: clean(s.name) || clean(s.address) }));
    const fav = favourites.has(serverKey(s));
    const star = h('button', {
      type: 'button', class: 'button', 'aria-pressed': String(fav),
      text: fav ? '★ Favourite' : '☆ Add to favourites',
      onclick: () => {
        favourites.toggle(s);
        this.onFavourite();
        this.show(s);
      },
    });
    replace(
      this.body,
      s.offline ? h('p', { class: 'notice', text: 'This server is not listed right now.' }) : null,
      this.connect(s),
      h('div', { class: 'actions' }, star),
      facts([
        ['Game', this.gameName(s.game)],
        ['Map', clean(s.map) || '—'],
        ['Players', s.offline ? '—' : players(s)],
        ['Password', s.password ? 'Required' : 'No'],
        ['Version', clean(s.version) || '—'],
        ['Source', s.origin ? `${clean(s.source)} (from ${clean(s.origin)})` : clean(s.source) || '—'],
        ['First seen', formatTime(s.first_seen)],
        ['Last seen', formatTime(s.last_seen)],
      ]),
      section('Players', ['Name', 'Score', 'Ping'],
        (s.player_list ?? []).map((p) => [clean(p.name), String(p.score), String(p.ping)]),
        'No player details.'),
      section('Rules', ['Rule', 'Value'],
        Object.entries(s.rules ?? {}).map(([k, v]) => [clean(k), clean(v)]),
        'No rules published.'),
    );
  }

  private connect(s: Server): HTMLElement {
    const addr = h('code', { class: 'address', text: clean(s.address) });
    const status = h('span', { class: 'copy-status', role: 'status' });
    const copy = h('button', {
      type: 'button', class: 'button primary', text: 'Copy address',
      onclick: () => {
        history.add(s);
        navigator.clipboard.writeText(s.address).then(
          () => void (status.textContent = 'Copied'),
          () => {
            const range = document.createRange();
            range.selectNodeContents(addr);
            getSelection()?.removeAllRanges();
            getSelection()?.addRange(range);
            status.textContent = 'Selected: press Ctrl+C to copy';
          },
        );
      },
    });
    const url = launchUrl(s, this.games().get(s.game));
    const launch = url
      ? h('a', { class: 'button', href: url, text: 'Launch game', onclick: () => history.add(s) })
      : null;
    return h('div', { class: 'connect' }, addr, h('div', { class: 'actions' }, copy, launch, status));
  }
}

function players(s: Server): string {
  const of = s.max_players > 0 ? ` of ${s.max_players}` : '';
  return `${s.players}${of}${s.bots > 0 ? `, ${s.bots} bots` : ''}`;
}

function facts(rows: [string, string][]): HTMLElement {
  const dl = h('dl', { class: 'facts' });
  for (const [k, v] of rows) dl.append(h('dt', { text: k }), h('dd', {}, h('bdi', { text: v })));
  return dl;
}

function section(title: string, head: string[], rows: string[][], none: string): HTMLElement {
  const el = h('section', {}, h('h3', { text: title }));
  if (rows.length === 0) {
    el.append(h('p', { class: 'muted', text: none }));
    return el;
  }
  const table = h('table', { class: 'mini' },
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col', text: c })))));
  const tbody = h('tbody');
  for (const r of rows) tbody.append(h('tr', {}, ...r.map((c) => h('td', {}, h('bdi', { text: c })))));
  table.append(tbody);
  el.append(table);
  return el;
}
