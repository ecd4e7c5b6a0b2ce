//! Labels met while streaming rows, each stored once: ten million rows carry a handful of
//! distinct labels.

use std::collections::HashMap;

/// Labels met so far, each stored once.
#[derive(Default)]
pub struct Interned {
    pub names: Vec<String>,
    ids: HashMap<String, u32>,
    /// Heap bytes held, kept as labels arrive so asking costs nothing.
    bytes: usize,
}

impl Interned {
    pub fn id(&mut self, label: &str) -> u32 {
        if let Some(id) = self.ids.get(label) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(label.to_string());
        self.ids.insert(label.to_string(), id);
        // Two copies of the text, a `String` in the list and a map entry.
        self.bytes += 2 * label.len() + 2 * size_of::<String>() + size_of::<u32>();
        id
    }

    /// Heap bytes held by the labels (an estimate that grows with them, not with rows).
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}
