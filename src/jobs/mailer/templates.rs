//! Email templates from `config/templates/`: per event a `.subject`, a
//! `.txt` and an `.html` (which may extend `_layout.html`). All are loaded and
//! test-rendered at start-up, so a broken template stops the service there.

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior};
use serde_json::{json, Value};

use crate::domain::notifications::EmailEvent;

pub struct Templates {
    env: Environment<'static>,
}

/// One email's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Every value a template may use, for the start-up check.
fn sample() -> Value {
    json!({
        "request_id": "00000000-0000-0000-0000-000000000000",
        "reference": "NRU-2026-000001",
        "status": "triaged",
        "priority": "P1",
        "due_at": "Mon 30 Nov 2026, 17:00 (UK time)",
        "level": 80,
        "target": "first response",
        "duty": "duty coordinator",
        "recipient_name": "Sample",
        "link": "https://helpdesk.example/requests/00000000-0000-0000-0000-000000000000",
    })
}

impl Templates {
    pub fn load(dir: &Path) -> anyhow::Result<Templates> {
        let mut env = Environment::new();
        // A misspelt variable is an error, not an empty string.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let entries = std::fs::read_dir(dir).map_err(|e| {
            anyhow::anyhow!("email.templates_dir: cannot read {}: {e}", dir.display())
        })?;
        for entry in entries {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            let source = std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("email.templates_dir: cannot read {name}: {e}"))?;
            env.add_template_owned(name.clone(), source)
                .map_err(|e| anyhow::anyhow!("email.templates_dir: {name}: {e}"))?;
        }
        let templates = Templates { env };
        for event in EmailEvent::ALL {
            templates
                .render(*event, &sample())
                .map_err(|e| anyhow::anyhow!("email.templates_dir ({}): {e}", dir.display()))?;
        }
        Ok(templates)
    }

    fn part(&self, event: EmailEvent, part: &str, context: &Value) -> Result<String, String> {
        let name = format!("{event}.{part}");
        self.env
            .get_template(&name)
            .and_then(|t| t.render(context))
            .map_err(|e| format!("{name}: {e}"))
    }

    /// Renders `event`'s three parts with `context`.
    pub fn render(&self, event: EmailEvent, context: &Value) -> Result<Rendered, String> {
        let subject = self.part(event, "subject", context)?;
        Ok(Rendered {
            subject: subject.lines().next().unwrap_or_default().trim().to_owned(),
            text: self.part(event, "txt", context)?,
            html: self.part(event, "html", context)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Templates {
        Templates::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates"))
            .expect("shipped templates load")
    }

    #[test]
    fn every_event_renders_a_subject_text_and_html_with_the_reference_and_link() {
        let templates = shipped();
        for event in EmailEvent::ALL {
            let email = templates.render(*event, &sample()).unwrap();
            assert!(email.subject.contains("NRU-2026-000001"), "{event}");
            assert!(!email.subject.contains('\n'));
            for body in [&email.text, &email.html] {
                assert!(body.contains("NRU-2026-000001"), "{event}: {body}");
                assert!(
                    body.contains("https://helpdesk.example/requests/"),
                    "{event}"
                );
                assert!(body.contains("Hello Sample"), "{event}");
            }
        }
    }

    #[test]
    fn html_parts_escape_what_they_are_given() {
        let mut context = sample();
        context["recipient_name"] = json!("<script>x</script>");
        let email = shipped()
            .render(EmailEvent::RequestAssigned, &context)
            .unwrap();
        assert!(email.html.contains("&lt;script&gt;"));
        assert!(email.text.contains("<script>"), "plain text is not HTML");
    }

    #[test]
    fn a_template_using_an_unknown_value_stops_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let shipped_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates");
        for entry in std::fs::read_dir(&shipped_dir).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
        std::fs::write(dir.path().join("reply_posted.txt"), "{{ title }}").unwrap();
        let error = Templates::load(dir.path()).err().unwrap().to_string();
        assert!(error.contains("reply_posted.txt"), "{error}");
        std::fs::remove_file(dir.path().join("reply_posted.html")).unwrap();
        std::fs::write(dir.path().join("reply_posted.txt"), "ok").unwrap();
        let error = Templates::load(dir.path()).err().unwrap().to_string();
        assert!(error.contains("reply_posted.html"), "{error}");
    }
}
