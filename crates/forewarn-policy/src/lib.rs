//! The forewarn policy engine: who may see which section of which advisory, when, and why.
//!
//! Pure: no IO, no async, no clock (time is an argument). A [`Policy`] is parsed from TOML
//! ([`document`]), rules use the small, total condition language in [`condition`], and [`decide`] / [`view`] give
//! decisions with their explanations. [`Evaluator`] answers the same questions in bulk without explanations.
//!
//! Architecture invariant: [`view`] is the one function every delivery path calls to learn what a partner may see
//! ([`view_unexplained`] is the same function, leaving out the explanation sentences).

pub mod condition;
pub mod decide;
pub mod document;
pub mod lead;

pub use decide::{
    decide, diff, schedule_groups, view, view_unexplained, AdvisoryFacts, Blocker, Change, Decision, Evaluator,
    RuleStep, View,
};
pub use document::{Policy, PolicyError};
pub use lead::{Ahead, Lead, Visibility};

/// The shipped default policy, modelled on MAPP (see the comments in the file).
pub const DEFAULT_POLICY: &str = include_str!("../../../policy/default.toml");
