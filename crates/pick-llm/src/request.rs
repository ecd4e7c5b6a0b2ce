//! Chat-completion requests and their cache keys. A key is the SHA-256 of everything that
//! shapes the answer: the model, the generation parameters, the messages (system and task
//! prompt as rendered, with the input text in them) and the answer schema. The service tier
//! changes price and latency, not the answer, so it is sent but not keyed. (bonepick keyed the
//! messages only, so an answer cached for another schema or model kept coming back, B12.)

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Bumped when what a key covers changes, so old entries stop matching.
const KEY_VERSION: &[u8] = b"pick-annotate/1\n";

/// The parameters every request of a run shares.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub model: String,
    pub max_new_tokens: u64,
    pub reasoning_effort: Option<String>,
    pub service_tier: Option<String>,
    pub temperature: Option<f64>,
}

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// The JSON body.
    pub body: Vec<u8>,
    pub key: Key,
    /// Tokens the request is charged against the per-minute budget before it is sent:
    /// the prompt (four characters a token) and every completion token it may use.
    pub tokens: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub [u8; 32]);

impl Key {
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct Keyed<'a> {
    model: &'a str,
    messages: Vec<Message<'a>>,
    max_completion_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_effort: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<Value>,
}

/// `response_format` for structured outputs: the prompt's schema, strict.
pub fn response_format(prompt: &str, schema: &Value) -> Value {
    serde_json::json!({
        "type": "json_schema",
        "json_schema": {"name": prompt, "strict": true, "schema": schema}
    })
}

/// The request for one row: an optional system message, the user message, the schema.
pub fn build(
    settings: &Settings,
    system: Option<&str>,
    user: &str,
    response_format: Option<&Value>,
) -> Request {
    let mut messages = Vec::with_capacity(2);
    if let Some(s) = system {
        messages.push(Message {
            role: "system",
            content: s,
        });
    }
    messages.push(Message {
        role: "user",
        content: user,
    });
    let keyed = Keyed {
        model: &settings.model,
        messages,
        max_completion_tokens: settings.max_new_tokens,
        reasoning_effort: settings.reasoning_effort.as_deref(),
        temperature: settings.temperature,
        response_format: response_format.cloned(),
    };
    let mut body = serde_json::to_vec(&keyed).expect("a request serializes");
    let mut hasher = Sha256::new();
    hasher.update(KEY_VERSION);
    hasher.update(&body);
    let key = Key(hasher.finalize().into());
    if let Some(tier) = &settings.service_tier {
        body.pop(); // the closing brace
        body.extend_from_slice(b",\"service_tier\":");
        serde_json::to_writer(&mut body, tier).expect("a string serializes");
        body.push(b'}');
    }
    let chars = system.map_or(0, |s| s.chars().count()) + user.chars().count();
    Request {
        body,
        key,
        tokens: (chars as u64).div_ceil(4) + settings.max_new_tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            model: "m".into(),
            max_new_tokens: 100,
            reasoning_effort: None,
            service_tier: None,
            temperature: None,
        }
    }

    #[test]
    fn bodies_are_chat_completions() {
        let schema = serde_json::json!({"type": "object"});
        let r = build(
            &settings(),
            Some("sys"),
            "hello",
            Some(&response_format("p", &schema)),
        );
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["messages"][0]["role"], "system");
        assert_eq!(v["messages"][1]["content"], "hello");
        assert_eq!(v["response_format"]["json_schema"]["name"], "p");
        assert_eq!(r.tokens, 2 + 100);
    }

    #[test]
    fn keys_cover_what_shapes_the_answer_and_not_the_tier() {
        let base = build(&settings(), None, "x", None).key;
        let mut s = settings();
        s.service_tier = Some("flex".into());
        let tiered = build(&s, None, "x", None);
        assert_eq!(tiered.key, base);
        let v: Value = serde_json::from_slice(&tiered.body).unwrap();
        assert_eq!(v["service_tier"], "flex");
        for change in [
            |s: &mut Settings| s.model = "n".into(),
            |s: &mut Settings| s.max_new_tokens = 7,
            |s: &mut Settings| s.reasoning_effort = Some("low".into()),
            |s: &mut Settings| s.temperature = Some(0.0),
        ] {
            let mut s = settings();
            change(&mut s);
            assert_ne!(build(&s, None, "x", None).key, base);
        }
        assert_ne!(build(&settings(), Some("s"), "x", None).key, base);
        assert_ne!(build(&settings(), None, "y", None).key, base);
        let schema = serde_json::json!({"type": "object"});
        assert_ne!(build(&settings(), None, "x", Some(&schema)).key, base);
    }
}
