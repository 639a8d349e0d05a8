//! Keys: what each key does in each mode of the [`App`], turned into state changes and
//! [`Action`]s.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{Action, App, Field, Filters, MAX_FILTER, Mode};

impl App {
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return Action::Quit;
        }
        self.status = None;
        match self.mode.clone() {
            Mode::List => self.list_key(key),
            Mode::Edit(field) => {
                self.edit_key(field, key);
                Action::None
            }
            Mode::Games { cursor } => {
                self.games_key(cursor, key);
                Action::None
            }
            Mode::Details { scroll } => self.details_key(scroll, key),
            Mode::Help => {
                self.mode = Mode::List;
                Action::None
            }
        }
    }

    fn list_key(&mut self, key: KeyEvent) -> Action {
        let page = self.page as isize;
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => return Action::Quit,
            KeyCode::Up | KeyCode::Char('k') => self.move_by(-1),
            KeyCode::Down | KeyCode::Char('j') => self.move_by(1),
            KeyCode::PageUp => self.move_by(-page),
            KeyCode::PageDown => self.move_by(page),
            KeyCode::Home => self.move_by(isize::MIN / 2),
            KeyCode::End => self.move_by(isize::MAX / 2),
            KeyCode::Enter => return self.launch(),
            KeyCode::Char('d') | KeyCode::Char(' ') | KeyCode::Right
                if self.selected().is_some() =>
            {
                self.mode = Mode::Details { scroll: 0 };
            }
            KeyCode::Char('/') => self.mode = Mode::Edit(Field::Text),
            KeyCode::Char('m') => self.mode = Mode::Edit(Field::Map),
            KeyCode::Char('v') => self.mode = Mode::Edit(Field::Version),
            KeyCode::Char('g') => {
                let games = self.games();
                let cursor = match &self.filters.game {
                    Some(g) => games.iter().position(|r| r.game == *g).map_or(0, |i| i + 1),
                    None => 0,
                };
                self.mode = Mode::Games { cursor };
            }
            KeyCode::Char('e') => self.set_filter(|f| f.hide_empty = !f.hide_empty),
            KeyCode::Char('f') => self.set_filter(|f| f.hide_full = !f.hide_full),
            KeyCode::Char('p') => self.set_filter(|f| f.hide_password = !f.hide_password),
            KeyCode::Char('c') => self.set_filter(|f| *f = Filters::default()),
            KeyCode::Char('i') => {
                self.installed_first = !self.installed_first;
                self.dirty = true;
            }
            KeyCode::Char('s') => {
                self.sort = self.sort.next();
                self.reversed = false;
                self.dirty = true;
            }
            KeyCode::Char('r') => {
                self.reversed = !self.reversed;
                self.dirty = true;
            }
            KeyCode::Char('?') | KeyCode::F(1) => self.mode = Mode::Help,
            _ => {}
        }
        self.refresh();
        Action::None
    }

    fn edit_key(&mut self, field: Field, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Enter | KeyCode::Down | KeyCode::Up => self.mode = Mode::List,
            KeyCode::Esc => {
                self.set_filter(|f| field_mut(f, field).clear());
                self.mode = Mode::List;
            }
            KeyCode::Backspace => self.set_filter(|f| {
                field_mut(f, field).pop();
            }),
            KeyCode::Char('u') if ctrl => self.set_filter(|f| field_mut(f, field).clear()),
            KeyCode::Char(c) if !ctrl && !c.is_control() => self.set_filter(|f| {
                let text = field_mut(f, field);
                if text.chars().count() < MAX_FILTER {
                    text.push(c);
                }
            }),
            _ => {}
        }
        self.refresh();
    }

    fn games_key(&mut self, cursor: usize, key: KeyEvent) {
        let count = self.games().len() + 1;
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => {
                self.mode = Mode::Games {
                    cursor: cursor.saturating_sub(1),
                }
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.mode = Mode::Games {
                    cursor: (cursor + 1).min(count - 1),
                }
            }
            KeyCode::Home => self.mode = Mode::Games { cursor: 0 },
            KeyCode::End => self.mode = Mode::Games { cursor: count - 1 },
            KeyCode::Enter => {
                let game = cursor
                    .checked_sub(1)
                    .and_then(|i| self.games().get(i).map(|r| r.game.clone()));
                self.set_filter(|f| f.game = game);
                self.mode = Mode::List;
                self.refresh();
            }
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('g') => self.mode = Mode::List,
            _ => {}
        }
    }

    fn details_key(&mut self, scroll: u16, key: KeyEvent) -> Action {
        match key.code {
            KeyCode::Enter => {
                self.mode = Mode::List;
                return self.launch();
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.mode = Mode::Details {
                    scroll: scroll.saturating_sub(1),
                }
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.mode = Mode::Details {
                    scroll: scroll.saturating_add(1).min(2000),
                }
            }
            KeyCode::PageUp => {
                self.mode = Mode::Details {
                    scroll: scroll.saturating_sub(10),
                }
            }
            KeyCode::PageDown => {
                self.mode = Mode::Details {
                    scroll: scroll.saturating_add(10).min(2000),
                }
            }
            _ => self.mode = Mode::List,
        }
        Action::None
    }

    fn launch(&mut self) -> Action {
        match self.selected() {
            Some(s) => Action::Launch {
                game: s.game.to_string(),
                address: s.address.to_string(),
                name: s.name.to_string(),
            },
            None => Action::None,
        }
    }

    fn set_filter(&mut self, change: impl FnOnce(&mut Filters)) {
        change(&mut self.filters);
        self.dirty = true;
    }

    fn move_by(&mut self, delta: isize) {
        if self.view.is_empty() {
            return;
        }
        let last = self.view.len() - 1;
        self.selected = self.selected.saturating_add_signed(delta).min(last);
        self.selected_id = self.view.get(self.selected).cloned();
        self.scroll_to_selection();
    }
}

fn field_mut(f: &mut Filters, field: Field) -> &mut String {
    match field {
        Field::Text => &mut f.text,
        Field::Map => &mut f.map,
        Field::Version => &mut f.version,
    }
}
