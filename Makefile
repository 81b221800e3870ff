# Two commands for a newcomer: `make run` and `make test`. Every target sets up what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# Python 3.10 (Rasa 3.6 supports up to 3.10): python3.10 on PATH, else a pyenv install.
PYTHON310 ?= $(shell \
	if python3.10 -c 'import sys' >/dev/null 2>&1; then command -v python3.10; \
	else ls -d "$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)"/versions/3.10.*/bin/python 2>/dev/null | sort -V | tail -n 1; fi)

.PHONY: help install train run run-cluster test unit stories validate lint eval bench clean

help:
	@echo "make run    安装依赖、按需训练并启动助手（REST 与 Socket.IO）"
	@echo "make test   运行全部测试（单元测试、数据校验、对话测试）"
	@echo "make eval   在独立测试集上评估 NLU 与 FAQ 准确率"
	@echo "make bench  模拟市民并发访问，与 Rasa 默认配置的基线对比性能"
	@echo "make run-cluster  Redis + 两个 Rasa 实例 + 两个动作服务，nginx 在前"
	@echo "make lint   ruff、black、mypy"

$(VENV)/.installed: requirements.lock
	@if [ -z "$(PYTHON310)" ]; then \
		echo "未找到 Python 3.10：请安装 python3.10（或用 pyenv install 3.10），也可以 make PYTHON310=/path/to/python3.10"; exit 1; fi
	@echo "[hotline] 使用 $(PYTHON310) 创建 $(VENV)"
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==24.0
	$(PY) -m pip install --quiet --no-deps -r requirements.lock
	$(PY) -m pip check
	touch $@

install: $(VENV)/.installed

train: install
	$(PY) -m bot.cli train

run: install
	$(PY) -m bot.cli run

# Redis, two Rasa servers and two action servers behind nginx (needs redis-server, nginx).
run-cluster: install
	$(PY) -m bot.cli run-cluster

# The channel tests talk to a live assistant, so the model must be trained first.
unit: train
	$(PY) -m pytest -q

validate: install
	$(PY) -m rasa data validate --config config.yml --domain bot/domain --data data

stories: install
	$(PY) -m bot.cli stories

test: validate stories unit

eval: install
	$(PY) -m bot.evaluate

# Trains the baseline (Rasa's default config) on first use; see bot/bench.py.
bench: train
	$(PY) -m bot.bench

lint: install
	$(PY) -m ruff check bot actions connectors tests
	$(PY) -m black --check bot actions connectors tests
	$(PY) -m mypy bot actions connectors

clean:
	rm -rf $(VENV) models results
