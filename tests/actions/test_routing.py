from pathlib import Path

import pytest

from actions.routing import Router, load_examples, train

FIRSTS = ("环境保护", "交通运输", "劳动和社会保障")


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Router:
    examples = [
        (text, category)
        for text, category in load_examples(Path("data/routing/train.yml"))
        if category.split("/", 1)[0] in FIRSTS
    ]
    model_dir = tmp_path_factory.mktemp("router")
    train(examples, model_dir)
    return Router(model_dir)


@pytest.mark.parametrize(
    "text, first",
    [
        ("楼下烧烤店油烟太大，熏得窗户都不敢开", "环境保护"),
        ("出租车司机拒载还绕路多收钱", "交通运输"),
        ("老板拖欠了我们三个月工资不给", "劳动和社会保障"),
    ],
)
def test_predicts_the_first_level_category(
    router: Router, text: str, first: str
) -> None:
    category, confidence = router.predict(text)
    assert category.startswith(f"{first}/")
    assert 0.0 < confidence <= 1.0


def test_routes_to_the_profile_department(router: Router) -> None:
    routing = router.route("老板拖欠了我们三个月工资不给")
    if routing.category is None:
        pytest.fail(f"unsure at {routing.confidence:.2f}")
    assert routing.department == "示例市人力资源和社会保障局"


def test_unsure_predictions_go_to_manual_dispatch(router: Router, monkeypatch) -> None:
    monkeypatch.setattr(router, "threshold", 1.01)
    routing = router.route("出租车司机拒载")
    assert routing.category is None
    assert routing.department == "人工分拨"
