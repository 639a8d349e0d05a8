// The server list in the browser: the entries the live subscription holds, changes
// batched and applied once per frame, and the view the table shows (the chosen tab,
// sorted). Favourites and history that are not listed now appear as offline rows.

import type { Server } from './api';
import type { Message } from './live';
import { favourites, history, serverKey, type Remembered } from './storage';

export type Tab = 'all' | 'favourites' | 'history' | 'friends';
export type SortKey = 'players' | 'name' | 'map' | 'game';

/** The filters the server applies, as the subscription's `filter` object. */
export interface Filter {
  game?: string[];
  q?: string;
  map?: string;
  version?: string;
  not_empty?: boolean;
  not_full?: boolean;
  no_password?: boolean;
}

/** What changed in one applied batch. */
export interface Change {
  /** Servers appeared or went (the games' counts may have changed). */
  membership: boolean;
  /** The first snapshot of a subscription was applied. */
  snapshot: boolean;
  /** The top of the list arrived ahead of the snapshot (`preview`). */
  preview?: boolean;
}

/** How many servers the quick first page holds: more than any screen shows. */
export const PREVIEW_SIZE = 100;

// Updates are applied at the latest this long after they arrive, also when the
// page gets no animation frames (a background tab).
const MAX_DELAY_MS = 50;

export class Store {
  readonly servers = new Map<string, Server>();
  view: Server[] = [];
  tab: Tab = 'all';
  sort: { key: SortKey; desc: boolean } = { key: 'players', desc: true };
  filter: Filter = {};
  /** Ids of servers where friends play. */
  friendServers = new Set<string>();
  /** The last sequence number applied, to resume after. */
  seq: number | undefined;

  private queue: Message[] = [];
  private scheduled = false;
  /** A new subscription was sent: what arrives before its snapshot is stale. */
  private awaiting = true;
  private readonly listeners: ((c: Change) => void)[] = [];

  onChange(f: (c: Change) => void): void {
    this.listeners.push(f);
  }

  /** Queues a subscription message; applied with the others at the next frame. */
  push(msg: Message): void {
    this.queue.push(msg);
    if (this.scheduled) return;
    this.scheduled = true;
    const run = (): void => this.flush();
    requestAnimationFrame(run);
    setTimeout(run, MAX_DELAY_MS);
  }

  /** Drops what a previous filter listed: a new subscription starts from its snapshot. */
  reset(filter: Filter): void {
    this.filter = filter;
    this.seq = undefined;
    this.queue = [];
    this.awaiting = true;
  }

  /** Whether the list shown is only the quick first page, waiting for the snapshot. */
  get previewing(): boolean {
    return this.awaiting && this.servers.size > 0;
  }

  /**
   * Shows the top of the list from a page of the HTTP API while the subscription's
   * snapshot travels (with many servers the snapshot takes far longer than a page).
   * Ignored once the snapshot is in, or if the filter changed since it was asked.
   */
  preview(servers: Server[], filter: Filter): void {
    if (!this.awaiting || filter !== this.filter) return;
    this.servers.clear();
    for (const s of servers) this.servers.set(s.id, s);
    this.recompute();
    this.emit({ membership: false, snapshot: false, preview: true });
  }

  /** Recomputes the view (after a tab, sort or remembered-list change). */
  refresh(): void {
    this.recompute();
    this.emit({ membership: false, snapshot: false });
  }

  private flush(): void {
    if (!this.scheduled) return;
    this.scheduled = false;
    const change: Change = { membership: false, snapshot: false };
    for (const msg of this.queue) this.apply(msg, change);
    this.queue = [];
    this.recompute();
    if (this.seq !== undefined) document.body.dataset.seq = String(this.seq);
    this.emit(change);
  }

  private apply(msg: Message, change: Change): void {
    const seq = typeof msg.seq === 'number' ? msg.seq : undefined;
    if (msg.type === 'resumed') return;
    if (this.awaiting && msg.type !== 'snapshot') return;
    if (msg.type === 'snapshot' && Array.isArray(msg.servers)) {
      this.awaiting = false;
      this.servers.clear();
      for (const s of msg.servers as Server[]) this.servers.set(s.id, s);
      change.membership = change.snapshot = true;
    } else if (msg.type === 'added' || msg.type === 'updated') {
      const s = msg.server as Server;
      if (!this.servers.has(s.id)) change.membership = true;
      this.servers.set(s.id, s);
    } else if (msg.type === 'removed') {
      this.servers.delete((msg.server as Server).id);
      change.membership = true;
    }
    if (seq !== undefined && (this.seq === undefined || seq > this.seq)) this.seq = seq;
  }

  private recompute(): void {
    let rows: Server[];
    if (this.tab === 'all') rows = [...this.servers.values()];
    else if (this.tab === 'friends') {
      rows = [...this.friendServers].flatMap((id) => this.servers.get(id) ?? []);
    } else {
      rows = this.remembered(this.tab === 'favourites' ? favourites.all() : history.all());
      // History keeps its own order: most recent first.
      if (this.tab === 'history') return void (this.view = rows);
    }
    rows.sort(comparator(this.sort.key, this.sort.desc));
    this.view = rows;
  }

  /** Remembered servers: listed ones as they are now, the others as offline rows. */
  private remembered(list: Remembered[]): Server[] {
    const byKey = new Map<string, Server>();
    for (const s of this.servers.values()) byKey.set(serverKey(s), s);
    return list.flatMap((r) => {
      const live = byKey.get(r.key);
      if (live) return [live];
      const offline: Server = {
        id: `offline ${r.key}`, game: r.game, address: r.address, name: r.name,
        players: 0, max_players: 0, bots: 0, offline: true,
      };
      return this.mayList(offline) ? [offline] : [];
    });
  }

  /** Whether an offline row could pass the current filter (it has no players). */
  private mayList(s: Server): boolean {
    const f = this.filter;
    if (f.game?.length && !f.game.includes(s.game)) return false;
    if (f.q && !(s.name ?? '').toLowerCase().includes(f.q.toLowerCase())) return false;
    return !f.not_empty && !f.map && !f.version;
  }

  private emit(change: Change): void {
    for (const f of this.listeners) f(change);
  }
}

// Lower-cased names and maps, per entry object (an update brings a new object).
const lowerNames = new WeakMap<Server, string>();
const lowerMaps = new WeakMap<Server, string>();
function lower(cache: WeakMap<Server, string>, s: Server, text: string | undefined): string {
  let v = cache.get(s);
  if (v === undefined) cache.set(s, (v = (text ?? '').toLowerCase()));
  return v;
}

function comparator(key: SortKey, desc: boolean): (a: Server, b: Server) => number {
  const byName = (a: Server, b: Server): number => {
    const x = lower(lowerNames, a, a.name);
    const y = lower(lowerNames, b, b.name);
    return x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : 1;
  };
  const by = (f: (s: Server) => string) => (a: Server, b: Server): number => {
    const x = f(a);
    const y = f(b);
    return x < y ? -1 : x > y ? 1 : byName(a, b);
  };
  const primary: (a: Server, b: Server) => number = {
    players: (a: Server, b: Server) =>
      a.players - b.players || a.bots - b.bots || byName(b, a),
    name: byName,
    map: by((s) => lower(lowerMaps, s, s.map)),
    game: by((s) => s.game),
  }[key];
  return desc ? (a, b) => primary(b, a) : primary;
}
