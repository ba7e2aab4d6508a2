"""``vp3d deploy``'s parts that need no running worker: the generated HAProxy configuration
(read back, and checked by the real HAProxy), the busy page, the capacity arithmetic, the
health answer's parsing and the workers' command line."""

from __future__ import annotations

import re
import signal
import sys
from pathlib import Path

import pytest

from tests.serving import free_port
from tests import aio
from vp3d import busy_page, capacity
from vp3d.deploy import haproxy, health
from vp3d.deploy.process import exit_words
from vp3d.deploy.supervisor import Plan, public_url, worker_argv

BACKENDS = [haproxy.Backend(1, 40001), haproxy.Backend(2, 40002), haproxy.Backend(3, 40003)]


def sections(text: str) -> dict[str, list[str]]:
    """``haproxy.cfg`` as {section line: its directives}, comments left out."""
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        if not line[0].isspace():
            current = line.strip()
            out[current] = []
        else:
            out[current].append(" ".join(line.split()))
    return out


@pytest.fixture
def cfg(tmp_path) -> dict[str, list[str]]:
    return sections(haproxy.config("0.0.0.0", 8080, BACKENDS, tmp_path / "busy.html", 10))


def test_the_frontend_listens_where_asked_and_sends_websockets_to_the_sessions(cfg):
    front = cfg["frontend vp3d"]
    assert "bind ipv4@0.0.0.0:8080" in front
    assert "use_backend sessions if { hdr(upgrade) -i websocket }" in front
    assert "default_backend pages" in front


def test_ipv6_addresses_bind_with_the_port_after_the_last_colon(tmp_path):
    text = haproxy.config("::1", 9000, BACKENDS[:1], tmp_path / "busy.html", 10)
    assert "bind ipv6@::1:9000" in sections(text)["frontend vp3d"]
    with pytest.raises(ValueError):
        haproxy.bind_address("localhost", 80)  # an address, never a name: the CLI resolves it


def test_websockets_go_to_ready_workers_with_the_fewest_sessions(cfg):
    sessions = cfg["backend sessions"]
    assert "balance leastconn" in sessions
    assert "http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost" in sessions
    assert "http-check expect status 200" in sessions  # full and draining answer 503
    servers = [d for d in sessions if d.startswith("server ")]
    assert servers == [f"server worker{b.worker_id} 127.0.0.1:{b.port} check" for b in BACKENDS]


def test_page_files_come_from_any_listening_worker(cfg):
    pages = cfg["backend pages"]
    assert "balance roundrobin" in pages
    assert not any("httpchk" in d or "http-check" in d for d in pages)  # full workers still serve files
    assert [d for d in pages if d.startswith("server ")] == [
        f"server worker{b.worker_id} 127.0.0.1:{b.port} check" for b in BACKENDS]


def test_refused_requests_are_retried_on_another_worker_and_websockets_may_idle(cfg):
    defaults = cfg["defaults"]
    assert f"retries {len(BACKENDS)}" in defaults
    assert "option redispatch 1" in defaults
    retry_on = next(d for d in defaults if d.startswith("retry-on ")).split()[1:]
    assert {"conn-failure", "503"} <= set(retry_on)
    tunnel = next(d for d in defaults if d.startswith("timeout tunnel "))
    assert int(re.fullmatch(r"timeout tunnel (\d+)s", tunnel).group(1)) > 30  # the worker pings every 30 s


def test_the_proxy_answers_with_the_busy_page_when_no_worker_can(cfg, tmp_path):
    errors = [d for d in cfg["defaults"] if d.startswith("http-error ")]
    assert {d.split()[2] for d in errors} == {"502", "503", "504"}
    for d in errors:
        assert f"file {tmp_path / 'busy.html'}" in d and "hdr Retry-After 10" in d


def test_bad_plans_are_refused(tmp_path):
    with pytest.raises(ValueError, match="at least one worker"):
        haproxy.config("127.0.0.1", 8080, [], tmp_path / "busy.html", 10)
    with pytest.raises(ValueError, match="must differ"):
        haproxy.config("127.0.0.1", 8080, [haproxy.Backend(1, 1), haproxy.Backend(1, 2)], tmp_path / "b", 10)


def test_haproxy_accepts_the_generated_configuration(haproxy_binary, tmp_path):
    assert haproxy.version(haproxy_binary) >= haproxy.MIN_VERSION
    page = tmp_path / "busy.html"
    page.write_text(busy_page.BUSY_HTML)
    path = tmp_path / "haproxy.cfg"
    path.write_text(haproxy.config("127.0.0.1", free_port(), BACKENDS, page, busy_page.RETRY_AFTER_S))
    haproxy.check(haproxy_binary, path)
    page.unlink()  # the same file naming a busy page that is not there: HAProxy says so
    with pytest.raises(ValueError, match="HAProxy refused the generated configuration: parsing .*"
                                         "error opening file '.*busy.html'"):
        haproxy.check(haproxy_binary, path)


def test_a_program_that_is_not_haproxy_is_named(tmp_path):
    with pytest.raises(ValueError, match="no HAProxy program there"):
        haproxy.find(str(tmp_path / "haproxy"))
    with pytest.raises(ValueError, match="is not HAProxy"):
        haproxy.version(Path(sys.executable))  # runs, prints a Python version


