"""The assistant's front doors: web chat widget, phone line (IVR) and WeChat.

Each is a Rasa input channel (``name()``, ``from_credentials()``, ``blueprint()``)
listed in ``credentials.yml``; secrets come from env vars, never from the file.
"""

from bot import action_responses, parse_cache
from bot.privacy import configure_logs

# The Rasa server loads the channels first: its logs are masked (and JSON when
# asked) from here on; it checks action answers with a compiled schema and
# remembers the NLU's reading of texts it has seen.
configure_logs()
action_responses.install()
parse_cache.install()
