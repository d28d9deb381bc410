//! Mail leaves the portal only through the transactional outbox: the change that causes a mail
//! writes it in the same transaction, and a background worker delivers it. A crash can delay a
//! mail but never lose it, and a rolled-back change never sends one.

pub mod outbox;
pub mod templates;
pub mod transport;
pub mod worker;

pub use outbox::{enqueue, enqueue_into, OutgoingMail};
pub use worker::MailWorker;
