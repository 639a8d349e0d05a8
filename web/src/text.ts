// Text from the network made safe to show, and the one way this UI builds elements.
// Data only ever reaches the page through `textContent` (never innerHTML), after
// `clean()` has removed what could disturb the layout around it.

// C0 and C1 controls (tabs and newlines too: one line per cell), bidi embeddings,
// overrides and isolates (U+202A–202E, U+2066–2069), and the line/paragraph separators.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
// The same, but keeping newlines: for bios and the message of the day.
const UNSAFE_KEEP_LINES = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
// Longest text kept from any one field: the layout never has to hold more.
const MAX_LEN = 2000;

/** `s` (any value) as one line of displayable text. */
export function clean(s: unknown): string {
  const text = typeof s === 'string' ? s : s === undefined || s === null ? '' : String(s);
  const cut = text.length > MAX_LEN ? text.slice(0, MAX_LEN) + '…' : text;
  return cut.replace(UNSAFE, '');
}

/** `s` as text that keeps its line breaks. */
export function cleanLines(s: unknown): string {
  const text = typeof s === 'string' ? s : '';
  const cut = text.length > MAX_LEN ? text.slice(0, MAX_LEN) + '…' : text;
  return cut.replace(UNSAFE_KEEP_LINES, '');
}

type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;
type Child = Node | string | null | undefined | false;

/**
 * Creates an element. Attributes: `class`, `text` (cleaned text content), `on<event>`
 * handlers, booleans present when true, anything else set as an attribute. String
 * children become text nodes after `clean()`.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key === 'text') el.textContent = clean(value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value as (e: Event) => void);
    } else if (key === 'class') el.className = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** Appends children (strings become cleaned text). */
export function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' ? document.createTextNode(clean(child)) : child);
  }
}

/** Replaces every child of `el`. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** Sets text content only when it changed (cheap for the virtual rows). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** A time as the local short form, or "—". */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : d.toLocaleString();
}
