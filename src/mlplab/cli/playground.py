"""``mlplab playground``: serve the page that shows a network learning, in a browser."""

from __future__ import annotations

import webbrowser

import click

from mlplab.errors import ConfigError

__all__ = ["playground"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser.")
def playground(host: str, port: int, open_browser: bool) -> None:
    """Watch a network learn in the browser: every tab trains its own mlplab network.

    Binds to 127.0.0.1 unless told otherwise; only pages served by this server
    may drive it. Stop with Ctrl-C.
    """
    try:
        import uvicorn

        from mlplab.playground.app import LOCAL_HOSTS, create_app
    except ImportError as e:
        raise ConfigError(
            f"the playground needs the web extra ({e.name} is missing): pip install 'mlplab[web]'"
        ) from None
    name = f"[{host}]" if ":" in host else host
    hosts = ["*"] if host in ("0.0.0.0", "::") else [*LOCAL_HOSTS, host]
    config = uvicorn.Config(
        create_app(allowed_hosts=hosts),
        host=host,
        port=port,
        log_level="warning",
        ws_max_size=1 << 20,
        lifespan="off",
    )
    _serve(uvicorn.Server(config), name, open_browser)


def _serve(server: object, name: str, open_browser: bool) -> None:
    """Serve, printing the address once bound (``--port 0`` picks a free port)."""
    import asyncio

    async def serve() -> None:
        task = asyncio.create_task(server.serve())  # type: ignore[attr-defined]
        while not server.started:  # type: ignore[attr-defined]
            if task.done():
                return await task
            await asyncio.sleep(0.05)
        sock = server.servers[0].sockets[0]  # type: ignore[attr-defined]
        url = f"http://{name}:{sock.getsockname()[1]}/"
        click.echo(f"mlplab playground: {url}  (Ctrl-C to stop)")
        if open_browser:
            webbrowser.open(url)
        await task

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has shut down and passes the signal on
        click.echo("mlplab playground: stopped")
