//! Labels met while streaming rows, each stored once: ten million rows carry a handful of
//! distinct labels.

/// Labels met so far, each stored once.
#[derive(Default)]
pub struct Interned {
    pub names: Vec<String>,
    ids: std::collections::HashMap<String, u32>,
}

impl Interned {
    pub fn id(&mut self, label: &str) -> u32 {
        if let Some(id) = self.ids.get(label) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(label.to_string());
        self.ids.insert(label.to_string(), id);
        id
    }
}
