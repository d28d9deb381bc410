//! Applications: responsibility rules and routing. (Service catalogue, forms, drafts,
//! evidence and submission build on this.)

pub mod routing;
