//! Caseworker pages: the postbox overview, the inbox of one postbox, a case and the reply
//! templates of a postbox.

mod case;
mod inbox;
mod templates;

pub use case::{case_page, CaseForms, CaseView};
pub use inbox::{home, inbox, HomeView, InboxFilters, InboxRow, InboxView, PostboxCard};
pub use templates::{templates, TemplateRow, TemplatesView};
