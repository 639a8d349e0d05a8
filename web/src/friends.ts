// Friends: the list with where each one is (live `friends`/`presence` messages on the
// socket opened with the session), requests to send, accept, decline or withdraw, and
// the ids of the servers friends play on (the server list's Friends tab).

import { call, enc, type Friends, type Presence, type Server, type Session } from './api';
import type { Message } from './live';
import { clean, h, replace } from './text';

export class FriendsView {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private data: Friends | null = null;
  private readonly presence = new Map<string, Presence>();
  private visible = false;

  constructor(
    private readonly session: () => Session | null,
    private readonly signIn: () => void,
    /** The servers friends play on changed. */
    private readonly onServers: (ids: Set<string>) => void,
    private readonly openServer: (id: string) => void,
  ) {
    this.body = h('div', { class: 'friends' });
    this.root = h('section', { class: 'view page', 'aria-labelledby': 'friends-title' },
      h('h1', { id: 'friends-title', text: 'Friends' }), this.body);
  }

  /** Shows the view (loads the lists). */
  async show(): Promise<void> {
    this.visible = true;
    await this.load();
  }

  hide(): void {
    this.visible = false;
  }

  /** The session changed: start over. */
  reset(): void {
    this.data = null;
    this.presence.clear();
    this.onServers(new Set());
    if (this.visible) void this.load();
  }

  /** `friends` and `presence` messages from the socket. */
  handle(msg: Message): void {
    if (msg.type === 'friends') void this.load();
    else if (msg.type === 'presence' && typeof msg.name === 'string') {
      this.presence.set(msg.name, msg.presence as Presence);
      this.publish();
      if (this.visible) this.render();
    }
  }

  private async load(): Promise<void> {
    const s = this.session();
    if (!s || s.guest) {
      replace(this.body,
        h('p', { text: s ? 'Guests have no friends list: create an account to add friends.' : 'Sign in to see your friends and where they play.' }),
        s ? null : h('button', { type: 'button', class: 'button primary', text: 'Sign in', onclick: () => this.signIn() }));
      return;
    }
    try {
      this.data = await call<Friends>('GET', '/api/v1/friends');
      for (const f of this.data.friends) this.presence.set(f.name, f.presence);
      this.publish();
      if (this.visible) this.render();
    } catch (e) {
      if (this.visible) replace(this.body, h('p', { class: 'form-error', role: 'alert', text: e instanceof Error ? e.message : 'failed' }));
    }
  }

  private publish(): void {
    const names = new Set(this.data?.friends.map((f) => f.name) ?? []);
    const ids = new Set<string>();
    for (const [name, p] of this.presence) {
      if (names.has(name)) for (const s of p.playing ?? []) ids.add(s.id);
    }
    this.onServers(ids);
  }

  private render(): void {
    const d = this.data;
    if (!d) return;
    const status = h('p', { class: 'form-status', role: 'status' });
    const act = (method: string, path: string, body?: unknown) => async (): Promise<void> => {
      try {
        await call(method, path, body);
        await this.load();
      } catch (e) {
        status.textContent = e instanceof Error ? e.message : 'failed';
      }
    };
    const name = h('input', { id: 'fr-name', maxlength: 16, autocomplete: 'off', required: true });
    const add = h('form', { class: 'inline-form', onsubmit: (e: Event) => {
      e.preventDefault();
      void act('POST', '/api/v1/friends/requests', { name: name.value })();
    } }, h('label', { for: 'fr-name', text: 'Add a friend' }), name,
    h('button', { type: 'submit', class: 'button primary', text: 'Send request' }));
    const button = (text: string, run: () => Promise<void>, cls = ''): HTMLElement =>
      h('button', { type: 'button', class: `button small ${cls}`, text, onclick: () => void run() });

    const friends = d.friends.map((f) => {
      const p = this.presence.get(f.name) ?? f.presence;
      return h('li', { class: `friend ${p.status}` },
        h('span', { class: 'dot', 'aria-hidden': 'true' }),
        h('bdi', { class: 'who', text: f.name }),
        h('span', { class: 'where' }, ...where(p, this.openServer)),
        button('Remove', act('DELETE', `/api/v1/friends/${enc(f.name)}`)));
    });
    replace(this.body,
      add, status,
      list('Friends', friends, 'No friends yet.'),
      list('Requests for you', d.incoming.map((r) => h('li', {}, h('bdi', { class: 'who', text: r.name }),
        button('Accept', act('POST', `/api/v1/friends/requests/${enc(r.name)}/accept`), 'primary'),
        button('Decline', act('POST', `/api/v1/friends/requests/${enc(r.name)}/decline`)))), 'None.'),
      list('Your requests', d.outgoing.map((r) => h('li', {}, h('bdi', { class: 'who', text: r.name }),
        button('Withdraw', act('DELETE', `/api/v1/friends/requests/${enc(r.name)}`)))), 'None.'),
    );
  }
}

function where(p: Presence, open: (id: string) => void): (HTMLElement | string)[] {
  if (p.status === 'playing' && p.playing?.length) {
    return ['playing on ', ...p.playing.map((s: Pick<Server, 'id' | 'game' | 'name' | 'address'>) =>
      h('button', { type: 'button', class: 'link', onclick: () => open(s.id) }, h('bdi', { text: clean(s.name) || clean(s.address) })))];
  }
  return [p.status === 'online' ? 'online' : 'offline'];
}

function list(title: string, items: HTMLElement[], none: string): HTMLElement {
  return h('section', {}, h('h2', { text: title }),
    items.length ? h('ul', { class: 'people' }, ...items) : h('p', { class: 'muted', text: none }));
}
