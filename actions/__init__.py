"""Custom actions of the 12345 hotline assistant (the rasa-sdk action server)."""
