// The one WebSocket to /api/v1/ws: connects (with the session token when there is
// one), keeps subscriptions across reconnects (resuming with `since`), reconnects
// with backoff, and reports its state. It knows nothing of what messages mean.

import { token } from './storage';

export type LinkState =
  | { kind: 'connecting' }
  | { kind: 'live' }
  | { kind: 'reconnecting'; at: number }
  | { kind: 'offline' };

export type Message = { type: string; [field: string]: unknown };

interface Subscription {
  filter: Record<string, unknown>;
  /** The sequence number to resume after, asked when (re)sending. */
  since: () => number | undefined;
}

const PING_EVERY_MS = 25_000;
const SILENCE_MS = 65_000;
const MAX_BACKOFF_S = 30;

export class Live {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private retry: number | undefined;
  private pinger: number | undefined;
  private lastHeard = 0;
  private opened = false;
  private readonly subs = new Map<string, Subscription>();

  constructor(
    private readonly onMessage: (msg: Message) => void,
    private readonly onState: (state: LinkState) => void,
    /** After each successful open: resend what the server must know again (lobby). */
    private readonly onOpen: () => void,
    /** The socket closed without ever opening while a token was used. */
    private readonly onRefused: () => void,
  ) {
    addEventListener('online', () => this.reconnectNow());
    addEventListener('offline', () => {
      this.ws?.close();
      this.onState({ kind: 'offline' });
    });
  }

  /** Opens the socket (again, now): after sign-in or sign-out too. */
  reconnectNow(): void {
    this.attempt = 0;
    this.connect();
  }

  /** Starts or replaces subscription `id`; sent now if the socket is open. */
  subscribe(id: string, filter: Record<string, unknown>, since: () => number | undefined): void {
    this.subs.set(id, { filter, since });
    this.sendSubscribe(id);
  }

  /** Sends a message if the socket is open; returns whether it was sent. */
  send(msg: Message): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  private sendSubscribe(id: string): void {
    const sub = this.subs.get(id);
    if (!sub) return;
    const since = sub.since();
    this.send({ type: 'subscribe', id, filter: sub.filter, ...(since !== undefined ? { since } : {}) });
  }

  private connect(): void {
    clearTimeout(this.retry);
    clearInterval(this.pinger);
    const old = this.ws;
    this.ws = null;
    if (old) {
      old.onclose = old.onmessage = old.onopen = old.onerror = null;
      old.close();
    }
    if (!navigator.onLine) {
      this.onState({ kind: 'offline' });
      return;
    }
    this.onState({ kind: 'connecting' });
    const t = token.get();
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${scheme}//${location.host}/api/v1/ws${t ? `?token=${encodeURIComponent(t)}` : ''}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    this.opened = false;
    ws.onopen = () => {
      this.opened = true;
      this.lastHeard = Date.now();
      this.onState({ kind: 'live' });
      for (const id of this.subs.keys()) this.sendSubscribe(id);
      this.onOpen();
      this.pinger = window.setInterval(() => this.keepAlive(), PING_EVERY_MS);
    };
    ws.onmessage = (ev) => {
      this.lastHeard = Date.now();
      this.attempt = 0;
      if (typeof ev.data !== 'string') return;
      let msg: unknown;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (typeof msg === 'object' && msg !== null && typeof (msg as Message).type === 'string') {
        this.onMessage(msg as Message);
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      clearInterval(this.pinger);
      if (!this.opened && t) this.onRefused();
      this.scheduleRetry();
    };
  }

  private keepAlive(): void {
    if (Date.now() - this.lastHeard > SILENCE_MS) this.ws?.close();
    else this.send({ type: 'ping' });
  }

  private scheduleRetry(): void {
    if (!navigator.onLine) {
      this.onState({ kind: 'offline' });
      return;
    }
    const seconds = Math.min(MAX_BACKOFF_S, 2 ** this.attempt) * (0.75 + Math.random() * 0.25);
    this.attempt++;
    const at = Date.now() + seconds * 1000;
    this.onState({ kind: 'reconnecting', at });
    this.retry = window.setTimeout(() => this.connect(), seconds * 1000);
  }
}
