// Accounts: the session (its token remembered), the sign-in dialog (sign in, create
// an account, or play as a guest) and signing out.

import { ApiError, call, type Session } from './api';
import { token } from './storage';
import { h } from './text';

export class Account {
  session: Session | null = null;
  private readonly listeners: (() => void)[] = [];
  private readonly dialog: HTMLDialogElement;
  private readonly name: HTMLInputElement;
  private readonly password: HTMLInputElement;
  private readonly error: HTMLElement;

  constructor() {
    this.name = h('input', { id: 'si-name', name: 'username', autocomplete: 'username', required: true, maxlength: 16 });
    this.password = h('input', { id: 'si-password', name: 'password', type: 'password', autocomplete: 'current-password', maxlength: 256 });
    this.error = h('p', { class: 'form-error', role: 'alert' });
    const button = (text: string, cls: string, run: () => Promise<void>, type = 'button'): HTMLButtonElement =>
      h('button', { type, class: `button ${cls}`, text, onclick: (e: Event) => {
        e.preventDefault();
        void this.attempt(run);
      } });
    this.dialog = h(
      'dialog',
      { class: 'signin', 'aria-labelledby': 'si-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'si-title', text: 'Sign in to Glou' }),
        h('div', { class: 'field' }, h('label', { for: 'si-name', text: 'Name' }), this.name),
        h('div', { class: 'field' }, h('label', { for: 'si-password', text: 'Password' }), this.password),
        this.error,
        h('div', { class: 'actions' },
          button('Sign in', 'primary', () => this.signIn(), 'submit'),
          button('Create account', '', () => this.register()),
          button('Play as guest', '', () => this.guest()),
        ),
        h('button', { type: 'button', class: 'icon close', 'aria-label': 'Close', text: '✕', onclick: () => this.dialog.close() }),
      ),
    );
    document.body.append(this.dialog);
  }

  onChange(f: () => void): void {
    this.listeners.push(f);
  }

  /** Restores the remembered session if the server still knows it. */
  async restore(): Promise<void> {
    if (!token.get()) return;
    try {
      this.session = await call<Session>('GET', '/api/v1/sessions/current');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) token.set(null);
    }
  }

  /** The socket was refused with our token: check it, and forget it if it is dead. */
  async recheck(): Promise<void> {
    if (!token.get()) return;
    try {
      await call<Session>('GET', '/api/v1/sessions/current');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) this.set(null);
    }
  }

  showDialog(): void {
    this.error.textContent = '';
    this.dialog.showModal();
    this.name.focus();
  }

  async signOut(): Promise<void> {
    try {
      await call('DELETE', '/api/v1/sessions/current');
    } catch {
      // Gone already or unreachable: forgetting it here is what matters.
    }
    this.set(null);
  }

  private async attempt(run: () => Promise<void>): Promise<void> {
    this.error.textContent = '';
    if (!this.name.reportValidity()) return;
    try {
      await run();
      this.dialog.close();
      this.password.value = '';
    } catch (e) {
      this.error.textContent = e instanceof Error ? e.message : 'something went wrong';
    }
  }

  private async signIn(): Promise<void> {
    this.set(await call<Session>('POST', '/api/v1/sessions', { name: this.name.value, password: this.password.value }));
  }

  private async register(): Promise<void> {
    if (!this.password.value) throw new Error('choose a password');
    await call('POST', '/api/v1/accounts', { name: this.name.value, password: this.password.value });
    await this.signIn();
  }

  private async guest(): Promise<void> {
    this.set(await call<Session>('POST', '/api/v1/sessions', { guest: this.name.value }));
  }

  private set(session: Session | null): void {
    token.set(session?.token ?? null);
    this.session = session;
    for (const f of this.listeners) f();
  }
}
