pub mod account;
pub mod apply;
pub mod dev_components;
pub mod dev_mail;
pub mod error;
pub mod home;
pub mod legal;
