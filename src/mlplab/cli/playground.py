"""``mlplab playground``: serve the page that shows a network learning, in a browser."""

from __future__ import annotations

import errno
import importlib.util
import logging
import socket
import webbrowser

import click

from mlplab.cli.options import playground_engine_option
from mlplab.engines import get_engine
from mlplab.errors import ConfigError

__all__ = ["playground"]

WILDCARDS = ("0.0.0.0", "::", "")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="A host name browsers may reach this server by (repeatable); needed past loopback.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser.")
@playground_engine_option
def playground(
    host: str, port: int, allow_hosts: tuple[str, ...], open_browser: bool, engine: str
) -> None:
    """Watch a network learn in the browser: every tab trains its own mlplab network.

    Binds to 127.0.0.1 unless told otherwise; only pages served by this server
    may drive it. Bound beyond loopback (``--host 0.0.0.0``), it answers only to
    the local names and those given with ``--allow-host`` (a page reached by any
    other name, as in a DNS-rebinding attack, is refused). Stop with Ctrl-C.
    Every tab trains with ``--engine`` (auto: the compiled JAX engine when installed).
    """
    try:
        import uvicorn

        from mlplab.playground.app import LOCAL_HOSTS, create_app
        from mlplab.playground.serving import server_config
    except ImportError as e:
        raise ConfigError(
            f"the playground needs the web extra ({e.name} is missing): pip install 'mlplab[web]'"
        ) from None
    engine = _engine(engine)
    named = [h.strip("[]") for h in allow_hosts]
    hosts = [*LOCAL_HOSTS, *named, *([] if host in WILDCARDS else [host])]
    shown = named[0] if named else ("127.0.0.1" if host in WILDCARDS else host)
    _quiet_refusals()
    sock = _bind(host, port)
    app = create_app(allowed_hosts=hosts, engine=engine)
    config = server_config(app, log_level="warning", lifespan="off")
    try:
        _serve(uvicorn.Server(config), sock, f"[{shown}]" if ":" in shown else shown, open_browser)
    finally:
        app.state.hub.close()


def _engine(choice: str) -> str:
    """``numpy`` or ``jax`` (imported now, not by the first tab): ``auto`` takes JAX when it is
    installed. ``jax`` without JAX is the engines' one-line error."""
    if choice == "auto":
        if importlib.util.find_spec("jax") is None:
            return "numpy"
        try:
            get_engine("jax")
        except ConfigError:
            return "numpy"
        return "jax"
    get_engine(choice)
    return choice


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, or a one-line ``ConfigError`` (a port taken, a bad address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use: stop what holds it or choose "
                f"another with --port (--port 0 picks a free one)"
            ) from None
        raise ConfigError(f"cannot listen on {host} port {port}: {e.strerror or e}") from None
    sock.set_inheritable(True)
    return sock


class _HandshakeNoise(logging.Filter):
    """Drop uvicorn's error after a refused handshake: the playground logs its own line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing handshake" not in record.getMessage()


def _quiet_refusals() -> None:
    from mlplab.playground.serving import OneLineErrors

    logging.getLogger("uvicorn.error").addFilter(_HandshakeNoise())
    logging.getLogger("uvicorn.error").addFilter(OneLineErrors())
    ours = logging.getLogger("mlplab.playground")
    if not ours.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("mlplab playground: %(message)s"))
        ours.addHandler(handler)
        ours.setLevel(logging.INFO)
        ours.propagate = False


def _serve(server: object, sock: socket.socket, name: str, open_browser: bool) -> None:
    """Serve on ``sock``, printing the address to open once serving."""
    import asyncio

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))  # type: ignore[attr-defined]
        while not server.started:  # type: ignore[attr-defined]
            if task.done():
                return await task
            await asyncio.sleep(0.05)
        url = f"http://{name}:{sock.getsockname()[1]}/"
        click.echo(f"mlplab playground: {url}  (Ctrl-C to stop)")
        if open_browser:
            webbrowser.open(url)
        await task

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has shut down and passes the signal on
        click.echo("mlplab playground: stopped")
    finally:
        sock.close()
