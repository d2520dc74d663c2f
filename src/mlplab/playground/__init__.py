"""The playground: a web page that watches an mlplab network learn.

``session`` holds one tab's state (its ``data``, network and settings), trains it in time
slices (``trainer``, through ``MLP.fit``; ``compiled`` for the JAX engine's programs), and
turns it into what the page is sent (``frames``) or a program (``code``); ``app`` serves the
page and streams each session over a WebSocket at ``/ws``; ``schema`` validates every client
message against limits; ``serving`` runs it under uvicorn within limits. Nothing here is
imported by ``import mlplab``: the web stack is the ``web`` extra.
"""