def test_the_busy_page_stands_alone_and_asks_to_come_back():
    html = busy_page.BUSY_HTML
    assert "Busy, try again in a moment" in html
    assert f'content="{busy_page.RETRY_AFTER_S}"' in html  # it reloads itself
    assert not re.search(r"\b(src|href)=", html)  # nothing to load from a server that is full
    assert len(html.encode()) < 8000  # well inside HAProxy's 16 kB response buffer
    assert busy_page.busy_headers()["Retry-After"] == str(busy_page.RETRY_AFTER_S)


@pytest.mark.parametrize("memory_mb, workers", [(2048, 1), (4096, 2), (16384, 4), (65536, 16)])
def test_a_worker_at_its_cap_fits_its_share_of_memory(memory_mb, workers):
    cap = capacity.sessions_that_fit(memory_mb, workers)
    share = capacity.MEMORY_SHARE * memory_mb
    assert cap >= 1
    assert workers * capacity.worker_mb(cap) <= share < workers * capacity.worker_mb(cap + 1)


def test_fewer_sessions_per_worker_when_more_workers_share_the_memory():
    caps = [capacity.sessions_that_fit(16384, n) for n in (1, 2, 4, 8)]
    assert caps == sorted(caps, reverse=True) and caps[0] > caps[-1]
    assert capacity.sessions_that_fit(100, 4) == 1  # never zero: a worker takes one visitor
    n = capacity.workers_that_fit(16384, 25)
    assert n * capacity.worker_mb(25) <= capacity.MEMORY_SHARE * 16384 < (n + 1) * capacity.worker_mb(25)


def test_available_memory_is_the_smaller_of_the_machine_and_a_container_limit(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       8192000 kB\nMemAvailable:   2048000 kB\n")
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    assert capacity.available_mb(meminfo, cgroup) == pytest.approx(2000.0)
    (cgroup / "memory.max").write_text("max\n")
    (cgroup / "memory.current").write_text(str(100 * 2**20))
    assert capacity.available_mb(meminfo, cgroup) == pytest.approx(2000.0)
    (cgroup / "memory.max").write_text(str(1024 * 2**20))
    (cgroup / "memory.current").write_text(str(256 * 2**20))
    assert capacity.available_mb(meminfo, cgroup) == pytest.approx(768.0)


def test_health_answers_are_read_and_junk_is_refused():
    answer = health.parse(b'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\r\n'
                          b'{"worker": 2, "pid": 7, "state": "draining", "sessions": 1}')
    assert answer.status == 503 and answer.state == "draining" and answer.report["worker"] == 2
    for junk in (b"", b"HTTP/1.1 200 OK\r\n\r\nnot json", b"SSH-2.0\r\n\r\n{}", b"HTTP/1.1 200 OK\r\n\r\n[1]"):
        with pytest.raises(ValueError):
            health.parse(junk)


def test_a_worker_that_is_not_there_is_silent_not_an_error():
    assert aio.run(health.ask(free_port(), timeout_s=2.0)) is None


def test_exits_are_told_in_words():
    assert exit_words(-signal.SIGKILL) == "killed by SIGKILL"
    assert exit_words(0) == "exit status 0" and exit_words(2) == "exit status 2"
    assert exit_words(None) == "still running"


def test_each_worker_gets_a_command_vp3d_serve_understands():
    from vp3d.cli import parse_args

    plan = Plan(workers=2, host="127.0.0.1", port=8080, haproxy=Path("/usr/sbin/haproxy"), max_sessions=12,
                idle_timeout_s=None, drain_grace_s=7.5, story_args=("--level", "L2", "--kiosk"))
    argv = worker_argv("python", 2, 40123, plan.serve_args, Path("/run/vp3d/worker2.beat"))
    assert argv[:3] == ["python", "-m", "vp3d"]
    args = parse_args(argv[3:])
    assert (args.command, args.host, args.port, args.worker_id) == ("serve", "127.0.0.1", 40123, 2)
    assert (args.max_sessions, args.idle_timeout, args.drain_grace) == (12, 0.0, 7.5)  # 0: never idle
    assert args.busy_lag == 1.0 and args.heartbeat == Path("/run/vp3d/worker2.beat")
    never = Plan(workers=1, host="127.0.0.1", port=8080, haproxy=Path("/usr/sbin/haproxy"), max_sessions=1,
                 busy_lag_s=None)
    assert parse_args(worker_argv("python", 1, 40124, never.serve_args)[3:]).busy_lag == 0.0  # 0: never
    assert args.level == "L2" and args.kiosk and args.server
    with pytest.raises(ValueError):
        Plan(workers=0, host="127.0.0.1", port=1, haproxy=Path("x"), max_sessions=1)


def test_the_public_url_names_a_reachable_host():
    assert public_url("0.0.0.0", 8080) == "http://localhost:8080/"
    assert public_url("::1", 80) == "http://[::1]:80/"
    assert public_url("192.0.2.4", 9000) == "http://192.0.2.4:9000/"
