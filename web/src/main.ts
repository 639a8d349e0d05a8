// The page: builds the layout, connects the live socket and routes its messages, and
// wires the server list (games, tabs, filters, table, details) with the lobby,
// friends and profile views (#lobby, #friends, #profile).

import { Account } from './account';
import { call, enc, type Game, type Server } from './api';
import { Lobby } from './chat';
import { Details } from './details';
import { Filters } from './filters';
import { FriendsView } from './friends';
import { GamesList } from './games';
import { Live, type LinkState, type Message } from './live';
import { ProfileView } from './profile';
import { PREVIEW_SIZE, Store, type Filter, type Tab } from './store';
import { favourites } from './storage';
import { Table } from './table';
import { h, replace } from './text';

const GAMES_EVERY_MS = 10_000;
const GAMES_THROTTLE_MS = 2_000;
const LIST_MESSAGES = new Set(['snapshot', 'added', 'updated', 'removed', 'resumed']);

const store = new Store();
const account = new Account();
let games = new Map<string, Game>();
const gameName = (game: string): string => games.get(game)?.name ?? game;

// The server list.
const details = new Details(() => games, gameName, () => store.refresh());
const table = new Table(store, gameName, (s, row) => details.open(s, row), (s) => {
  favourites.toggle(s);
  store.refresh();
  details.redraw();
});
const gamesList = new GamesList(gameName, (game) => filters.setGame(game));
const filters = new Filters(subscribe, gameName);
const summary = h('p', { class: 'summary', 'aria-live': 'off' });
const tabs = tabBar();
const listPane = h('div', { class: 'list-pane', id: 'list-panel', role: 'tabpanel', 'aria-labelledby': 'tab-all' },
  h('h1', { class: 'visually-hidden', text: 'Game servers' }), tabs.root, filters.root, summary, table.root);
const serversView = h('section', { class: 'view servers' }, gamesList.root, listPane, details.root);

// The other views.
const live = new Live(onMessage, showLink, () => lobby.reopened(), () => void account.recheck());
const lobby = new Lobby(live, () => account.session);
const friends = new FriendsView(() => account.session, () => account.showDialog(),
  (ids) => {
    store.friendServers = ids;
    if (store.tab === 'friends') store.refresh();
  },
  (id) => {
    const s = store.servers.get(id);
    if (s) {
      location.hash = '';
      details.open(s, null);
    }
  });
const profile = new ProfileView(() => account.session, () => account.showDialog());
const views: Record<string, HTMLElement> = { '': serversView, lobby: lobby.root, friends: friends.root, profile: profile.root };

// The header.
const link = h('p', { class: 'link', role: 'status' });
const who = h('div', { class: 'account' });
const nav = h('nav', { class: 'views', 'aria-label': 'Sections' },
  ...[['', 'Servers'], ['lobby', 'Lobby'], ['friends', 'Friends'], ['profile', 'Profile']].map(([id, label]) =>
    h('a', { href: `#${id}`, 'data-view': id, text: label })));
const header = h('header', { class: 'top' },
  h('a', { class: 'brand', href: '#' }, h('img', { src: 'icon.svg', alt: '', width: 28, height: 28 }), h('span', { text: 'Glou' })),
  nav, link, who);

let firstRows = false;
store.onChange((change) => {
  table.render();
  details.update(store.servers);
  const players = store.view.reduce((n, s) => n + s.players, 0);
  summary.textContent = store.previewing
    ? 'Loading the whole list…'
    : `${store.view.length.toLocaleString()} servers · ${players.toLocaleString()} players`;
  if ((change.snapshot || change.preview) && !firstRows) {
    firstRows = true;
    performance.mark('glou:first-rows');
  }
  if (change.snapshot) performance.mark('glou:snapshot');
  if (change.membership) refreshGamesSoon();
});

function subscribe(f: Filter): void {
  if (JSON.stringify(f) === JSON.stringify(store.filter) && store.seq !== undefined) return;
  store.reset(f);
  gamesList.select(f.game?.[0] ?? '');
  live.subscribe('list', { ...f }, () => store.seq);
  void preview(f);
}

/** The first page of the list over HTTP, shown until the subscription's snapshot. */
async function preview(f: Filter): Promise<void> {
  const { key, desc } = store.sort;
  // The API sorts by players (most first) or name (A to Z) only.
  if (key !== 'players' && key !== 'name') return;
  const query = [`limit=${PREVIEW_SIZE}`, `sort=${key}`];
  if (desc !== (key === 'players')) query.push(`order=${key === 'players' ? 'asc' : 'desc'}`);
  if (f.game?.length) query.push(`game=${enc(f.game.join(','))}`);
  for (const field of ['q', 'map', 'version'] as const) {
    if (f[field]) query.push(`${field}=${enc(f[field])}`);
  }
  for (const flag of ['not_empty', 'not_full', 'no_password'] as const) {
    if (f[flag]) query.push(`${flag}=1`);
  }
  try {
    const page = await call<{ servers: Server[] }>('GET', `/api/v1/servers?${query.join('&')}`);
    store.preview(page.servers, f);
  } catch {
    // The snapshot will tell; the link state shows a server that cannot be reached.
  }
}

