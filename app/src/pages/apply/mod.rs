//! Applying for a service: catalogue, service page with the responsibility check, the form
//! pages, the check-your-answers page, the confirmation and the citizen's list of applications.

mod catalogue;
mod check;
mod form;
mod mine;

pub use catalogue::{catalogue, service, Card, CatalogueView, Responsibility, ServiceView};
pub use check::{check, confirmation, summary, CheckSection, CheckView, ConfirmationView};
pub use form::{
    form_page, FieldKind, FieldView, FilesView, FormPageView, GroupItemView, GroupView,
};
pub use mine::{my_applications, CaseRow, DraftRow};
