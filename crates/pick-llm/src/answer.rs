//! Answers: a completion's text parsed as JSON and checked against the prompt's schema
//! (bonepick parsed without checking, so a wrong shape reached the dataset). Schema-less
//! prompts answer with the text itself.

use serde_json::Value;

use crate::error::LlmError;

/// A prompt's answer schema, compiled once.
pub struct Schema {
    validator: jsonschema::Validator,
    pub json: Value,
}

impl Schema {
    pub fn compile(name: &str, json: &Value) -> Result<Schema, LlmError> {
        let validator = jsonschema::validator_for(json).map_err(|e| LlmError::Prompt {
            name: name.to_string(),
            message: format!("its answer schema is not a valid JSON Schema: {e}"),
        })?;
        Ok(Schema {
            validator,
            json: json.clone(),
        })
    }

    /// The answer in `content`, or why it is not one.
    pub fn check(&self, content: &str) -> Result<Value, String> {
        let body = strip_fence(content);
        let value: Value = serde_json::from_str(body).map_err(|e| {
            format!(
                "the answer is not JSON ({e}): {}",
                preview(content.trim(), 120)
            )
        })?;
        if let Err(e) = self.validator.validate(&value) {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "/".to_string() } else { at };
            return Err(format!("the answer breaks the schema at {at}: {e}"));
        }
        Ok(value)
    }
}

/// The answer of a prompt: its schema's JSON value, or the text as a JSON string.
pub fn parse(schema: Option<&Schema>, content: &str) -> Result<Value, String> {
    match schema {
        Some(s) => s.check(content),
        None => Ok(Value::String(content.to_string())),
    }
}

/// JSON in a Markdown code fence (models without structured outputs write one) unwrapped.
fn strip_fence(content: &str) -> &str {
    let t = content.trim();
    let Some(rest) = t.strip_prefix("```") else {
        return t;
    };
    let rest = rest.strip_prefix("json").unwrap_or(rest);
    rest.strip_suffix("```").unwrap_or(rest).trim()
}

/// The first `max` characters of `s`, marked when cut.
pub fn preview(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Schema {
        Schema::compile(
            "t",
            &json!({
                "type": "object",
                "properties": {"reason": {"type": "string"}, "score": {"type": "integer", "minimum": 0, "maximum": 5}},
                "required": ["reason", "score"],
                "additionalProperties": false
            }),
        )
        .unwrap()
    }

    #[test]
    fn a_good_answer_parses() {
        let v = schema().check(r#"{"reason": "ok", "score": 3}"#).unwrap();
        assert_eq!(v, json!({"reason": "ok", "score": 3}));
        let fenced = schema()
            .check("```json\n{\"reason\": \"ok\", \"score\": 0}\n```")
            .unwrap();
        assert_eq!(fenced["score"], 0);
    }

    #[test]
    fn bad_answers_say_why() {
        let s = schema();
        let e = s.check(r#"{"reason": "ok", "score": 9}"#).unwrap_err();
        assert!(e.contains("breaks the schema at /score"), "{e}");
        let e = s.check(r#"{"reason": "ok"}"#).unwrap_err();
        assert!(e.contains("breaks the schema at /"), "{e}");
        let e = s
            .check(r#"{"reason": "ok", "score": 1, "x": 1}"#)
            .unwrap_err();
        assert!(e.contains("breaks the schema"), "{e}");
        let e = s.check("{\"reason\": \"o").unwrap_err();
        assert!(e.starts_with("the answer is not JSON"), "{e}");
    }

    #[test]
    fn schemaless_prompts_answer_with_text() {
        assert_eq!(parse(None, "B").unwrap(), json!("B"));
    }
}

#[cfg(test)]
mod shipped {
    use serde_json::{Value, json};

    use crate::prompt::{Kind, Library};

    /// The smallest answer a schema allows: strings "x", integers at their minimum, true.
    fn good(schema: &Value) -> Value {
        match schema["type"].as_str() {
            Some("object") => Value::Object(
                schema["properties"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), good(v)))
                    .collect(),
            ),
            Some("integer") => schema["minimum"].clone(),
            Some("boolean") => json!(true),
            Some("string") => json!("x"),
            other => panic!("a shipped schema uses {other:?}"),
        }
    }

    /// Every shipped task prompt's schema takes a well-formed answer and refuses one without
    /// its score, or with the score out of range.
    #[test]
    fn shipped_schemas_take_good_answers_and_refuse_bad_ones() {
        let library = Library::load(&[]).unwrap();
        let names = library.names(Kind::Task);
        assert!(names.len() >= 8);
        for name in names {
            let prompt = library.get(Kind::Task, name).unwrap();
            let schema = prompt
                .schema
                .as_ref()
                .expect("shipped task prompts have schemas");
            let checker = super::Schema::compile(name, schema).unwrap();
            let answer = good(schema);
            checker.check(&answer.to_string()).unwrap();
            let mut missing = answer.clone();
            missing.as_object_mut().unwrap().remove("score");
            assert!(checker.check(&missing.to_string()).is_err(), "{name}");
            let mut high = answer.clone();
            high["score"] = json!(schema["properties"]["score"]["maximum"].as_i64().unwrap() + 1);
            assert!(checker.check(&high.to_string()).is_err(), "{name}");
            let mut extra = answer;
            extra["unexpected"] = json!(1);
            assert!(checker.check(&extra.to_string()).is_err(), "{name}");
        }
    }
}
