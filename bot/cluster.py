"""``make run-cluster``: Redis, two Rasa servers and two action servers behind nginx.

One machine standing in for several: conversations, their locks, tickets, rate
limits and WeChat state live in Redis (AOF, every write synced), so any Rasa
instance can take any turn and any action server any action. nginx (Debian's
package) spreads citizens over the Rasa instances, keeping each address on one
instance for socket.io, and the instances' action calls over the action servers;
when an instance dies, nginx sends its traffic to the other.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List

import redis

from bot import cli

NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
# Each proxied request holds two connections and web chats hold long polls open:
# 1,024 ran out under the bench's 50 citizens, who open 20 web chats a second.
worker_rlimit_nofile 16384;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  # Bodies and answers stay in memory: nginx's workers may not write to {dir}.
  proxy_max_temp_file_size 0;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  upstream rasa {{
    ip_hash;
{rasa_servers}
  }}
  upstream actions {{
{action_servers}
  }}
  server {{
    listen 127.0.0.1:{public};
    client_max_body_size 64k;
    client_body_buffer_size 64k;
    location / {{
      proxy_pass http://rasa;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 60s;
      proxy_next_upstream error timeout;
    }}
  }}
  server {{
    listen 127.0.0.1:{actions};
    client_max_body_size 16m;  # each action call carries the whole conversation
    client_body_buffer_size 16m;
    location / {{
      proxy_pass http://actions;
      proxy_next_upstream error timeout;
    }}
  }}
}}
"""


@dataclass
class Ports:
    """Where the cluster listens: nginx for citizens and for actions, then each part."""

    public: int = 8080
    actions: int = 8055
    rasa: List[int] = field(default_factory=lambda: [5005, 5006])
    action: List[int] = field(default_factory=lambda: [5055, 5057])
    api: int = 5056
    redis: int = 6380


@dataclass
class Cluster:
    """The running cluster's processes, by name (``rasa-1``, ``actions-2``, …)."""

    ports: Ports
    workdir: Path
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def redis_url(self) -> str:
        """The shared Redis."""
        return f"redis://127.0.0.1:{self.ports.redis}/0"

    def env(self) -> Dict[str, str]:
        """What every process of the cluster is told."""
        return {
            "REDIS_URL": self.redis_url,
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(self.ports.redis),
            "REDIS_PREFIX": os.environ.get("REDIS_PREFIX", "hotline"),
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.ports.actions}/webhook",
            "TICKET_API_PORT": str(self.ports.api),
            "SANIC_PROXIES_COUNT": "1",
        }

    def start_redis(self) -> None:
        """Starts (or restarts) Redis on its data directory, AOF synced on every write."""
        data = self.workdir / "redis"
        data.mkdir(parents=True, exist_ok=True)
        process = subprocess.Popen(
            [_binary("redis-server"), "--port", str(self.ports.redis)]
            + ["--bind", "127.0.0.1", "--dir", str(data), "--save", ""]
            + ["--appendonly", "yes", "--appendfsync", "always"],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.processes["redis"] = process
        client = redis.Redis.from_url(self.redis_url)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                client.ping()
                return
            except (redis.exceptions.BusyLoadingError, redis.ConnectionError):
                time.sleep(0.1)
        raise RuntimeError("Redis 未能启动")

    def kill(self, name: str) -> None:
        """Kills one part at once (SIGKILL), as a crash would."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)

    def _start(self, name: str, command: List[str], env: Dict[str, str]) -> None:
        self.processes[name] = cli.spawn(command, {**self.env(), **env})

    def _nginx(self) -> None:
        conf = NGINX_CONF.format(
            dir=self.workdir,
            public=self.ports.public,
            actions=self.ports.actions,
            rasa_servers="\n".join(
                f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;"
                for port in self.ports.rasa
            ),
            action_servers="\n".join(
                f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;"
                for port in self.ports.action
            ),
        )
        path = self.workdir / "nginx.conf"
        path.write_text(conf)
        self._start(
            "nginx",
            [_binary("nginx"), "-p", str(self.workdir), "-e", "nginx-error.log"]
            + ["-c", str(path), "-g", "daemon off;"],
            {},
        )

    def start(self, model: Path) -> None:
        """Starts Redis, the action servers, the ticket API, nginx and Rasa."""
        self.start_redis()
        for index, port in enumerate(self.ports.action, 1):
            self._start(
                f"actions-{index}",
                [*cli.RASA, "run", "actions", "--actions", "actions"]
                + ["--port", str(port)],
                {},
            )
        self._start("api", [sys.executable, "-m", "actions.api"], {})
        self._nginx()
        for index, port in enumerate(self.ports.rasa, 1):
            self._start(
                f"rasa-{index}",
                [*cli.RASA, "run", "--model", str(model), "--port", str(port)]
                + ["--credentials", "credentials.yml"]
                + ["--endpoints", "endpoints.cluster.yml", "--cors", "*"],
                {},
            )
        for index, port in enumerate(self.ports.action, 1):
            cli.wait_for(
                f"http://127.0.0.1:{port}/health", self.processes[f"actions-{index}"]
            )
        cli.wait_for(f"http://127.0.0.1:{self.ports.api}/health", self.processes["api"])
        for index, port in enumerate(self.ports.rasa, 1):
            cli.wait_for(
                f"http://127.0.0.1:{port}/webhooks/rest/",
                self.processes[f"rasa-{index}"],
                timeout=300,
            )

    def stop(self) -> None:
        """Stops every part, Redis last."""
        redis_process = self.processes.pop("redis", None)
        cli.stop(list(self.processes.values()))
        if redis_process is not None:
            cli.stop([redis_process])


def _binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        raise RuntimeError(f"未找到 {name}：请先安装（Debian：apt-get install {name}）")
    return found


@contextmanager
def cluster(model: Path, ports: Ports, workdir: Path) -> Iterator[Cluster]:
    """A running cluster on `ports`, its files under `workdir`, until the block ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    running = Cluster(ports, workdir.resolve())
    try:
        running.start(model)
        yield running
    finally:
        running.stop()


def run() -> None:
    """Trains if needed, starts the cluster and waits for Ctrl-C."""
    model = cli.train()
    token_note = cli.api_token_note()
    stop = cli.catch_stop_signals()
    ports = Ports()
    with cluster(model, ports, cli.ROOT / "var" / "cluster") as running:
        cli.log(
            f"集群已启动：http://localhost:{ports.public}/webhooks/web/demo"
            f"（nginx → Rasa {ports.rasa}，动作服务 {ports.action}，"
            f"Redis {ports.redis}；工单接口 {ports.api}，令牌{token_note}）。"
            "按 Ctrl-C 停止。"
        )
        cli.serve(running.processes.values(), stop)
    cli.log("已停止。")
