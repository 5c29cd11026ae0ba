//! Standing secrets: long-lived credentials an assistant can reach without ward, found by the
//! names of the environment variables its client hands its hooks (values are never read).

/// Names that are credentials whatever their value.
const KNOWN: &[&str] = &[
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "GITLAB_TOKEN",
    "BITBUCKET_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AZURE_CLIENT_SECRET",
    "NPM_TOKEN",
    "NODE_AUTH_TOKEN",
    "PYPI_TOKEN",
    "TWINE_PASSWORD",
    "CARGO_REGISTRY_TOKEN",
    "DOCKER_PASSWORD",
    "DOCKER_AUTH_CONFIG",
    "HEROKU_API_KEY",
    "VAULT_TOKEN",
    "PGPASSWORD",
    "MYSQL_PWD",
    "SLACK_BOT_TOKEN",
    "STRIPE_SECRET_KEY",
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "WARD_API_KEY",
];

/// Endings that name a credential.
const SUFFIXES: &[&str] = &[
    "_TOKEN",
    "_SECRET",
    "_SECRET_KEY",
    "_PASSWORD",
    "_PASSWD",
    "_API_KEY",
    "_APIKEY",
    "_ACCESS_KEY",
    "_PRIVATE_KEY",
    "_CREDENTIALS",
];

/// The names, sorted, of the variables in `env` that hold a standing secret: a known name, a
/// credential-like ending, or a URL with a password in it. Empty values, ward's own short-lived
/// task reference and file-pointer variables are not secrets.
pub fn secret_names<'a>(env: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let mut out: Vec<String> = env
        .into_iter()
        .filter(|(name, value)| {
            let upper = name.to_ascii_uppercase();
            !value.trim().is_empty()
                && upper != "WARD_TASK"
                && !upper.ends_with("_FILE")
                && (KNOWN.contains(&upper.as_str())
                    || SUFFIXES.iter().any(|s| upper.ends_with(s))
                    || url_with_password(value))
        })
        .map(|(name, _)| name.to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `scheme://user:password@host…`.
fn url_with_password(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.split_once(':').is_some_and(|(_, p)| !p.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_found_by_name_and_shape_never_by_guessing() {
        let env = [
            ("GITHUB_TOKEN", "ghp_x"),
            ("MY_SERVICE_API_KEY", "k"),
            ("DATABASE_URL", "postgres://app:hunter2@db/app"),
            ("REPLICA_URL", "postgres://app@db/app"),
            ("EMPTY_TOKEN", ""),
            ("WARD_TASK", "ward-task-1"),
            ("GOOGLE_APPLICATION_CREDENTIALS_FILE", "/x"),
            ("PATH", "/usr/bin"),
            ("TOKENIZER", "fast"),
            ("aws_secret_access_key", "s"),
        ];
        assert_eq!(
            secret_names(env),
            [
                "DATABASE_URL",
                "GITHUB_TOKEN",
                "MY_SERVICE_API_KEY",
                "aws_secret_access_key"
            ]
        );
    }
}
