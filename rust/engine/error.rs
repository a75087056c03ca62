//! The engine's one error type: bad input, named by argument.

use std::fmt;

/// An argument the engine cannot work with. The bindings turn it into a Python `ValueError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidArgument {
    /// The argument's name as the Python API spells it.
    pub name: &'static str,
    pub message: String,
}

impl fmt::Display for InvalidArgument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

impl std::error::Error for InvalidArgument {}

pub type Result<T> = std::result::Result<T, InvalidArgument>;

/// Fail with `InvalidArgument { name, message }` unless `cond` holds.
pub fn ensure(cond: bool, name: &'static str, message: impl FnOnce() -> String) -> Result<()> {
    if cond {
        Ok(())
    } else {
        Err(InvalidArgument {
            name,
            message: message(),
        })
    }
}
