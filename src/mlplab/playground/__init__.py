"""The playground: a web page that watches an mlplab network learn.

``session`` holds one tab's data, network and training (NumPy and mlplab only);
``app`` serves the page and streams each session over a WebSocket at ``/ws``;
``schema`` validates every client message against limits. Nothing here is
imported by ``import mlplab``: the web stack is the ``web`` extra.
"""
