"""Serving under load: single-image requests to ``mlpkit serve`` over loopback, at
concurrency 1, 16 and 64; throughput and p50/p99 latency, beside a plain endpoint
that calls ``model.predict`` per request (what one writes first; TensorFlow Serving
cannot be installed here).

Each request is one Fashion-MNIST test image as an Open Inference Protocol JSON
request (784 FP32 values), to the lecture's 300-100 model. The load comes from
Debian's ``wrk`` (compiled, one thread, leaving the cores to the server) when
installed, else from a bounded Python generator. Every run is bounded in time.

    python benchmarks/bench_serving.py [SECONDS]        # seconds per concurrency (8)
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import PYTHON, emit, load_average, mlpkit_cmd

CONCURRENCY = (1, 16, 64)
GOAL_RPS, GOAL_P99_MS = 1000, 25.0
PATH = "/v2/models/fashion/infer"

# the plain endpoint: parse, model.predict, answer; nothing else
BASELINE = '''
import json, sys
import numpy as np, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
import mlpkit

model = mlpkit.load_run(sys.argv[1]).model

async def infer(request):
    tensor = json.loads(await request.body())["inputs"][0]
    x = np.asarray(tensor["data"], np.float32).reshape(tensor["shape"])
    y = model.predict(x, verbose=0)
    return JSONResponse({"outputs": [{"name": "output", "datatype": "FP32",
                                      "shape": list(y.shape), "data": y.ravel().tolist()}]})

async def ready(request):
    return JSONResponse({"ready": True})

model.predict(np.zeros((1, 28, 28), np.float32), verbose=0)
app = Starlette(routes=[Route("/v2/models/fashion/infer", infer, methods=["POST"]),
                        Route("/v2/health/ready", ready)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 180) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/health/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server not ready in time")


def train_run(folder: Path) -> Path:
    """The lecture's model (300-100), trained briefly: its weights do not change its speed."""
    import mlpkit
    from mlpkit.data.dataset import Dataset

    ds = mlpkit.load_dataset("fashion-mnist")
    small = Dataset(ds.name, ds.task, ds.x_train[:5000], ds.y_train[:5000], ds.x_valid[:500],
                    ds.y_valid[:500], ds.x_test[:500], ds.y_test[:500], ds.class_names,
                    source=ds.source, image=ds.image, kind=ds.kind)
    mlpkit.train(small, preset="seed", epochs=1, out=folder / "run", verbose=0)
    return folder / "run"


def request_body() -> bytes:
    import mlpkit

    x = mlpkit.load_dataset("fashion-mnist").x_test[0]
    return json.dumps({"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32",
                                   "data": [round(float(v), 4) for v in x.ravel()]}]}).encode()


# --- load generators ----------------------------------------------------------------

def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def with_wrk(url: str, body_file: Path, concurrency: int, seconds: int) -> dict:
    script = body_file.with_suffix(".lua")
    script.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                      f'local f = io.open("{body_file}", "rb")\nwrk.body = f:read("*all")\n'
                      "f:close()\n")
    out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency",
                          "--timeout", "10s", "-s", str(script), url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"unexpected output of wrk:\n{out}")
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)$", out, re.M)
    return {"requests_per_second": round(float(re.search(r"Requests/sec:\s+([\d.]+)", out)
                                               .group(1)), 1),
            "p50_ms": round(_ms(latency["50"]), 2), "p99_ms": round(_ms(latency["99"]), 2),
            "requests": total, "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(1).strip() if errors else ""}


def with_python(url: str, body: bytes, concurrency: int, seconds: int) -> dict:
    """A bounded asyncio generator on raw keep-alive connections (when wrk is missing)."""
    host, port = re.match(r"http://([^:/]+):(\d+)", url).groups()
    path = url.split(port, 1)[1]
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    latencies, bad = [], [0]

    async def worker(deadline):
        reader, writer = await asyncio.open_connection(host, int(port))
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            writer.write(head + body)
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            bad[0] += b" 200 " not in status
        writer.close()

    async def main():
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*[worker(deadline) for _ in range(concurrency)])

    start = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - start
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3  # noqa: E731
    return {"requests_per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": round(pick(0.5), 2), "p99_ms": round(pick(0.99), 2),
            "requests": len(latencies), "non_2xx": bad[0], "socket_errors": ""}


def measure(port: int, body_file: Path, seconds: int, loads: list) -> dict:
    url = f"http://127.0.0.1:{port}{PATH}"
    load = (lambda c, s: with_wrk(url, body_file, c, s)) if shutil.which("wrk") else (
        lambda c, s: with_python(url, body_file.read_bytes(), c, s))
    load(16, 2)  # warm the connections and the server's code paths
    out = {}
    for c in CONCURRENCY:
        loads.append(load_average())
        out[f"c{c}"] = load(c, seconds)
        loads.append(load_average())
    return out


def serve(cmd: list[str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MLPKIT_SERVE_BATCH_WINDOW_MS": "0"})
    wait_ready(port, proc)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def main(seconds: int = 8) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="mlpkit-bench-serving-"))
    loads: list[float] = []
    try:
        run = train_run(folder)
        body_file = folder / "body.json"
        body_file.write_bytes(request_body())
        port = free_port()
        proc = serve(mlpkit_cmd("serve", run, "--port", port, "--name", "fashion"), port)
        try:
            ours = measure(port, body_file, seconds, loads)
        finally:
            stop(proc)
        port = free_port()
        (folder / "baseline.py").write_text(BASELINE)
        proc = serve([PYTHON, str(folder / "baseline.py"), str(run), str(port)], port)
        try:
            plain = measure(port, body_file, seconds, loads)
        finally:
            stop(proc)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    c16 = ours["c16"]
    return emit({
        "figure": "serving_load", "title": "serving: one image a request, over loopback",
        "goal": f">= {GOAL_RPS:,} requests/s at concurrency 16 with p99 <= {GOAL_P99_MS:g} ms",
        "holds": c16["requests_per_second"] >= GOAL_RPS and c16["p99_ms"] <= GOAL_P99_MS,
        "mlpkit_serve": ours, "plain_model_predict": plain,
        "request": "Open Inference Protocol JSON, 1x28x28 FP32, lecture's 300-100 model",
        "load_generator": "wrk -t1" if shutil.which("wrk") else "python asyncio",
        "seconds_per_concurrency": seconds, "goal_rps": GOAL_RPS, "goal_p99_ms": GOAL_P99_MS,
    }, loads)


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
