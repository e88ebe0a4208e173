"""The service's settings: one typed object, read at the edge (``prudent serve``, ``create_app``).

Every field can be given as an environment variable ``PRUDENT_<FIELD>`` (for example
``PRUDENT_PORT=9000``) or as a keyword argument; keyword arguments win. Library code never reads
the environment: only ``prudent.api`` and ``prudent.cli`` build a :class:`Settings`.

Examples
--------
>>> s = Settings(bundle="model", port=9000)
>>> s.port, s.host, s.max_rows
(9000, '127.0.0.1', 1024)
>>> Settings.load(port=0)
Traceback (most recent call last):
...
prudent.errors.ConfigError: Setting port is invalid: Input should be ... 1; 0 was given.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from prudent._defaults import HOST, LOG_DB, MODEL_NAME, PORT, WORKERS
from prudent.errors import ConfigError

__all__ = ["Settings", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Return whether ``host`` names only this machine (127.0.0.0/8, ::1 or ``localhost``).

    Parameters
    ----------
    host
        A host name or IP address.

    Returns
    -------
    bool
        True for a loopback address.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0"), is_loopback("localhost")
    (True, False, True)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Everything ``prudent serve`` can be told; see the module docstring for the sources."""

    model_config = SettingsConfigDict(
        env_prefix="PRUDENT_",
        extra="forbid",
        use_attribute_docstrings=True,
        validate_default=True,
        populate_by_name=True,
    )

    bundle: Path | None = None
    """The bundle directory to serve (written by ``prudent fit``)."""
    host: str = HOST
    """The address to listen on; ``0.0.0.0`` exposes the service to the network."""
    port: int = Field(PORT, ge=1, le=65535)
    """The TCP port to listen on."""
    workers: int = Field(WORKERS, ge=1, le=64)
    """Server processes; more than one needs PostgreSQL for the log to scale."""
    log_db: str = LOG_DB
    """The prediction log: ``sqlite:///file.db`` (relative to the working folder) or
    ``postgresql://user@host/db``."""
    synchronous: Literal["FULL", "NORMAL"] = "FULL"
    """SQLite only: ``FULL`` survives power loss, ``NORMAL`` survives a process crash."""
    review_audit_share: float = Field(0.01, ge=0.0, le=1.0)
    """Share of accepted predictions also queued for review (as audit cases), so that their
    accuracy is measured on labels drawn without bias; 0 turns the audit off."""
    burn_in_interval: float = Field(300.0, ge=0.0)
    """``prudent serve --registry``: seconds between burn-in checks of the last promotion (the
    new champion is rolled back when its accuracy falls below the previous one's interval);
    0 turns the rule off."""
    shadow: Path | None = None
    """A second bundle (``prudent serve --shadow``) that scores every request off the response
    path; its answers are stored under the same prediction ids, never served."""
    shadow_timeout_ms: float = Field(2000.0, gt=0)
    """The shadow's answers to a batch that took longer than this are dropped (counted)."""
    shadow_queue_size: int = Field(64, ge=1)
    """Requests waiting for the shadow; more are dropped at once (counted), never waited for."""
    shadow_nice: int = Field(10, ge=0, le=19)
    """Niceness added to the shadow's process once it has loaded its bundle, so that the
    kernel gives the cores to the responses first (0 leaves its priority as the service's)."""
    model_name: str = Field(MODEL_NAME, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
    """The model's name in the Open Inference Protocol (``/v2/models/<name>``)."""
    tokens_file: Path | None = None
    """A YAML or JSON file of API tokens (name, SHA-256 of the token, roles, rate limit);
    create entries with ``prudent token add``; the service reads it again when it changes."""
    no_auth: bool = False
    """Serve without tokens (every caller is admin); allowed only on a loopback host."""
    max_body_bytes: int = Field(1 << 20, ge=1024)
    """Largest request body accepted; a larger one gets 413 before it is read whole."""
    max_rows: int = Field(1024, ge=1)
    """Most rows in one prediction request."""
    max_string_chars: int = Field(10_000, ge=1)
    """Longest string value accepted in a request."""
    max_concurrency: int = Field(2, ge=1, le=256)
    """Predictions computed at once (threads running the model)."""
    model_process: bool = True
    """Score the model in a process of its own, so that it never holds the HTTP server's
    interpreter lock (with 8 concurrent clients on 2 cores, about 1.6 times the answers per
    second); the service scores in process while that process starts or restarts. A script
    that serves must guard its entry point (``if __name__ == "__main__":``)."""
    model_threads: int = Field(1, ge=1, le=256)
    """Threads one prediction may use inside numpy, scikit-learn and LightGBM (BLAS and OpenMP
    pools); predictions already run in parallel on ``max_concurrency`` threads, so the default
    1 keeps them from oversubscribing the cores (on 2 shared cores, a 1-row prediction took
    90 ms with the libraries' default pools and 23 ms with 1 thread)."""
    queue_size: int = Field(32, ge=0)
    """Requests allowed to wait for a free slot; more get 503 at once."""
    deadline_ms: float = Field(2000.0, gt=0)
    """Time within which every prediction request is answered (a backup or review answer if
    the primary model is too slow)."""
    primary_share: float = Field(0.6, gt=0, lt=1)
    """Share of the deadline the primary model gets before the backup model is asked."""
    batch_rows: int = Field(256, ge=1)
    """Most rows of requests that arrive while the model threads are busy scored together in
    one call (dynamic micro-batching; an idle service starts each request at once); 1 scores
    every request alone."""
    shutdown_timeout_s: float = Field(8.0, gt=0)
    """On SIGTERM, how long requests already started may take to finish."""
    monitor_interval_s: float = Field(60.0, ge=0)
    """Seconds between evaluations of the alert rules on the log (one evaluator across
    replicas holds a lease in the log's database); 0 turns the service's evaluation off."""
    alerts: Path | None = None
    """Alert rules overriding the shipped ``alerts.yaml`` key by key."""
    alert_webhook: str | None = Field(None, pattern=r"^https?://")
    """Where each alert is POSTed as JSON (once firing, once resolved), besides the log."""
    prometheus_multiproc_dir: Path | None = Field(None, validation_alias="PROMETHEUS_MULTIPROC_DIR")
    """Folder for prometheus_client's multi-process metrics (set with several workers)."""

    @model_validator(mode="after")
    def _no_auth_on_loopback_only(self) -> Self:
        if self.no_auth and not is_loopback(self.host):
            raise ValueError(
                f"no_auth is allowed only on a loopback host, but host is {self.host!r}; "
                "give a tokens file (--tokens) or listen on 127.0.0.1."
            )
        return self

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Build settings from the environment and ``overrides``, naming a bad key in the error.

        Parameters
        ----------
        **overrides
            Field values that win over the environment; ``None`` values are ignored.

        Returns
        -------
        Settings
            The validated settings.

        Raises
        ------
        ConfigError
            Naming the ``PRUDENT_*`` variable at fault, or the keyword (a command line's
            option: ``port`` for ``--port``) and the number given, and what it must be.
        """
        given = {k: v for k, v in overrides.items() if v is not None}
        try:
            return cls(**given)
        except ValidationError as exc:
            first = exc.errors()[0]
            message = str(first["msg"]).removeprefix("Value error, ").rstrip(".")
            if not first["loc"]:
                raise ConfigError(f"Settings are invalid: {message}.") from None
            key = str(first["loc"][0])
            env = key if key.isupper() else f"PRUDENT_{key.upper()}"
            if key in given:  # an option or keyword, not the environment
                value = given[key]  # a number shown; a URL or path may hold a password
                shown = f"; {value!r} was given" if isinstance(value, int | float) else ""
                raise ConfigError(f"Setting {key} is invalid: {message}{shown}.") from None
            raise ConfigError(f"Setting {env} is invalid: {message}.") from None
