"""DIET loaded for answering only: no optimiser and no training step.

Rasa 3.6 builds a loaded DIET by training it on one example with Adam and only then
reading the saved weights (``RasaModel.load``). The optimiser's two slots per weight
(55 of the 83 MB saved) and the traced training graph then stay in the server,
which never trains. Here one eager prediction creates the weights, the saved ones
are read over them (the optimiser's are left unread) and the prediction graph is
traced with them, as Rasa traces it after its own load.
"""

from __future__ import annotations

from typing import Any

from rasa.utils.tensorflow.constants import RUN_EAGERLY
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

_rasa_load = RasaModel.load.__func__  # type: ignore[attr-defined]


def load(
    cls: type[RasaModel],
    model_file_name: str,
    model_data_example: RasaModelData,
    predict_data_example: RasaModelData | None = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> RasaModel:
    """The saved model, ready to predict; Rasa's own load when it is to train."""
    if finetune_mode or predict_data_example is None:
        return _rasa_load(
            cls,
            model_file_name,
            model_data_example,
            predict_data_example,
            finetune_mode,
            *args,
            **kwargs,
        )
    model = cls(*args, **kwargs)
    model._run_eagerly = True
    model.run_inference(predict_data_example)
    model.load_weights(model_file_name).expect_partial()
    model._run_eagerly = kwargs.get("config", {}).get(RUN_EAGERLY)
    # The label embeddings were computed from the weights before loading.
    model.prepared_for_prediction = False
    model.run_inference(predict_data_example)
    return model


def install() -> None:
    """Makes Rasa load its TensorFlow models for prediction only."""
    RasaModel.load = classmethod(load)  # type: ignore[method-assign,assignment]
