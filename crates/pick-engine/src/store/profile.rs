//! The shared AWS config files (`~/.aws/credentials`, `~/.aws/config`, or where
//! `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE` point), read for the profile
//! `AWS_PROFILE` names (else `default`): `object_store` reads the environment only, and most
//! users keep their keys in these files. Hand-written because the format is a few lines of
//! INI and the AWS SDK crates would add a second HTTP stack.
//!
//! Keys in the profile, and `credential_process` (a command printing them, run again before
//! they expire), are used. A profile whose credentials come some other way (SSO, an assumed
//! role, a web identity) is an error naming the profile and the setting, never skipped.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use object_store::CredentialProvider;
use object_store::aws::AwsCredential;

/// What the selected profile says.
#[derive(Debug, Default)]
pub struct Profile {
    /// Its name (`AWS_PROFILE`, else `default`).
    pub name: String,
    /// Its settings, keyed by the environment variable each stands for
    /// (`AWS_ACCESS_KEY_ID`, ...), so the environment can take precedence key by key.
    pub settings: HashMap<String, String>,
    /// Its `credential_process`.
    pub process: Option<String>,
    /// A setting naming a way to credentials pick does not follow.
    pub unsupported: Option<String>,
}

/// Settings that name a way to credentials pick does not follow.
const UNSUPPORTED: &[&str] = &[
    "sso_session",
    "sso_start_url",
    "sso_account_id",
    "role_arn",
    "source_profile",
    "credential_source",
    "web_identity_token_file",
];

impl Profile {
    /// Where S3 credentials come from when the environment has none: the profile's keys, its
    /// process, or nothing (instance and container credentials); an error for a profile
    /// whose way to them pick does not follow.
    pub fn credentials(&self) -> Result<Option<Arc<ProcessCredentials>>, String> {
        if self.settings.contains_key("AWS_ACCESS_KEY_ID") {
            return Ok(None);
        }
        if let Some(command) = &self.process {
            return Ok(Some(Arc::new(ProcessCredentials {
                profile: self.name.clone(),
                command: command.clone(),
                cached: tokio::sync::Mutex::new(None),
            })));
        }
        match &self.unsupported {
            Some(key) => Err(format!(
                "the AWS profile `{}` gets its credentials through `{key}`, which pick does \
                 not follow; export them first (`aws configure export-credentials --profile \
                 {} --format env`) or give the profile a `credential_process`",
                self.name, self.name
            )),
            None => Ok(None),
        }
    }
}

/// The profile `AWS_PROFILE` names (else `default`), from the config and credentials files.
pub fn profile() -> Profile {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let file = |var: &str, name: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
    };
    let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    let mut out = Profile {
        name: profile.clone(),
        ..Profile::default()
    };
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
            if key == "credential_process" {
                out.process = Some(value);
                continue;
            }
            if UNSUPPORTED.contains(&key.as_str()) {
                out.unsupported.get_or_insert(key);
                continue;
            }
            let var = match key.as_str() {
                "aws_access_key_id" => "AWS_ACCESS_KEY_ID",
                "aws_secret_access_key" => "AWS_SECRET_ACCESS_KEY",
                "aws_session_token" => "AWS_SESSION_TOKEN",
                "region" => "AWS_REGION",
                "endpoint_url" => "AWS_ENDPOINT_URL",
                _ => continue,
            };
            out.settings.insert(var.to_string(), value);
        }
    }
    out
}

/// Credentials printed by a profile's `credential_process` (the AWS CLI's JSON: `Version` 1,
/// `AccessKeyId`, `SecretAccessKey`, optional `SessionToken` and `Expiration`), kept until
/// five minutes before they expire (an hour when they do not say). One
/// run at a time, off the async workers; concurrent requests wait for it.
pub struct ProcessCredentials {
    profile: String,
    command: String,
    cached: tokio::sync::Mutex<Option<(Arc<AwsCredential>, Instant)>>,
}

// The command line and the keys can hold secrets: neither is shown.
impl std::fmt::Debug for ProcessCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProcessCredentials(profile {})", self.profile)
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Printed {
    version: u32,
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    expiration: Option<String>,
}

impl ProcessCredentials {
    fn run(profile: &str, command: &str) -> Result<(AwsCredential, Instant), String> {
        // The command is not named, and what it prints is not shown: either can hold secrets.
        let failed =
            |why: String| format!("the credential_process of the AWS profile `{profile}`: {why}");
        let out = std::process::Command::new("sh")
            .args(["-c", command])
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| failed(format!("cannot run it: {e}")))?;
        if !out.status.success() {
            return Err(failed(format!("it failed ({})", out.status)));
        }
        // What it printed holds secrets: never part of a message.
        let printed: Printed = serde_json::from_slice(&out.stdout).map_err(|e| {
            failed(format!(
                "it did not print the credentials' JSON ({})",
                e.classify_name()
            ))
        })?;
        if printed.version != 1 {
            return Err(failed(format!(
                "its JSON is version {}, not 1",
                printed.version
            )));
        }
        let lifetime = printed
            .expiration
            .as_deref()
            .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
            .map(|at| {
                // Five minutes before they expire; half what is left when that is short.
                let left = (at.timestamp() - chrono::Utc::now().timestamp()).max(0);
                Duration::from_secs(if left > 600 { left - 300 } else { left / 2 } as u64)
            })
            .unwrap_or(Duration::from_secs(3600));
        Ok((
            AwsCredential {
                key_id: printed.access_key_id,
                secret_key: printed.secret_access_key,
                token: printed.session_token,
            },
            Instant::now() + lifetime,
        ))
    }
}

/// serde_json's error kinds by name, without the input it quotes.
trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "a field missing or of the wrong type",
            serde_json::error::Category::Eof => "cut short",
        }
    }
}

#[async_trait]
impl CredentialProvider for ProcessCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let mut cached = self.cached.lock().await;
        if let Some((credential, until)) = &*cached
            && Instant::now() < *until
        {
            return Ok(Arc::clone(credential));
        }
        let (profile, command) = (self.profile.clone(), self.command.clone());
        let ran = tokio::task::spawn_blocking(move || ProcessCredentials::run(&profile, &command))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
        let (credential, until) = ran.map_err(|message| object_store::Error::Generic {
            store: "S3",
            source: message.into(),
        })?;
        let credential = Arc::new(credential);
        *cached = Some((Arc::clone(&credential), until));
        Ok(credential)
    }
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
