"""Record NAPALM contract-suite data from a real FRR router (not a test; run by hand).

Every vtysh command a getter sends is saved as ``mocked_data/<test>/<case>/<command>.txt``
(the name NAPALM's ``BaseTestDouble.sanitize_text`` gives it) together with what the getter
returned as ``expected_result.json``; ``test_napalm_frr_getters.py`` replays them.

    python tests/integration/napalm_frr/record_mocked_data.py --port 22771 \
        --username USER --password-env FRR_PASSWORD --case r1 test_get_facts ...

Check the expected results by eye against the raw outputs before committing them: a
recording is only as right as the driver that made it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from napalm_frr import FRRDriver

HERE = Path(__file__).resolve().parent / "mocked_data"

GETTERS: dict[str, Callable[[FRRDriver], Any]] = {
    "test_is_alive": lambda d: d.is_alive(),
    "test_get_facts": lambda d: d.get_facts(),
    "test_get_interfaces": lambda d: d.get_interfaces(),
    "test_get_interfaces_ip": lambda d: d.get_interfaces_ip(),
    "test_get_bgp_neighbors": lambda d: d.get_bgp_neighbors(),
    "test_get_route_to": lambda d: d.get_route_to(destination="1.0.4.0/24", protocol="bgp"),
    "test_get_route_to_longer": lambda d: d.get_route_to(
        destination="1.0.4.0/24", protocol="bgp", longer=True
    ),
    "test_get_config": lambda d: d.get_config(),
    "test_get_config_filtered": lambda d: [
        d.get_config(retrieve=store) for store in ("running", "startup", "candidate")
    ][-1],
    "test_get_config_sanitized": lambda d: d.get_config(sanitized=True),
    "test_get_config_sanitized_filtered": lambda d: {
        "running": d.get_config(retrieve="running", sanitized=True)["running"],
        "startup": d.get_config(retrieve="startup", sanitized=True)["startup"],
        "candidate": "",
    },
}


def sanitize_text(text: str) -> str:
    """Same as napalm.base.test.double.BaseTestDouble.sanitize_text."""
    return re.sub("[^a-zA-Z0-9]", "_", text)[0:150]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password-env", default="FRR_PASSWORD")
    parser.add_argument("--case", required=True)
    parser.add_argument("tests", nargs="*", default=list(GETTERS))
    args = parser.parse_args()

    driver = FRRDriver(
        args.host,
        args.username,
        os.environ[args.password_env],
        timeout=20,
        optional_args={"port": args.port},
    )
    driver.open()
    transport = driver._transport
    real_show = transport.show
    try:
        for test in args.tests:
            folder = HERE / test / args.case
            folder.mkdir(parents=True, exist_ok=True)

            def recording_show(command: str, timeout: float | None = None, f: Path = folder) -> str:
                output = str(real_show(command, timeout))
                (f / f"{sanitize_text(command)}.txt").write_text(output + "\n")
                return output

            transport.show = recording_show
            result = json.loads(json.dumps(GETTERS[test](driver)))
            (folder / "expected_result.json").write_text(json.dumps(result, indent=2) + "\n")
            print(f"recorded {test}/{args.case}")
    finally:
        transport.show = real_show
        driver.close()


if __name__ == "__main__":
    main()
