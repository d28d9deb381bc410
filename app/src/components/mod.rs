//! Reusable building blocks following the KERN component anatomy. Every form control carries
//! its label, hint and error, wired with `aria-describedby`, so pages cannot forget them.

mod data;
mod feedback;
mod forms;
mod thread;

pub use data::{data_table, StepIndicator, SummaryList, SummaryRow, Table};
pub use feedback::{Alert, AlertKind, ErrorSummary, FieldError, Tag, TagKind};
pub use forms::{
    Button, ButtonKind, Checkboxes, CsrfField, DateInput, DateValue, FileInput, Radios, Select,
    TextArea, TextInput,
};
pub use thread::{AttachmentView, MessageView, Thread, Timeline};
