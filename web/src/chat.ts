// The lobby view: the native lobby on the live socket — log in (the session, or a
// guest name), the rooms (opened and closed live by the operator), the players of the
// room and its chat. After a reconnect it logs in again and returns to the same room.

import type { Session } from './api';
import type { Live, Message } from './live';
import { clean, h, replace } from './text';

const MAX_LINES = 500;

interface Room {
  id: number;
  name: string;
  description: string;
  players: number;
}

export class Lobby {
  readonly root: HTMLElement;
  private readonly rooms: HTMLElement;
  private readonly players: HTMLElement;
  private readonly log: HTMLElement;
  private readonly form: HTMLFormElement;
  private readonly input: HTMLInputElement;
  private readonly login: HTMLElement;
  private readonly roomTitle: HTMLElement;
  /** The user asked to be in the lobby (kept across reconnects). */
  private wanted = false;
  private guestName = '';
  private me = '';
  private room: number | null = null;
  private roomList: Room[] = [];
  private members = new Map<string, HTMLElement>();

  constructor(
    private readonly live: Live,
    private readonly session: () => Session | null,
  ) {
    const guest = h('input', { id: 'lobby-guest', maxlength: 16, autocomplete: 'nickname', required: true });
    this.login = h('form', { class: 'inline-form lobby-login', onsubmit: (e: Event) => {
      e.preventDefault();
      this.guestName = guest.value.trim();
      if (this.guestName) this.enterLobby();
    } }, h('label', { for: 'lobby-guest', text: 'Your name' }), guest,
    h('button', { type: 'submit', class: 'button primary', text: 'Join as guest' }));
    this.rooms = h('ul', { class: 'rooms' });
    this.players = h('ul', { class: 'people members' });
    this.log = h('ol', { class: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Chat', tabindex: 0 });
    this.input = h('input', { id: 'chat-text', maxlength: 512, autocomplete: 'off', disabled: true });
    this.form = h('form', { class: 'chat-form', onsubmit: (e: Event) => {
      e.preventDefault();
      this.say();
    } }, h('label', { for: 'chat-text', class: 'visually-hidden', text: 'Message' }), this.input,
    h('button', { type: 'submit', class: 'button primary', text: 'Send' }));
    this.roomTitle = h('h2', { id: 'room-title', text: 'Chat' });
    this.root = h('section', { class: 'view lobby', 'aria-labelledby': 'lobby-title' },
      h('h1', { id: 'lobby-title', class: 'visually-hidden', text: 'Lobby' }),
      h('nav', { class: 'lobby-rooms', 'aria-labelledby': 'rooms-title' }, h('h2', { id: 'rooms-title', text: 'Rooms' }), this.login, this.rooms),
      h('section', { class: 'lobby-chat', 'aria-labelledby': 'room-title' }, this.roomTitle, this.log, this.form),
      h('section', { class: 'lobby-players', 'aria-labelledby': 'members-title' }, h('h2', { id: 'members-title', text: 'In this room' }), this.players));
  }

  /** The view is shown: log in if the user can (a session) or show the guest form. */
  show(): void {
    if (this.wanted) return;
    if (this.session()) this.enterLobby();
    else this.login.hidden = false;
  }

  /** The session changed: log out of the lobby; the socket reconnects. */
  reset(): void {
    this.wanted = false;
    this.me = '';
    this.room = null;
    this.input.disabled = true;
    this.members.clear();
    replace(this.players);
    replace(this.rooms);
    this.login.hidden = !!this.session();
  }

  /** The socket (re)opened: log in again and go back to the room. */
  reopened(): void {
    if (this.wanted) this.sendLogin();
  }

  handle(msg: Message): void {
    switch (msg.type) {
      case 'lobby_welcome':
        this.me = String(msg.name);
        this.login.hidden = true;
        this.line('system', `Welcome, ${clean(msg.name)}.`);
        this.live.send({ type: 'rooms' });
        break;
      case 'rooms':
        this.roomList = (msg.rooms as Room[]) ?? [];
        this.renderRooms();
        if (this.roomList.length && !this.roomList.some((r) => r.id === this.room)) this.enter(this.roomList[0].id);
        else if (this.room !== null) this.live.send({ type: 'enter', room: this.room });
        break;
      case 'players':
        this.members.clear();
        replace(this.players);
        for (const p of msg.players as { name: string }[]) this.addMember(p.name);
        this.count(msg.room, this.members.size);
        this.input.disabled = false;
        break;
      case 'player_entered':
        if (msg.room === this.room) {
          const name = (msg.player as { name: string }).name;
          this.addMember(name);
          this.count(msg.room, this.members.size);
          this.line('system', `${clean(name)} joined.`);
        }
        break;
      case 'player_left':
        if (msg.room === this.room && typeof msg.name === 'string') {
          this.members.get(msg.name)?.remove();
          this.members.delete(msg.name);
          this.count(msg.room, this.members.size);
          this.line('system', `${clean(msg.name)} left.`);
        }
        break;
      case 'chat':
        this.chatLine(String(msg.from ?? ''), msg.text, String(msg.kind ?? 'normal'));
        break;
      case 'room_count':
        this.count(msg.room, Number(msg.players));
        break;
      case 'room_added': {
        const room = msg.room as Room | undefined;
        if (typeof room?.id !== 'number') break;
        // In id order, as the server lists them (a reopened room keeps its old id).
        this.roomList = [...this.roomList.filter((r) => r.id !== room.id), room].sort((a, b) => a.id - b.id);
        this.renderRooms();
        break;
      }
      case 'room_removed': {
        const gone = this.roomList.find((r) => r.id === msg.room);
        this.roomList = this.roomList.filter((r) => r.id !== msg.room);
        if (typeof msg.moved_to === 'number') this.moved(gone?.name ?? msg.room, msg.moved_to);
        // Asked to enter it as it closed (the server kept us where we were): go back
        // to the entry room.
        else if (msg.room === this.room && this.roomList.length) this.enter(this.roomList[0].id);
        else this.renderRooms();
        break;
      }
      case 'kicked':
        this.line('error', `You were removed from the lobby: ${clean(msg.reason)}`);
        this.reset();
        break;
      case 'result':
        if (msg.code === 'ok') break;
        this.line('error', `${clean(msg.action)}: ${clean(msg.message ?? msg.code)}`);
        if (msg.action === 'lobby_login') {
          this.wanted = false;
          this.login.hidden = !!this.session();
        }
        break;
    }
  }

  private enterLobby(): void {
    this.wanted = true;
    this.login.hidden = true;
    this.sendLogin();
  }

  private sendLogin(): void {
    const guest = this.session() ? {} : { guest: this.guestName };
    if (!this.live.send({ type: 'lobby_login', ...guest })) this.line('system', 'Waiting for the connection…');
  }

  private enter(room: number): void {
    this.setRoom(room);
    this.live.send({ type: 'enter', room });
  }

  /** Our room closed and the server moved us to `to`: show it, and ask who is there. */
  private moved(closed: unknown, to: number): void {
    this.setRoom(to);
    this.members.clear();
    replace(this.players);
    const name = this.roomList.find((x) => x.id === to)?.name ?? to;
    this.line('system', `The room ${clean(closed)} was closed: you are now in ${clean(name)}.`);
    this.live.send({ type: 'players' });
  }

  /** The room shown as ours: its title, and marked in the list. */
  private setRoom(room: number): void {
    this.room = room;
    const r = this.roomList.find((x) => x.id === room);
    this.roomTitle.textContent = r ? clean(r.name) : 'Chat';
    this.renderRooms();
  }

  private say(): void {
    const text = this.input.value.trim();
    if (!text || this.room === null) return;
    if (this.live.send({ type: 'chat', kind: 'normal', text })) this.input.value = '';
  }

  private count(room: unknown, players: number): void {
    this.roomList = this.roomList.map((r) => (r.id === room ? { ...r, players } : r));
    this.renderRooms();
  }

  private renderRooms(): void {
    replace(this.rooms, ...this.roomList.map((r) =>
      h('li', {}, h('button', {
        type: 'button', class: 'room', 'aria-current': r.id === this.room ? 'true' : undefined,
        title: clean(r.description), onclick: () => this.enter(r.id),
      }, h('span', { class: 'room-name', text: r.name }), h('span', { class: 'count', text: String(r.players) })))));
  }

  private addMember(name: string): void {
    if (this.members.has(name)) return;
    const li = h('li', { class: name === this.me ? 'me' : undefined }, h('bdi', { text: name }));
    this.members.set(name, li);
    this.players.append(li);
  }

  private chatLine(from: string, text: unknown, kind: string): void {
    const li = h('li', { class: `msg ${kind}` },
      h('bdi', { class: 'from', text: from }),
      h('span', { class: 'text', text: kind === 'beep' ? '(beep)' : clean(text) }));
    this.push(li);
  }

  private line(kind: string, text: string): void {
    this.push(h('li', { class: `msg ${kind}`, text }));
  }

  private push(li: HTMLElement): void {
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    this.log.append(li);
    while (this.log.childElementCount > MAX_LINES) this.log.firstElementChild?.remove();
    if (atBottom) this.log.scrollTop = this.log.scrollHeight;
  }
}