function onMessage(msg: Message): void {
  if (LIST_MESSAGES.has(msg.type)) {
    if (msg.id === 'list') store.push(msg);
  } else if (msg.type === 'friends' || msg.type === 'presence') friends.handle(msg);
  else if (msg.type === 'error') {
    const err = msg.error as { message?: string } | undefined;
    summary.textContent = `The server refused the filter: ${err?.message ?? 'unknown error'}`;
  } else lobby.handle(msg);
}

let countdown: number | undefined;
function showLink(state: LinkState): void {
  clearInterval(countdown);
  link.dataset.state = state.kind;
  const text = (): string => {
    switch (state.kind) {
      case 'connecting': return 'Connecting…';
      case 'live': return 'Live';
      case 'offline': return 'Offline — waiting for the network';
      case 'reconnecting': return `Disconnected — reconnecting in ${Math.max(1, Math.ceil((state.at - Date.now()) / 1000))} s`;
    }
  };
  link.textContent = text();
  if (state.kind === 'reconnecting') countdown = window.setInterval(() => (link.textContent = text()), 1000);
}

// Games: fetched now, every few seconds, and soon after the list changes.
let gamesTimer: number | undefined;
let lastGames = 0;
async function refreshGames(): Promise<void> {
  clearTimeout(gamesTimer);
  lastGames = Date.now();
  try {
    const reply = await call<{ games: Game[] }>('GET', '/api/v1/games');
    games = new Map(reply.games.map((g) => [g.game, g]));
    gamesList.set(reply.games);
    filters.setGames(reply.games);
    table.render();
  } catch {
    // The socket's state already tells the user; try again at the next tick.
  }
  gamesTimer = window.setTimeout(() => void refreshGames(), GAMES_EVERY_MS);
}
function refreshGamesSoon(): void {
  clearTimeout(gamesTimer);
  gamesTimer = window.setTimeout(() => void refreshGames(), Math.max(0, lastGames + GAMES_THROTTLE_MS - Date.now()));
}

function tabBar(): { root: HTMLElement } {
  const names: [Tab, string][] = [['all', 'All'], ['favourites', 'Favourites'], ['history', 'History'], ['friends', 'Friends']];
  const buttons = names.map(([tab, label]) => h('button', {
    type: 'button', role: 'tab', id: `tab-${tab}`, 'aria-controls': 'list-panel',
    'aria-selected': String(tab === 'all'), tabindex: tab === 'all' ? 0 : -1, text: label,
    onclick: () => choose(tab),
  }));
  const choose = (tab: Tab): void => {
    store.tab = tab;
    buttons.forEach((b, i) => {
      const on = names[i][0] === tab;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
      if (on) listPane.setAttribute('aria-labelledby', b.id);
    });
    store.refresh();
  };
  const root = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Server lists' }, ...buttons);
  root.addEventListener('keydown', (e) => {
    const i = names.findIndex(([t]) => t === store.tab);
    const j = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : null;
    if (j === null) return;
    const next = names[(j + names.length) % names.length][0];
    choose(next);
    buttons[names.findIndex(([t]) => t === next)].focus();
  });
  return { root };
}

function showAccount(): void {
  const s = account.session;
  replace(who, s
    ? h('span', { class: 'me' }, h('a', { href: '#profile' }, h('bdi', { text: s.name })), s.guest ? h('span', { class: 'badge', text: 'guest' }) : null)
    : null,
  s
    ? h('button', { type: 'button', class: 'button', text: 'Sign out', onclick: () => void account.signOut() })
    : h('button', { type: 'button', class: 'button primary', text: 'Sign in', onclick: () => account.showDialog() }));
}

function showView(): void {
  const id = location.hash.slice(1);
  const current = id in views ? id : '';
  for (const [key, el] of Object.entries(views)) el.hidden = key !== current;
  for (const a of nav.querySelectorAll<HTMLElement>('a')) {
    if (a.dataset.view === current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (current === 'lobby') lobby.show();
  if (current === 'friends') void friends.show();
  else friends.hide();
  if (current === 'profile') void profile.show();
  if (current === '') table.render();
}

account.onChange(() => {
  showAccount();
  lobby.reset();
  friends.reset();
  live.reconnectNow();
  showView();
});

async function start(): Promise<void> {
  document.body.append(header, h('main', {}, ...Object.values(views)));
  addEventListener('hashchange', showView);
  await account.restore();
  showAccount();
  showView();
  subscribe(filters.value);
  live.reconnectNow();
  void refreshGames();
}

void start();
