"""The assistant's front doors: web chat widget, phone line (IVR) and WeChat.

Each is a Rasa input channel (``name()``, ``from_credentials()``, ``blueprint()``)
listed in ``credentials.yml``; secrets come from env vars, never from the file.
"""

from bot import action_responses, event_types, model_loading, parse_cache
from bot.privacy import configure_logs

# The Rasa server loads the channels first: its logs are masked (and JSON when
# asked) from here on. Measured fixes to Rasa (docs/performance.md): action
# answers checked with a compiled schema, event classes found by name once, the
# NLU's reading of texts already seen, and DIET loaded without its optimiser.
configure_logs()
action_responses.install()
event_types.install()
parse_cache.install()
model_loading.install()
