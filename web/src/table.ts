// The virtualised server table: one scroll container, fixed-height rows, and only the
// rows in view (plus a margin) in the DOM. Row elements are recycled by index, so a
// scroll by one row rewrites one row. Grid semantics with aria-rowcount/rowindex,
// sortable column headers with aria-sort, roving focus over the rows.

import type { Server } from './api';
import type { SortKey, Store } from './store';
import { favourites, serverKey } from './storage';
import { clean, h, setText } from './text';

const ROW_HEIGHT = 40;
const MARGIN = 8;

interface Column {
  key: string;
  label: string;
  sort?: SortKey;
}

const COLUMNS: Column[] = [
  { key: 'fav', label: 'Favourite' },
  { key: 'name', label: 'Server', sort: 'name' },
  { key: 'game', label: 'Game', sort: 'game' },
  { key: 'players', label: 'Players', sort: 'players' },
  { key: 'map', label: 'Map', sort: 'map' },
  { key: 'address', label: 'Address' },
];

interface Row {
  el: HTMLElement;
  cells: Record<string, HTMLElement>;
  fav: HTMLButtonElement;
  lock: HTMLElement;
  index: number;
  server: Server | null;
  favourite: boolean;
}

export class Table {
  readonly root: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly headers = new Map<SortKey, HTMLElement>();
  private rows: Row[] = [];
  private active = 0;
  private pending = false;
  private favKeys = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly gameName: (game: string) => string,
    private readonly open: (s: Server, row: HTMLElement) => void,
    private readonly toggleFavourite: (s: Server) => void,
  ) {
    const head = h('div', { class: 'row head', role: 'row', 'aria-rowindex': 1 });
    for (const col of COLUMNS) {
      const cell = h('div', { class: `cell c-${col.key}`, role: 'columnheader' });
      if (col.sort) {
        const key = col.sort;
        cell.append(h('button', { type: 'button', class: 'sort', text: col.label, onclick: () => this.sortBy(key) }));
        this.headers.set(key, cell);
      } else {
        cell.append(h('span', { class: col.key === 'fav' ? 'visually-hidden' : 'label', text: col.label }));
      }
      head.append(cell);
    }
    this.spacer = h('div', { class: 'spacer' });
    this.empty = h('p', { class: 'empty', hidden: true });
    this.scroller = h('div', { class: 'scroller', role: 'rowgroup' }, this.spacer);
    this.grid = h(
      'div',
      { class: 'grid', role: 'grid', 'aria-label': 'Game servers', 'aria-colcount': COLUMNS.length },
      h('div', { class: 'head-group', role: 'rowgroup' }, head),
      this.scroller,
    );
    this.root = h('div', { class: 'table' }, this.grid, this.empty);
    this.scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.scroller.addEventListener('keydown', (e) => this.onKey(e));
    this.scroller.addEventListener('click', (e) => this.onClick(e));
    new ResizeObserver(() => this.schedule()).observe(this.scroller);
    this.showSort();
  }

  /** Re-renders at the next frame (coalesced). */
  schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  /** Renders now: after the store applied a batch. */
  render(): void {
    const view = this.store.view;
    const n = view.length;
    this.favKeys = new Set(favourites.all().map((r) => r.key));
    this.grid.setAttribute('aria-rowcount', String(n + 1));
    this.spacer.style.height = `${n * ROW_HEIGHT}px`;
    this.active = Math.min(this.active, Math.max(0, n - 1));
    this.empty.hidden = n > 0;
    if (n === 0) this.empty.textContent = this.emptyText();

    const height = this.scroller.clientHeight || 600;
    const top = this.scroller.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - MARGIN);
    const last = Math.min(n, Math.ceil((top + height) / ROW_HEIGHT) + MARGIN);
    const size = Math.ceil(height / ROW_HEIGHT) + 2 * MARGIN + 1;
    while (this.rows.length < size) this.rows.push(this.makeRow());

    const hadFocus = this.scroller.contains(document.activeElement);
    for (let slot = 0; slot < this.rows.length; slot++) this.rows[slot].el.hidden = true;
    for (let i = first; i < last; i++) this.fill(this.rows[i % this.rows.length], i, view[i]);
    if (hadFocus) this.focusActive(false);
  }

  /** Moves the keyboard focus into the table. */
  focus(): void {
    this.focusActive(true);
  }

  private emptyText(): string {
    switch (this.store.tab) {
      case 'favourites': return 'No favourites yet. Star a server to keep it here.';
      case 'history': return 'Servers you open, copy or launch appear here.';
      case 'friends': return 'None of your friends is playing on a listed server.';
      default: return 'No servers match these filters.';
    }
  }

  private makeRow(): Row {
    const cells: Record<string, HTMLElement> = {};
    const el = h('div', { class: 'row', role: 'row', tabindex: -1 });
    for (const col of COLUMNS) {
      cells[col.key] = h('div', { class: `cell c-${col.key}`, role: 'gridcell' });
      el.append(cells[col.key]);
    }
    const fav = h('button', { type: 'button', class: 'star', tabindex: -1, 'aria-pressed': 'false', 'aria-label': 'Favourite', text: '★' });
    cells.fav.append(fav);
    const lock = h('span', { class: 'lock', role: 'img', title: 'Password', 'aria-label': 'Password protected' });
    const name = h('span', { class: 'text' });
    cells.name.append(lock, name);
    this.scroller.append(el);
    return { el, cells, fav, lock, index: -1, server: null, favourite: false };
  }

  private fill(row: Row, index: number, s: Server): void {
    const { el, cells } = row;
    el.hidden = false;
    if (row.index !== index) {
      row.index = index;
      el.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
      el.setAttribute('aria-rowindex', String(index + 2));
    }
    el.tabIndex = index === this.active ? 0 : -1;
    const favourite = this.favKeys.has(serverKey(s));
    if (row.server === s && row.favourite === favourite) return;
    row.server = s;
    row.favourite = favourite;
    el.classList.toggle('offline', !!s.offline);
    el.classList.toggle('full', s.max_players > 0 && s.players + s.bots >= s.max_players);
    el.dataset.id = s.id;
    row.fav.setAttribute('aria-pressed', String(favourite));
    row.lock.hidden = !s.password;
    setText(cells.name.lastElementChild as HTMLElement, clean(s.name) || clean(s.address));
    setText(cells.game, this.gameName(s.game));
    setText(cells.players, s.offline ? 'offline' : playerCount(s));
    setText(cells.map, clean(s.map));
    setText(cells.address, clean(s.address));
  }

  private focusActive(scroll: boolean): void {
    const n = this.store.view.length;
    if (n === 0) return;
    if (scroll) this.reveal(this.active);
    const row = this.rows.find((r) => r.index === this.active && !r.el.hidden);
    if (row) {
      for (const r of this.rows) r.el.tabIndex = r === row ? 0 : -1;
      if (document.activeElement !== row.el) row.el.focus({ preventScroll: true });
    }
  }

  private reveal(index: number): void {
    const top = index * ROW_HEIGHT;
    const height = this.scroller.clientHeight;
    if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
    else if (top + ROW_HEIGHT > this.scroller.scrollTop + height) this.scroller.scrollTop = top + ROW_HEIGHT - height;
    this.render();
  }

  private onKey(e: KeyboardEvent): void {
    const n = this.store.view.length;
    if (n === 0) return;
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = {
      ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -n, End: n,
    };
    const server = this.store.view[this.active];
    if (e.key in moves) {
      this.active = Math.max(0, Math.min(n - 1, this.active + moves[e.key]));
      this.focusActive(true);
    } else if (e.key === 'Enter' && server) {
      this.open(server, e.target as HTMLElement);
    } else if ((e.key === 'f' || e.key === 'F') && server && !e.ctrlKey && !e.metaKey) {
      this.toggleFavourite(server);
    } else return;
    e.preventDefault();
  }

  private onClick(e: MouseEvent): void {
    const target = e.target as HTMLElement;
    const el = target.closest<HTMLElement>('.row');
    const row = this.rows.find((r) => r.el === el);
    if (!row?.server) return;
    this.active = row.index;
    if (target.closest('.star')) this.toggleFavourite(row.server);
    else this.open(row.server, row.el);
  }

  private sortBy(key: SortKey): void {
    const sort = this.store.sort;
    this.store.sort = sort.key === key ? { key, desc: !sort.desc } : { key, desc: key === 'players' };
    this.showSort();
    this.store.refresh();
  }

  private showSort(): void {
    const { key, desc } = this.store.sort;
    for (const [k, cell] of this.headers) {
      cell.setAttribute('aria-sort', k === key ? (desc ? 'descending' : 'ascending') : 'none');
    }
  }
}

/** "12/16 +2" (players/slots +bots; no slots when unknown). */
function playerCount(s: Server): string {
  const slots = s.max_players > 0 ? `/${s.max_players}` : '';
  return `${s.players}${slots}${s.bots > 0 ? ` +${s.bots}` : ''}`;
}
