"""Response generation that fills local facts from the deployment profile."""

from __future__ import annotations

from typing import Any, Dict

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

from bot.profile import placeholder_values


class ProfileNaturalLanguageGenerator(TemplatedNaturalLanguageGenerator):
    """Domain responses with ``{city}``, ``{hotline}``… filled from the profile.

    Configured in ``endpoints.yml`` as ``nlg: {type: bot.nlg.ProfileNaturalLanguageGenerator}``.
    """

    def __init__(self, endpoint_config: EndpointConfig | None, domain: Domain) -> None:
        super().__init__(domain.responses)
        placeholder_values()  # fail at start-up, not mid-conversation, on a bad profile

    def generate_from_slots(
        self,
        utter_action: str,
        filled_slots: Dict[str, Any],
        output_channel: str,
        **kwargs: Any,
    ) -> Dict[str, Any] | None:
        """Generates the response with profile values behind explicit arguments."""
        values = {**placeholder_values(output_channel), **kwargs}
        return super().generate_from_slots(
            utter_action, filled_slots, output_channel, **values
        )
