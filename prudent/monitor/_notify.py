"""Send alert incidents to a webhook: one message when an incident fires, one when it resolves.

Each message is a JSON POST carrying the rule, the window it fired in (and resolved in), the
breaching windows and the threshold. A failed POST (a network error or a 5xx) is retried with
exponential backoff; a 4xx is not retried. What was sent is remembered in a small JSON state
file keyed by rule and firing window, so running ``prudent monitor --webhook`` every hour sends
each incident once and its resolve once, never again.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from prudent.errors import ConfigError
from prudent.monitor._alerts import Incident

__all__ = ["check_webhook", "notify_incidents", "post_json"]


def _post(url: str, payload: dict[str, Any], timeout: float) -> int:
    body = json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def post_json(
    url: str,
    payload: dict[str, Any],
    retries: int = 3,
    backoff: float = 0.5,
    timeout: float = 5.0,
) -> bool:
    """POST ``payload`` as JSON; retry a network error or a 5xx with exponential backoff.

    Parameters
    ----------
    url
        The webhook.
    payload
        The message.
    retries
        Retries after the first attempt.
    backoff
        Seconds before the first retry; doubled each time.
    timeout
        Seconds for one POST.

    Returns
    -------
    bool
        Whether a 2xx answered (a 4xx is not retried).
    """
    for attempt in range(retries + 1):
        try:
            status = _post(url, payload, timeout)
        except (urllib.error.URLError, OSError):
            status = 0
        if 200 <= status < 300:
            return True
        if 400 <= status < 500:
            return False
        if attempt < retries:
            time.sleep(backoff * 2**attempt)
    return False


def check_webhook(url: str) -> str:
    """Return ``url`` when it is an http(s) URL, else raise ``ConfigError``."""
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"Webhook URL {url!r} must start with http:// or https://.")
    return url


def _payload(incident: Incident, state: str) -> dict[str, Any]:
    return {
        "status": state,
        "rule": incident.rule,
        "fired": incident.fired,
        "resolved": incident.resolved,
        "windows": list(incident.windows),
        "threshold": incident.threshold,
    }


def _load(path: Path | None) -> dict[str, str]:
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"Alert state file '{path}' is not readable JSON ({exc}); fix or remove it."
        ) from exc
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _save(path: Path | None, state: dict[str, str]) -> None:
    if path is None:
        return
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)


def notify_incidents(
    incidents: Sequence[Incident],
    url: str,
    *,
    state_file: Path | None = None,
    retries: int = 3,
    backoff: float = 0.5,
    timeout: float = 5.0,
    send: Callable[[str, dict[str, Any]], bool] | None = None,
) -> list[dict[str, Any]]:
    """Post each incident's firing and resolve to ``url`` once, remembering them in a file.

    Parameters
    ----------
    incidents
        From :func:`evaluate_rules`.
    url
        The webhook (``http://`` or ``https://``).
    state_file
        Where what was sent is remembered; without it every call sends everything again.
    retries
        Retries of a POST that failed by network error or 5xx.
    backoff
        Seconds before the first retry; doubled each time.
    timeout
        Seconds for one POST.
    send
        Replaces the HTTP POST (``(url, payload) -> delivered``).

    Returns
    -------
    list of dict
        The messages delivered in this call.

    Raises
    ------
    ConfigError
        For a URL that is not http(s) or an unreadable state file.
    """
    check_webhook(url)
    post = send or (lambda u, p: post_json(u, p, retries, backoff, timeout))
    state = _load(state_file)
    delivered: list[dict[str, Any]] = []
    for incident in incidents:
        key = f"{incident.rule}|{incident.fired}"
        wanted = [] if state.get(key) == "resolved" else ["firing"] if key not in state else []
        if incident.resolved is not None and state.get(key) != "resolved":
            wanted.append("resolved")
        for status in wanted:
            payload = _payload(incident, status)
            if not post(url, payload):
                break
            state[key] = status
            delivered.append(payload)
    _save(state_file, state)
    return delivered
