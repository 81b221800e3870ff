"""Once the Rasa server has loaded a model, full GC passes no longer walk it."""

import gc
from typing import Iterator

import pytest

from bot import model_loading


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_loaded_models_objects_are_frozen_out_of_full_collections(
    unfrozen, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: dict = {}

    def rasa_load_model(agent, model_path, fingerprint=None) -> None:
        loaded["model"] = [[word] for word in ("社保", "公积金", "户口") * 1000]

    monkeypatch.setattr(model_loading, "_rasa_load_model", rasa_load_model)
    model_loading.load_model(object(), "models/hotline.tar.gz")  # type: ignore[arg-type]
    assert gc.get_freeze_count() >= 3000
    tracked = {id(o) for o in gc.get_objects()}
    assert not any(id(entry) in tracked for entry in loaded["model"])
