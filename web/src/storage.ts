// What the browser remembers between visits, in localStorage: the session token,
// followed games, favourite servers and the history of servers used. Every read
// survives missing, corrupt or foreign values (another tab, an older version).

import type { Server } from './api';

const KEY = {
  token: 'glou.token',
  followed: 'glou.followed',
  favourites: 'glou.favourites',
  history: 'glou.history',
} as const;
const HISTORY_MAX = 50;

/** A server as remembered: enough to list it while it is not online. */
export interface Remembered {
  key: string;
  game: string;
  address: string;
  name: string;
  at: number;
}

function read<T>(key: string, fallback: T, valid: (v: unknown) => v is T): T {
  try {
    const raw = localStorage.getItem(key);
    if (raw === null) return fallback;
    const value: unknown = JSON.parse(raw);
    return valid(value) ? value : fallback;
  } catch {
    return fallback;
  }
}

function write(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: the feature works for this visit only.
  }
}

const isStrings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string');
const isRemembered = (v: unknown): v is Remembered[] =>
  Array.isArray(v) &&
  v.every(
    (r) =>
      typeof r === 'object' && r !== null &&
      typeof (r as Remembered).key === 'string' &&
      typeof (r as Remembered).game === 'string' &&
      typeof (r as Remembered).address === 'string' &&
      typeof (r as Remembered).name === 'string' &&
      typeof (r as Remembered).at === 'number',
  );

/** The key favourites and history use: a server keeps it across re-announcements. */
export const serverKey = (s: { game: string; address: string }): string => `${s.game} ${s.address}`;

function remember(s: Server): Remembered {
  return { key: serverKey(s), game: s.game, address: s.address, name: s.name ?? '', at: Date.now() };
}

export const token = {
  get: (): string | null => {
    try {
      return localStorage.getItem(KEY.token);
    } catch {
      return null;
    }
  },
  set: (t: string | null): void => {
    try {
      if (t === null) localStorage.removeItem(KEY.token);
      else localStorage.setItem(KEY.token, t);
    } catch {
      // Not remembered: the session lasts this visit.
    }
  },
};

export const followed = {
  all: (): Set<string> => new Set(read(KEY.followed, [] as string[], isStrings)),
  toggle(game: string): void {
    const set = this.all();
    if (!set.delete(game)) set.add(game);
    write(KEY.followed, [...set].sort());
  },
};

export const favourites = {
  all: (): Remembered[] => read(KEY.favourites, [] as Remembered[], isRemembered),
  has(key: string): boolean {
    return this.all().some((r) => r.key === key);
  },
  toggle(s: Server): void {
    const list = this.all();
    const key = serverKey(s);
    const rest = list.filter((r) => r.key !== key);
    write(KEY.favourites, rest.length === list.length ? [remember(s), ...list] : rest);
  },
};

export const history = {
  all: (): Remembered[] => read(KEY.history, [] as Remembered[], isRemembered),
  add(s: Server): void {
    const key = serverKey(s);
    write(KEY.history, [remember(s), ...this.all().filter((r) => r.key !== key)].slice(0, HISTORY_MAX));
  },
};
