// The filter bar: game, text, map, version and the hide-empty/full/password switches,
// turned into the subscription's filter. Typing is debounced; switches apply at once.

import type { Game } from './api';
import type { Filter } from './store';
import { h } from './text';

const DEBOUNCE_MS = 150;

export class Filters {
  readonly root: HTMLFormElement;
  private readonly game: HTMLSelectElement;
  private readonly q: HTMLInputElement;
  private readonly map: HTMLInputElement;
  private readonly version: HTMLInputElement;
  private readonly checks: Record<'not_empty' | 'not_full' | 'no_password', HTMLInputElement>;
  private timer: number | undefined;

  constructor(
    private readonly onChange: (f: Filter) => void,
    private readonly gameName: (game: string) => string,
  ) {
    const text = (id: string, label: string, placeholder: string): [HTMLElement, HTMLInputElement] => {
      const input = h('input', { id, type: 'search', placeholder, autocomplete: 'off', maxlength: 100, spellcheck: 'false' });
      input.addEventListener('input', () => this.debounced());
      return [h('div', { class: 'field' }, h('label', { for: id, text: label }), input), input];
    };
    const check = (id: string): HTMLInputElement => {
      const input = h('input', { id, type: 'checkbox' });
      input.addEventListener('change', () => this.changed());
      return input;
    };
    this.game = h('select', { id: 'f-game' }, h('option', { value: '', text: 'All games' }));
    this.game.addEventListener('change', () => this.changed());
    const [qField, q] = text('f-q', 'Search', 'Server name');
    const [mapField, map] = text('f-map', 'Map', 'Any map');
    const [versionField, version] = text('f-version', 'Version', 'Any version');
    [this.q, this.map, this.version] = [q, map, version];
    this.checks = {
      not_empty: check('f-not-empty'),
      not_full: check('f-not-full'),
      no_password: check('f-no-password'),
    };
    const label = (input: HTMLInputElement, text: string): HTMLElement =>
      h('label', { class: 'check' }, input, h('span', { text }));
    this.root = h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter servers', onsubmit: (e: Event) => e.preventDefault() },
      h('div', { class: 'field' }, h('label', { for: 'f-game', text: 'Game' }), this.game),
      qField,
      mapField,
      versionField,
      h('div', { class: 'checks' },
        label(this.checks.not_empty, 'Hide empty'),
        label(this.checks.not_full, 'Hide full'),
        label(this.checks.no_password, 'No password')),
    );
  }

  get value(): Filter {
    const f: Filter = {};
    if (this.game.value) f.game = [this.game.value];
    for (const [key, input] of [['q', this.q], ['map', this.map], ['version', this.version]] as const) {
      const v = input.value.trim();
      if (v) f[key] = v;
    }
    for (const [key, input] of Object.entries(this.checks)) {
      if (input.checked) f[key as keyof typeof this.checks] = true;
    }
    return f;
  }

  /** The game chosen (from the sidebar), or '' for all. */
  setGame(game: string): void {
    if (this.game.value === game) return;
    this.ensureOption(game);
    this.game.value = game;
    this.changed();
  }

  /** Keeps the game menu in step with the games listed. */
  setGames(games: Game[]): void {
    const chosen = this.game.value;
    const options = [h('option', { value: '', text: 'All games' })];
    for (const g of [...games].sort((a, b) => this.gameName(a.game).localeCompare(this.gameName(b.game)))) {
      options.push(h('option', { value: g.game, text: this.gameName(g.game) }));
    }
    this.game.replaceChildren(...options);
    this.ensureOption(chosen);
    this.game.value = chosen;
  }

  private ensureOption(game: string): void {
    if (game && ![...this.game.options].some((o) => o.value === game)) {
      this.game.append(h('option', { value: game, text: this.gameName(game) }));
    }
  }

  private debounced(): void {
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.changed(), DEBOUNCE_MS);
  }

  private changed(): void {
    clearTimeout(this.timer);
    this.onChange(this.value);
  }
}
