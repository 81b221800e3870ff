"""The assistant's front doors: web chat widget, phone line (IVR) and WeChat.

Each is a Rasa input channel (``name()``, ``from_credentials()``, ``blueprint()``)
listed in ``credentials.yml``; secrets come from env vars, never from the file.
"""
