// The games sidebar: every game with its server and player counts, the followed ones
// (a star, remembered) pinned first, then the most popular. Choosing one filters the
// list; "All games" clears it.

import type { Game } from './api';
import { followed } from './storage';
import { h, replace } from './text';

export class GamesList {
  readonly root: HTMLElement;
  private readonly list: HTMLElement;
  private games: Game[] = [];
  private chosen = '';

  constructor(
    private readonly gameName: (game: string) => string,
    private readonly choose: (game: string) => void,
  ) {
    this.list = h('ul', { class: 'games-list' });
    this.root = h('nav', { class: 'games', 'aria-labelledby': 'games-title' },
      h('h2', { id: 'games-title', text: 'Games' }), this.list);
  }

  set(games: Game[]): void {
    this.games = games;
    this.render();
  }

  select(game: string): void {
    this.chosen = game;
    this.render();
  }

  private render(): void {
    const follow = followed.all();
    const sorted = [...this.games].sort(
      (a, b) =>
        Number(follow.has(b.game)) - Number(follow.has(a.game)) ||
        b.players + b.bots - (a.players + a.bots) ||
        b.servers - a.servers ||
        this.gameName(a.game).localeCompare(this.gameName(b.game)),
    );
    const focused = this.list.contains(document.activeElement) ? (document.activeElement as HTMLElement).dataset.key : undefined;
    const total = this.games.reduce((n, g) => n + g.servers, 0);
    const players = this.games.reduce((n, g) => n + g.players, 0);
    replace(
      this.list,
      this.item('', 'All games', `${total} servers · ${players} players`, null),
      ...sorted.map((g) =>
        this.item(g.game, this.gameName(g.game), `${g.servers} servers · ${g.players} players`, follow.has(g.game)),
      ),
    );
    if (focused !== undefined) this.list.querySelector<HTMLElement>(`[data-key="${CSS.escape(focused)}"]`)?.focus();
  }

  private item(game: string, name: string, counts: string, isFollowed: boolean | null): HTMLElement {
    const choose = h('button', {
      type: 'button', class: 'game', 'aria-current': game === this.chosen ? 'true' : undefined, 'data-key': `game ${game}`,
      onclick: () => this.choose(game),
    }, h('span', { class: 'game-name', text: name }), h('span', { class: 'game-counts', text: counts }));
    const star = isFollowed === null ? null : h('button', {
      type: 'button', class: 'star', 'aria-pressed': String(isFollowed),
      'aria-label': `Follow ${name}`, text: '★', 'data-key': `star ${game}`,
      onclick: () => {
        followed.toggle(game);
        this.render();
      },
    });
    return h('li', { class: isFollowed ? 'followed' : undefined }, choose, star);
  }
}
