"""How the Rasa server loads a model: for answering only, and out of the GC's way.

Rasa 3.6 builds a loaded DIET by training it on one example with Adam and only then
reading the saved weights (``RasaModel.load``). The optimiser's two slots per weight
(55 of the 83 MB saved) and the traced training graph then stay in the server,
which never trains. Here one eager prediction creates the weights, the saved ones
are read over them (the optimiser's are left unread) and the prediction graph is
traced with them, as Rasa traces it after its own load.

A loaded model is also half a million Python objects (Jieba's dictionary most of
them) that live as long as the model, and every full pass of the garbage collector
walked them all: about 220 ms during which no citizen is answered. Once a model is
loaded its objects are moved out of the collector's reach (``gc.freeze``). A model
replaced at run time is still freed by reference counting, but for any reference
cycles among its objects.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from rasa.core.agent import Agent
from rasa.utils.tensorflow.constants import RUN_EAGERLY
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

_rasa_load = RasaModel.load.__func__  # type: ignore[attr-defined]
_rasa_load_model = Agent.load_model


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


def load_model(
    agent: Agent, model_path: str | Path, fingerprint: str | None = None
) -> None:
    """Rasa's model loading, then the model's objects frozen out of full GC passes."""
    _rasa_load_model(agent, model_path, fingerprint)
    gc.collect()
    gc.freeze()


def install() -> None:
    """Makes Rasa load its models for prediction only and freeze them once loaded."""
    RasaModel.load = classmethod(load)  # type: ignore[method-assign,assignment]
    Agent.load_model = load_model  # type: ignore[method-assign]
