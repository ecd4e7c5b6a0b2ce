//! The shared AWS config files (`~/.aws/credentials`, `~/.aws/config`, or where
//! `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE` point), read for the profile
//! `AWS_PROFILE` names (else `default`): `object_store` reads the environment only, and most
//! users keep their keys in these files. Hand-written because the format is a few lines of
//! INI and the AWS SDK crates would add a second HTTP stack.

use std::collections::HashMap;
use std::path::PathBuf;

/// The profile's settings, keyed by the environment variable each stands for
/// (`AWS_ACCESS_KEY_ID`, ...), so the environment can take precedence key by key.
pub fn settings() -> HashMap<String, String> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let file = |var: &str, name: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
    };
    let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    let mut out = HashMap::new();
    // The config file names non-default profiles `[profile name]`; credentials win over it.
    for (path, section) in [
        (
            file("AWS_CONFIG_FILE", "config"),
            if profile == "default" {
                profile.clone()
            } else {
                format!("profile {profile}")
            },
        ),
        (
            file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            profile.clone(),
        ),
    ] {
        let Some(text) = path.and_then(|p| std::fs::read_to_string(p).ok()) else {
            continue;
        };
        for (key, value) in section_of(&text, &section) {
            let var = match key.as_str() {
                "aws_access_key_id" => "AWS_ACCESS_KEY_ID",
                "aws_secret_access_key" => "AWS_SECRET_ACCESS_KEY",
                "aws_session_token" => "AWS_SESSION_TOKEN",
                "region" => "AWS_REGION",
                "endpoint_url" => "AWS_ENDPOINT_URL",
                _ => continue,
            };
            out.insert(var.to_string(), value);
        }
    }
    out
}

/// `key = value` lines of one `[section]`.
fn section_of(text: &str, section: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == section;
        } else if inside && let Some((k, v)) = line.split_once('=') {
            out.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::section_of;

    #[test]
    fn reads_one_section() {
        let text = "[default]\naws_access_key_id = A\n\n[profile dev]\nregion=eu-west-1\n\
                    # comment\naws_secret_access_key = S = x\n";
        assert_eq!(
            section_of(text, "profile dev"),
            vec![
                ("region".to_string(), "eu-west-1".to_string()),
                ("aws_secret_access_key".to_string(), "S = x".to_string())
            ]
        );
        assert_eq!(section_of(text, "default").len(), 1);
        assert!(section_of(text, "other").is_empty());
    }
}
