// The native HTTP API (docs/protocol/native.md): its types and one `call` that adds
// the session token and turns error bodies into `ApiError`s.

import { token } from './storage';

export interface Player {
  name: string;
  score: number;
  ping: number;
}

export interface Server {
  id: string;
  game: string;
  kind?: string;
  address: string;
  name?: string;
  map?: string;
  version?: string;
  protocol?: string;
  players: number;
  max_players: number;
  bots: number;
  password?: boolean;
  rules?: Record<string, string>;
  player_list?: Player[];
  source?: string;
  origin?: string;
  first_seen?: string;
  last_seen?: string;
  expires_at?: string;
  /** Set by the UI for a remembered server that is not listed now. */
  offline?: boolean;
}

export interface Game {
  game: string;
  name?: string;
  connect_url?: string;
  servers: number;
  players: number;
  bots: number;
}

export interface Session {
  name: string;
  guest: boolean;
  type: string;
  perms: string[];
  expires_at: string;
  token?: string;
}

export interface Stat {
  game: string;
  wins: number;
  losses: number;
  ties: number;
  forfeits: number;
  rating: number | null;
  highscore: number | null;
  matches: number;
  rank: number | null;
}

export interface Presence {
  status: 'offline' | 'online' | 'playing';
  online: boolean;
  room?: string | number;
  table?: number;
  playing?: { id: string; game: string; name: string; address: string }[];
}

export interface Profile {
  name: string;
  type: string;
  real_name?: string | null;
  bio?: string | null;
  avatar: string | null;
  created_at: string;
  stats: Stat[];
}

export interface Friends {
  friends: { name: string; since: string; presence: Presence }[];
  incoming: { name: string; since: string }[];
  outgoing: { name: string; since: string }[];
  blocked: { name: string; since: string }[];
}

export interface Ranking {
  rank: number;
  name: string;
  wins: number;
  losses: number;
  ties: number;
  rating: number | null;
  highscore: number | null;
  matches: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Calls `path` with an optional JSON (or raw) body; resolves the JSON reply. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const t = token.get();
  if (t) headers.Authorization = `Bearer ${t}`;
  let payload: BodyInit | undefined;
  if (body instanceof Blob) payload = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, 'network', 'the server cannot be reached');
  }
  const text = await res.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: reported below if the status is an error.
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, err?.code ?? 'http', err?.message ?? `HTTP ${res.status}`);
  }
  return data as T;
}

export const enc = encodeURIComponent;
