//! What an imported script module offers to the script importing it: its functions, each
//! with its parameters and whether it is private (callable only inside the module).

use rhai::{AST, FnAccess};

/// One script function of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptFn {
    /// Its name.
    pub name: String,
    /// Its parameter names.
    pub params: Vec<String>,
    /// Whether it is `private`.
    pub private: bool,
}

/// A compiled script's (or module's) functions, closures left out.
#[derive(Debug, Clone, Default)]
pub struct ScriptFns {
    /// In definition order.
    pub functions: Vec<ScriptFn>,
}

impl ScriptFns {
    /// The functions `ast` defines.
    pub fn of(ast: &AST) -> ScriptFns {
        ScriptFns {
            functions: ast
                .iter_functions()
                .filter(|f| !f.name.starts_with("anon$"))
                .map(|f| ScriptFn {
                    name: f.name.to_string(),
                    params: f.params.iter().map(|p| p.to_string()).collect(),
                    private: f.access == FnAccess::Private,
                })
                .collect(),
        }
    }

    /// The overloads named `name`.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a ScriptFn> + 'a {
        self.functions.iter().filter(move |f| f.name == name)
    }

    /// The names of the functions callable from outside (not private).
    pub fn public_names(&self) -> impl Iterator<Item = &str> {
        self.functions
            .iter()
            .filter(|f| !f.private)
            .map(|f| f.name.as_str())
    }
}
