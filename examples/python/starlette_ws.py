"""A Starlette WebSocket chat echo for ferry's ASGI gateway:

    deno task start --asgi starlette_ws:app --wsgi-chdir examples/python --wsgi-python /usr/bin/python3

then open ws://localhost:8080/ws (offering the "chat" subprotocol is optional): every message comes
back, "bye" closes the socket with code 4000. ferry runs the WebSocket protocol itself (deflate,
limits, pings, metrics); the app sees ASGI websocket messages.
"""

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


async def home(request):
    return PlainTextResponse("connect a WebSocket to /ws\n")


async def chat(websocket: WebSocket):
    offered = websocket.scope.get("subprotocols", [])
    await websocket.accept(subprotocol="chat" if "chat" in offered else None)
    try:
        while True:
            message = await websocket.receive_text()
            if message == "bye":
                await websocket.close(code=4000)
                return
            await websocket.send_text("echo: " + message)
    except WebSocketDisconnect:
        pass


app = Starlette(routes=[Route("/", home), WebSocketRoute("/ws", chat)])
