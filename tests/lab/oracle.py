"""The kernel as the oracle of reach tests: a script that tries real connections from a namespace."""

# Run in the source namespace with the targets as JSON, [[proto, address, port], ...]: tries every
# target at once and prints a JSON list, True where a TCP connection (or a UDP echo) worked. An
# optional second argument is the seconds to wait (default 1.5).
PROBE = r"""
import json, socket, sys
from concurrent.futures import ThreadPoolExecutor
WAIT = float(sys.argv[2]) if len(sys.argv) > 2 else 1.5
def probe(t):
    proto, addr, port = t
    try:
        if proto == "tcp":
            with socket.create_connection((addr, port), timeout=WAIT):
                return True
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(WAIT)
        s.sendto(b"drift", (addr, port))
        return s.recv(64) == b"drift"
    except OSError:
        return False
with ThreadPoolExecutor(64) as ex:
    print(json.dumps(list(ex.map(probe, json.loads(sys.argv[1])))))
"""
